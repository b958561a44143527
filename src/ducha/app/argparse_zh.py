"""argparse in Chinese: the framing (用法、位置参数、选项), its error messages, widths that count a Chinese character as
two columns, and a suggestion for a mistyped command.

argparse takes its words from gettext (`argparse._`, `argparse.ngettext`); `install()` puts a function there that
answers argparse's own messages in Chinese and passes anything else to gettext unchanged. The same width rules wrap
and cut the console's lines (`wrap`, `fit`).
"""

from __future__ import annotations

import argparse
import difflib
import gettext
import re
import sys
from typing import Any, NoReturn

from rich.cells import cell_len

MESSAGES = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "subcommands": "子命令",
    "show this help message and exit": "显示此帮助并退出",
    "show program's version number and exit": "显示版本号并退出",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s。请用 --help 查看可用的参数",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "必须给出以下参数之一：%s",
    "expected one argument": "后面需要跟一个值",
    "expected at most one argument": "后面最多跟一个值",
    "expected at least one argument": "后面至少需要跟一个值",
    "not allowed with argument %s": "不能与 %s 同时使用",
    "ignored explicit argument %r": "不接受值 %r",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "invalid %(type)s value: %(value)r": "无效的值「%(value)s」",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择「%(value)s」（可选：%(choices)s）",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知命令「%(parser_name)s」（可选：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开「%(filename)s」：%(error)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
}
PLURALS = {"expected %s argument": "后面需要跟 %s 个值"}
TYPE_NAMES = {"int": "整数", "float": "数字"}
# Characters that must not begin a line (so a wrapped line never starts with a lone "。").
NO_LINE_START = set("，。、；：？！）」』”’》…")
# Runs of Latin letters, digits and path characters (with placeholders like <原名>) are never broken across lines.
# One argument of a usage line: a bracketed group (one level of nesting) or a word.
USAGE_PART = re.compile(r"\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\]|\S+")
TOKEN = re.compile(r"(?:<[^<>\s]*>|[A-Za-z0-9_.\-/\\@:*%+='])+|\s+|.")


def translate(message: str) -> str:
    """argparse's message in Chinese; any other message through gettext as before."""
    return MESSAGES.get(message) or gettext.gettext(message)


def ntranslate(singular: str, plural: str, n: int) -> str:
    return PLURALS.get(singular) or gettext.ngettext(singular, plural, n)


def install() -> None:
    """Make argparse speak Chinese (it looks its words up in these two module globals at call time)."""
    argparse._ = translate  # type: ignore[attr-defined]
    argparse.ngettext = ntranslate  # type: ignore[attr-defined]


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns (a Chinese character is two); Latin words and numbers stay whole, and no
    line starts with closing punctuation."""
    lines: list[str] = []
    line, used = "", 0
    for token in TOKEN.findall(" ".join(text.split())):
        size = cell_len(token)
        if used + size > width and line.strip() and token[0] not in NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
            if token.isspace():
                continue
        line += token
        used += size
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def fit(text: str, width: int) -> str:
    """`text` on one line of at most `width` columns, cut at a word's end with "…" when it is longer."""
    if cell_len(text) <= width:
        return text
    kept, used = "", 0
    for token in TOKEN.findall(text):
        if used + cell_len(token) > width - 1:
            break
        kept += token
        used += cell_len(token)
    return kept.rstrip(" ，、；：") + "…"


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help with Chinese headings and colons, aligned and wrapped by display width."""

    def start_section(self, heading: str | None) -> None:
        self._headings = [*getattr(self, "_headings", []), heading]
        super().start_section(heading)

    def format_help(self) -> str:
        text = super().format_help()
        for heading in getattr(self, "_headings", []):
            if heading:
                text = text.replace(f"{heading}:\n", f"{heading}：\n")
        return text

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            invocations = [self._format_action_invocation(a) for a in [action, *self._iter_indented_subactions(action)]]
            widest = max(cell_len(i) for i in invocations) + self._current_indent
            self._action_max_length = max(self._action_max_length, widest)

    def _format_action(self, action: argparse.Action) -> str:
        if isinstance(action, argparse._SubParsersAction):  # the commands under their heading, without a 「命令」 row
            return self._join_parts([self._format_action(sub) for sub in action._get_subactions()])
        text = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        extra = cell_len(invocation) - len(invocation)
        padded = invocation + " " * (extra + 2)
        return text.replace(padded, invocation + "  ", 1) if extra and padded in text else text

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        """argparse's usage, refilled by display width, continuation lines under the first argument."""
        text = super()._format_usage(usage, actions, groups, prefix)
        head = (prefix if prefix is not None else translate("usage: ")) + self._prog
        body = " ".join(text.split())
        if not body.startswith(head):
            return text
        indent = " " * (cell_len(head) + 1)
        lines, line = [], head
        for part in USAGE_PART.findall(body[len(head):]):
            if cell_len(line) + 1 + cell_len(part) > self._width and line.strip() != head.strip():
                lines.append(line)
                line = indent + part
            else:
                line += " " + part
        return "\n".join([*lines, line]) + "\n\n"

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


class UsageError(SystemExit):
    """An argument error (exit 2) that keeps its Chinese message, so `--json` can still print one object."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are Chinese; a mistyped choice or command gets the nearest one."""

    is_command = False  # a subcommand's parser: it reports arguments it does not know itself, with its own usage

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        install()
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", SubParsersAction)

    def error(self, message: str) -> NoReturn:
        """Usage and message on stderr, as argparse does, then a `UsageError` carrying the message."""
        self.print_usage(sys.stderr)
        sys.stderr.write(translate("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message})
        raise UsageError(message)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and self.is_command:
            self.error(translate("unrecognized arguments: %s") % " ".join(extras))
        return namespace, extras

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        nearest = difflib.get_close_matches(str(value), names, n=1, cutoff=0.5)
        hint = f"，您是否想输入「{nearest[0]}」？" if nearest else f"。可选：{'、'.join(names)}。"
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(None, f"未知命令「{value}」{hint}"
                                               + ("" if nearest else "用 ducha --help 查看全部命令。"))
        raise argparse.ArgumentError(action, f"无效的选择「{value}」{hint}")

    def _get_value(self, action: argparse.Action, text: str) -> Any:
        try:
            return super()._get_value(action, text)
        except argparse.ArgumentError:
            kind = TYPE_NAMES.get(getattr(action.type, "__name__", ""), "")
            if not kind:
                raise
            raise argparse.ArgumentError(action, f"「{text}」不是{kind}") from None


class SubParsersAction(argparse._SubParsersAction):
    """Subcommands whose parsers report their own unknown arguments (argparse leaves that to the main parser)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = super().add_parser(name, **kwargs)
        if isinstance(parser, ArgumentParser):
            parser.is_command = True
        return parser
