"""The `ducha` command line: the same pipeline as the ribbon, on files."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ducha import __version__
from ducha.adapters.xlsx_writer import apply_plan
from ducha.app.commands import (
    BY_NAME,
    COMMANDS,
    SIZE_GATE,
    TABLE,
    Command,
    CommandResult,
    too_large_message,
    too_large_sheets,
)
from ducha.app.logs import log_path, setup_logging
from ducha.checks.pipeline import CheckResult
from ducha.model.findings import Severity, count_by_severity
from ducha.prefecture.archive import STATUS_NAMES
from ducha.reading.raw import UnreadableWorkbook
from ducha.reading.workbook import ParsedWorkbook, read_workbook
from ducha.scoring.export import evaluation_dict
from ducha.scoring.rubric import DEFAULT_RUBRIC, Rubric, RubricError, load_rubric
from ducha.sheets.outputplan import OutputPlan
from ducha.sheets.score_sheet import ScoreOutput

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3
ARCHIVE_ENV, PASSWORD_ENV = "DUCHA_ARCHIVE", "DUCHA_PASSWORD"
SHOWN_FINDINGS = 15

log = logging.getLogger("ducha.cli")


class UserError(Exception):
    """A problem the user can fix; the message is Chinese. Carries the exit code (and the gate's refusal)."""

    def __init__(self, message: str, code: int = EXIT_UNREADABLE, refusal: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.refusal = refusal


Handler = Callable[[argparse.Namespace], int]
HANDLERS: dict[str, Handler] = {}


def handles(name: str) -> Callable[[Handler], Handler]:
    """Register the command-line function of the command `name` of the command table."""

    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@handles("schema")
def cmd_schema(args: argparse.Namespace) -> int:
    from ducha.model.schema import schema_as_dict

    print(json.dumps(schema_as_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK


@handles("template")
def cmd_template(args: argparse.Namespace) -> int:
    from ducha.adapters.writer import write_template

    out = Path(args.out) if args.out else Path.cwd() / "精准扶贫专题督查工作簿.xlsx"
    if out.is_dir():
        out = out / "精准扶贫专题督查工作簿.xlsx"
    write_template(out)
    _console().print(f"已生成空白督查工作簿：{out}")
    return EXIT_OK


def _parse(path: str) -> tuple[Path, ParsedWorkbook]:
    workbook = Path(path)
    try:
        return workbook, read_workbook(workbook)  # through the input gate (reading.gate)
    except UnreadableWorkbook as exc:
        log.info("%s: %s", workbook.name, exc.log_text)
        raise UserError(f"无法读取：{exc}。", refusal=exc.as_dict()) from None


def _rubric(args: argparse.Namespace) -> Rubric:
    if not getattr(args, "rubric", None):
        return DEFAULT_RUBRIC
    path = Path(args.rubric)
    if not path.exists():
        raise UserError(f"找不到评分细则文件：{path}。")
    try:
        return load_rubric(path)
    except RubricError as exc:
        raise UserError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"评分细则文件「{path.name}」无法读取：{exc}。") from None


def _write(source: Path, plan: OutputPlan, args: argparse.Namespace) -> Path:
    try:
        return apply_plan(source, plan, Path(args.out) if args.out else None, in_place=args.in_place)
    except PermissionError:
        raise UserError(f"无法写入结果：「{source.name}」可能正在 Excel 中打开，请关闭后重试。") from None
    except OSError as exc:
        raise UserError(f"无法写入结果文件：{exc.strerror or exc}。") from None


def _print_check(result: CheckResult) -> None:
    console = _console()
    counts = count_by_severity(result.findings)
    console.print(f"[bold]{result.title()}[/bold]")
    console.print(f"错误 {counts[Severity.ERROR]} 个，警告 {counts[Severity.WARNING]} 个，"
                  f"提示 {counts[Severity.INFO]} 个")
    table = Table(title="完整率（已填/应填）", show_lines=False)
    table.add_column("范围")
    table.add_column("完整率", justify="right")
    for item in result.per_sheet + result.per_village:
        table.add_row(item.scope, item.text())
    console.print(table)
    if result.findings:
        shown = Table(title=f"前 {min(SHOWN_FINDINGS, len(result.findings))} 个问题（共 {len(result.findings)} 个）")
        for column in ("严重程度", "位置", "问题"):
            shown.add_column(column, overflow="fold")
        for f in result.findings[:SHOWN_FINDINGS]:
            shown.add_row(f.severity.value, f"{f.sheet}!{f.cell}" if f.cell else f.sheet, f.message)
        console.print(shown)


def _print_score(score: ScoreOutput) -> None:
    card = score.card
    table = Table(title=f"{card.county or ''} {card.month or ''} 评分：{round(card.total, 2):g}/{card.max_total:g}"
                        f"（{card.rubric_name} {card.rubric_version}）")
    for column in ("项目", "得分", "满分", "扣分原因"):
        table.add_column(column, overflow="fold")
    for item in card.items:
        reasons = "；".join(f"{d.reason}（−{round(d.points, 2):g}）" for d in item.deductions)
        table.add_row(item.name, f"{round(item.points, 2):g}", f"{item.max_points:g}", reasons or "—")
    _console().print(table)
    if card.red_flags:
        _console().print("红旗：" + "；".join(f"{r.name} {r.value_text}" for r in card.red_flags))
    if score.flags:
        _console().print(f"需要跟进 {len(score.flags)} 处，见「跟进清单」。")


def _as_json(result: CommandResult, source: Path, output: Path | None) -> str:
    payload: dict = {"file": str(source), "output": str(output) if output else None}
    if result.check is not None:
        payload["counts"] = {s.name.lower(): n for s, n in count_by_severity(result.check.findings).items()}
        payload["completeness"] = [{"scope": c.scope, "answered": c.answered, "required": c.required}
                                   for c in result.check.per_sheet + result.check.per_village]
        payload["findings"] = [f.model_dump(mode="json") for f in result.check.findings]
    if result.score is not None:
        payload["score"] = result.score.card.model_dump(mode="json")
        payload["flags"] = [f.model_dump(mode="json") for f in result.score.flags]
        payload.update(evaluation_dict(result.score.judgments, result.score.indicators, result.score.card))
    return json.dumps(payload, ensure_ascii=False, indent=2)


def _run(name: str, args: argparse.Namespace) -> int:
    """A workbook command of the table on a file: parse, run, write a copy (or in place), print."""
    source, parsed = _parse(args.workbook)
    result = COMMANDS[name](source, parsed, _rubric(args))
    too_large = too_large_sheets(parsed) if SIZE_GATE in BY_NAME[name].gates else []
    output = None if too_large else _write(source, result.plan, args)
    if args.json:
        print(_as_json(result, source, output))
    else:
        if result.check is not None:
            _print_check(result.check)
        if result.score is not None:
            _print_score(result.score)
        _console().print(result.summary)
        if output is None:
            _console().print(too_large_message(too_large))
        else:
            _console().print(f"结果已写入：{output}")
    return EXIT_FINDINGS if result.has_errors else EXIT_OK


@handles("rubric")
def cmd_rubric(args: argparse.Namespace) -> int:
    """Write the rubric in use (default, or --rubric) as a 「评分细则」 workbook supervisors can edit."""
    from ducha.adapters.writer import write_generated_workbook
    from ducha.scoring.rubric import RUBRIC_SHEET
    from ducha.sheets.rubric_sheet import rubric_sheet

    out = Path(args.out) if args.out else Path.cwd() / "评分细则.xlsx"
    write_generated_workbook([rubric_sheet(_rubric(args))], out, title=RUBRIC_SHEET)
    _console().print(f"评分细则已写入：{out}。修改后用 `ducha score 工作簿 --rubric {out.name}` 使用。")
    return EXIT_OK


@handles("addin")
def cmd_addin(args: argparse.Namespace) -> int:
    """Build, install or uninstall the Excel add-in 督查助手.xlam."""
    from ducha.app.addin import AddinError, build_addin, install_addin, uninstall_addin

    try:
        if args.action == "build":
            path = build_addin(Path(args.out) if args.out else None)
            _console().print(f"已生成加载项：{path}")
            return EXIT_OK
        result = install_addin() if args.action == "install" else uninstall_addin()
    except AddinError as exc:
        raise UserError(str(exc)) from None
    _console(stderr=not result.ok).print(result.message)
    return result.exit_code


def _archive(args: argparse.Namespace):
    from ducha.prefecture.archive import DEFAULT_FOLDER, Archive

    folder = Path(args.archive or os.environ.get(ARCHIVE_ENV) or DEFAULT_FOLDER)
    try:
        return Archive(folder)
    except (OSError, sqlite3.Error) as exc:
        raise UserError(f"无法打开档案文件夹「{folder}」：{exc}。") from None


def _password(args: argparse.Namespace) -> str | None:
    return getattr(args, "password", None) or os.environ.get(PASSWORD_ENV) or None


@handles("intake")
def cmd_intake(args: argparse.Namespace) -> int:
    """Take in workbooks, folders, emails and zips; archive, check, score, flag; write receipts."""
    import glob

    from rich.progress import Progress, SpinnerColumn, TextColumn

    from ducha.prefecture.intake import RECEIPTS, Intake, Outcome

    # Windows' cmd does not expand wildcards: `ducha intake 收件\*.eml` is expanded here.
    paths = [m for p in args.paths for m in (sorted(glob.glob(p)) if glob.has_magic(p) else [p])]
    missing = [p for p in paths if not Path(p).exists()] or ([] if paths else args.paths)
    if missing:
        raise UserError("找不到：" + "、".join(missing) + "。请检查路径。")
    with _archive(args) as archive:
        intake = Intake(archive, password=_password(args), rubric=_rubric(args), receipts=not args.no_receipts)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=_console(stderr=True),
                      transient=True) as bar:
            task = bar.add_task("正在接收…", total=None)

            def step(outcome: Outcome) -> None:
                bar.update(task, advance=1, description=f"已处理 {bar.tasks[0].completed + 1:g} 份：{outcome.name}")

            outcomes = intake.run([Path(p) for p in paths], progress=step)
        table = Table(title=f"接收结果（档案：{archive.folder}）")
        for column in ("文件", "结果", "县", "月份", "版本", "总分", "错误", "说明"):
            table.add_column(column, overflow="fold")
        for o in outcomes:
            table.add_row(o.name, o.status_text, o.county or "", o.month or "", str(o.version or ""),
                          "" if o.total is None else f"{round(o.total, 2):g}", str(o.errors or ""), o.reason)
        _console().print(table)
        counts = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in {o.kind for o in outcomes}}
        totals = "；".join(f"{STATUS_NAMES.get(k, k)} {n} 份" for k, n in sorted(counts.items()))
        _console().print(totals or "没有找到工作簿。")
        if not args.no_receipts:
            _console().print(f"回执在：{archive.folder / RECEIPTS}")
    return EXIT_FINDINGS if any(o.kind == "rejected" for o in outcomes) else EXIT_OK


@handles("resolve")
def cmd_resolve(args: argparse.Namespace) -> int:
    """The supervisor's ruling on a conflict: keep one submission, supersede its rivals."""
    with _archive(args) as archive:
        try:
            archive.resolve_conflict(args.submission)
        except KeyError:
            raise UserError(f"档案中没有编号为 {args.submission} 的提交。") from None
    _console().print(f"已采用提交 {args.submission}；同县同月的其他提交已标为“已被取代”。")
    return EXIT_OK


@handles("report")
def cmd_report(args: argparse.Namespace) -> int:
    from ducha.prefecture.report import load_counties, write_report

    out = Path(args.out) if args.out else Path.cwd() / f"督查评分汇总-{args.month}.xlsx"
    with _archive(args) as archive:
        try:
            counties = load_counties(Path(args.counties)) if args.counties else None
            write_report(archive, args.month, out, counties)
        except UnreadableWorkbook as exc:
            raise UserError(f"县名单无法读取：{exc}。") from None
        except ValueError as exc:  # a month not in YYYY-MM form, or problems in the county list (Chinese text)
            raise UserError(str(exc)) from None
        except PermissionError:
            raise UserError(f"无法写入「{out}」：文件可能正在 Excel 中打开，请关闭后重试。") from None
    _console().print(f"汇总工作簿已写入：{out}")
    return EXIT_OK


def _actor() -> str:
    return os.environ.get("USERNAME") or os.environ.get("USER") or "州督查办"


@handles("ledger")
def cmd_ledger(args: argparse.Namespace) -> int:
    """The problem ledger: export to 问题台账.xlsx, import the supervisor's status edits, add a 暗访 report."""
    from ducha.prefecture import ledger

    with _archive(args) as archive:
        if args.action == "export":
            out = Path(args.out) if args.out else Path.cwd() / "问题台账.xlsx"
            ledger.export_ledger(archive, out, county_code=args.county, month=args.month)
            _console().print(f"问题台账已写入：{out}。在「状态」列修改后，用 `ducha ledger import {out.name}` 导回。")
            return EXIT_OK
        if args.action == "import":
            if not args.file or not Path(args.file).exists():
                raise UserError("请给出要导入的问题台账工作簿路径。")
            try:
                result = ledger.import_ledger(archive, Path(args.file), actor=_actor(), strict=args.strict)
            except UnreadableWorkbook as exc:
                raise UserError(f"无法读取「{args.file}」：{exc}。") from None
            except ledger.LedgerError as exc:
                raise UserError(str(exc)) from None
            _console().print(f"已更新 {len(result.changed)} 条，未改动 {len(result.unchanged)} 条，"
                             f"拒绝 {len(result.refused)} 条。")
            for message in result.refused:
                _console(stderr=True).print(f"[red]{message}[/red]")
            return EXIT_FINDINGS if result.refused else EXIT_OK
        missing = [name for name, value in (("--county", args.county_name), ("--county-code", args.county),
                                            ("--month", args.month), ("--problem", args.problem)) if not value]
        if missing:
            raise UserError("登记暗访问题需要：" + "、".join(missing) + "。")
        try:
            entry = ledger.add_manual(archive, county=args.county_name, county_code=args.county, month=args.month,
                                      problem=args.problem, evidence=args.evidence or "", township=args.township,
                                      village=args.village, household=args.household,
                                      requirement=args.requirement or "", deadline=args.deadline, actor=_actor())
        except ledger.LedgerError as exc:
            raise UserError(str(exc)) from None
    _console().print(f"已登记到问题台账：{entry}")
    return EXIT_OK


@handles("letters")
def cmd_letters(args: argparse.Namespace) -> int:
    from ducha.prefecture.letters import LetterError, write_letters

    out = Path(args.out) if args.out else Path.cwd() / f"整改督办函-{args.month}"
    with _archive(args) as archive:
        try:
            paths = write_letters(archive, args.month, out, office=args.office, pdf=args.pdf)
        except LetterError as exc:
            raise UserError(str(exc)) from None
    if not paths:
        _console().print(f"{args.month} 没有需要督办的问题。")
    for path in paths:
        _console().print(f"已生成：{path}")
    return EXIT_OK


@handles("sample")
def cmd_sample(args: argparse.Namespace) -> int:
    """Draw next month's sample from a roster and write the pre-filled inspection workbook (with 「回访」)."""
    from ducha.prefecture.sampling import SamplingError, sample_with_revisits

    roster = Path(args.roster)
    if not roster.exists():
        raise UserError(f"找不到农户名册：{roster}。")
    with _archive(args) as archive:
        try:
            drawn, out = sample_with_revisits(roster, args.month, archive, Path(args.out) if args.out else None,
                                              county_code=args.county, seed=args.seed,
                                              villages_per_township=args.villages, full_ids=args.full_ids)
        except UnreadableWorkbook as exc:
            raise UserError(f"无法读取农户名册「{roster.name}」：{exc}。") from None
        except SamplingError as exc:
            raise UserError(str(exc)) from None
    _console().print(f"已抽取 {drawn.county}（{drawn.county_code}）{args.month} 的样本，随机种子 {drawn.seed}。")
    for stratum in drawn.short_strata:
        _console().print(f"[yellow]{stratum.note}[/yellow]")
    _console().print(f"预填的督查工作簿：{out}（「抽样」表记录了种子、名册哈希、时间和抽取人，可据此复核）")
    return EXIT_OK


@handles("protect")
def cmd_protect(args: argparse.Namespace) -> int:
    from ducha.adapters.protect import ProtectError, protect_copy

    password = _password(args)
    if not password:
        raise UserError(f"请用 --password 或环境变量 {PASSWORD_ENV} 提供密码。")
    try:
        out = protect_copy(Path(args.workbook), password, Path(args.out) if args.out else None)
    except ProtectError as exc:
        raise UserError(str(exc)) from None
    _console().print(f"已生成加密副本：{out}（原文件未改动）。请把密码另行告知收件人，不要写在同一封邮件里。")
    return EXIT_OK


@handles("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from ducha.app.demo import run_demo_prefecture, write_demo_workbook

    folder = Path(args.out) if args.out else Path.cwd() / "ducha-demo"
    folder.mkdir(parents=True, exist_ok=True)
    workbook = write_demo_workbook(folder / "清水县-2019-11-督查工作簿.xlsx")
    parsed = read_workbook(workbook)
    result = COMMANDS["run_all"](workbook, parsed, DEFAULT_RUBRIC)
    output = apply_plan(workbook, result.plan, folder / "清水县-2019-11-督查工作簿.结果.xlsx")
    assert result.check is not None and result.score is not None
    _print_check(result.check)
    _print_score(result.score)
    console = _console()
    console.print(f"\n示例工作簿（填写内容，未改动）：{workbook}")
    console.print(f"一键运行结果：{output}")
    console.print("用 Excel 打开结果：「评分」是 6+N 得分及扣分依据，「检查结果」列出填写问题（点击单元格可跳转），"
                  "「跟进清单」是需要跟进的农户、村和县级指标。")
    console.print("\n州督查办这一侧（同一示例）：")
    for label, path in run_demo_prefecture(folder, workbook):
        console.print(f"  {label}：{path}")
    return EXIT_OK


def _workbook_handler(name: str) -> Handler:
    return lambda args: _run(name, args)


def _add_arguments(parser: argparse.ArgumentParser, command: Command) -> None:
    groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for argument in command.args:
        options = dict(argument.options)
        exclusive = options.pop("exclusive", None)
        if exclusive and exclusive not in groups:
            groups[exclusive] = parser.add_mutually_exclusive_group()
        target = groups[exclusive] if exclusive else parser
        target.add_argument(*argument.flags, help=argument.help, **options)


def build_parser() -> argparse.ArgumentParser:
    """The command line, derived from the command table."""
    parser = argparse.ArgumentParser(prog="ducha",
                                     description="精准扶贫专题督查：检查、评分、跟进（与 Excel 功能区按钮相同）")
    parser.add_argument("--version", action="version", version=f"ducha {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")
    for command in TABLE:
        if command.subcommand is None:
            continue
        p = sub.add_parser(command.subcommand, help=command.help)
        _add_arguments(p, command)
        p.set_defaults(func=_workbook_handler(command.name) if command.run else HANDLERS[command.name])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; never shows a traceback to the user."""
    setup_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UserError as exc:
        _console(stderr=True).print(str(exc), markup=False, style="red")
        _json_failure(args, exc.code, str(exc), exc.refusal)
        return exc.code
    except KeyboardInterrupt:
        _console(stderr=True).print("已取消。")
        return EXIT_INTERNAL
    except Exception:
        log.exception("unexpected error in command %s", args.command)
        message = f"程序内部错误，已记录到日志：{log_path()}。请把日志发给技术支持。"
        _console(stderr=True).print(message, markup=False, style="red")
        _json_failure(args, EXIT_INTERNAL, message, None)
        return EXIT_INTERNAL


def _json_failure(args: argparse.Namespace, code: int, message: str, refusal: dict | None) -> None:
    """With --json, a failure still prints exactly one JSON object (with the refusal when the gate refused)."""
    if getattr(args, "json", False):
        print(json.dumps({"file": getattr(args, "workbook", None), "output": None, "exit": code, "error": message,
                          "refusal": refusal}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())
