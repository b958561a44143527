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

from ducha import __version__
from ducha.app.argparse_zh import UsageError, fit, wrap
from ducha.app.commands import (
    BY_NAME,
    COMMANDS,
    SIZE_GATE,
    CommandResult,
    too_large_message,
    too_large_sheets,
)
from ducha.app.commands import (
    build_parser as build_command_parser,
)
from ducha.app.logs import log_path, setup_logging
from ducha.checks.pipeline import CheckResult
from ducha.model.findings import Severity, count_by_severity
from ducha.model.schema import SCORE_SHEET
from ducha.reading.raw import UnreadableWorkbook
from ducha.reading.workbook import ParsedWorkbook, read_workbook
from ducha.scoring.rubric import DEFAULT_RUBRIC, Rubric, RubricError, load_rubric
from ducha.scoring.scorecard import Deduction
from ducha.sheets.outputplan import OutputPlan
from ducha.sheets.score_sheet import ScoreOutput

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3
ARCHIVE_ENV, PASSWORD_ENV = "DUCHA_ARCHIVE", "DUCHA_PASSWORD"
SHOWN_FINDINGS = 15  # findings listed on the console by `check`
SHOWN_WITH_SCORE = 5  # and by `run`, under which the score's lines follow

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


def tolerate_console_encoding() -> None:
    """A character the console's encoding cannot show (a GBK console, output redirected) becomes "?", not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def output_path(out: str | None, default: Path, suffix: str = ".xlsx") -> Path:
    """`--out`, the same for every command that writes: no value = `default`; an existing folder = `default`'s name in
    that folder; a path = that path, given the `suffix` it lacks (`--out s7` → s7.xlsx). `suffix` "" = a folder."""
    if not out:
        return default
    path = Path(out)
    if path.is_dir():
        return path / default.name
    if suffix and path.suffix.lower() != suffix.lower():
        path = path.with_name(path.name + suffix)
    return path


@handles("schema")
def cmd_schema(args: argparse.Namespace) -> int:
    from ducha.model.schema import schema_as_dict

    print(json.dumps(schema_as_dict(), ensure_ascii=False, indent=2))
    return EXIT_OK


@handles("template")
def cmd_template(args: argparse.Namespace) -> int:
    from ducha.adapters.writer import write_template

    out = output_path(args.out, Path.cwd() / "精准扶贫专题督查工作簿.xlsx")
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


def _write(source: Path, plan: OutputPlan, args: argparse.Namespace):
    """Write the results (adapters.xlsx_writer.write_results); returns where and, for a new workbook, why."""
    from ducha.adapters.xlsx_writer import default_output, write_results

    try:
        out = output_path(args.out, default_output(source), default_output(source).suffix) if args.out else None
        return write_results(source, plan, out, in_place=args.in_place)
    except PermissionError:
        raise UserError(f"无法写入结果：「{source.name}」可能正在 Excel 中打开，请关闭后重试。") from None
    except OSError as exc:
        raise UserError(f"无法写入结果文件：{exc.strerror or exc}。") from None


def _paragraph(text: str, indent: str = "") -> None:
    """Print prose wrapped to the console's width at places a reader would break it (never inside a word)."""
    console = _console()
    for line in wrap(text, console.width - 1 - len(indent)):
        console.print(indent + line, markup=False)


def _lines(lines: Sequence[str]) -> None:
    """Print plain lines, each cut to the console's width so that nothing wraps (the details are in the workbook)."""
    console = _console()
    for line in lines:
        console.print(fit(line, console.width - 1), markup=False)


def _check_lines(result: CheckResult, shown: int) -> list[str]:
    """Counts and completeness on one line, then the first `shown` findings one line each."""
    counts = count_by_severity(result.findings)
    scopes = [c for c in result.per_sheet + result.per_village if c.required]
    answered, required = sum(c.answered for c in result.per_sheet), sum(c.required for c in result.per_sheet)
    lowest = min(scopes, key=lambda c: c.answered / c.required) if scopes else None
    counted = f"错误 {counts[Severity.ERROR]} 个，警告 {counts[Severity.WARNING]} 个，提示 {counts[Severity.INFO]} 个"
    if required:
        counted += f"；完整率 {answered / required:.1%}"
    if lowest is not None and lowest.answered < lowest.required:
        counted += f"（最低：{lowest.scope} {lowest.answered / lowest.required:.1%}）"
    lines = [result.title(), counted]
    if result.findings:
        more = f"，共 {len(result.findings)} 个，全部见「检查结果」" if len(result.findings) > shown else ""
        lines.append(f"问题（前 {min(shown, len(result.findings))} 个{more}）：")
        lines += [f"  {f.line()}" for f in result.findings[:shown]]
    return lines


def _short_reason(deductions: Sequence[Deduction]) -> str:
    """An item's deductions in a few words: cases counted by kind (「识别不准确户 7 个」), rates by their value."""
    kinds: dict[str, list[str]] = {}
    for d in deductions:
        kind = d.reason.split("：")[0] if "：" in d.reason else d.reason.split("，")[0]
        kinds.setdefault(kind, []).append(d.reason)
    return "；".join(f"{kind} {len(reasons)} 个" if "：" in reasons[0] else kind for kind, reasons in kinds.items())


def _score_lines(score: ScoreOutput) -> list[str]:
    """The total, then one line per item: name, points/max, the reason in a few words."""
    card = score.card
    lines = [f"{card.county or ''} {card.month or ''} 评分：{round(card.total, 2):g}/{card.max_total:g}"
             f"（{card.rubric_name} {card.rubric_version}）".strip()]
    for item in card.items:
        points = f"{round(item.points, 2):g}/{item.max_points:g}"
        lines.append(f"  {points:>8}  {item.name}：{_short_reason(item.deductions) or '未扣分'}")
    if card.red_flags:
        lines.append("红旗：" + "；".join(f"{r.name} {r.value_text}" for r in card.red_flags))
    return lines


def _flag_lines(score: ScoreOutput, shown: int = SHOWN_WITH_SCORE) -> list[str]:
    """The follow-up list in counts by level, then its first rows one line each."""
    levels: dict[str, int] = {}
    for flag in score.flags:
        levels[flag.level] = levels.get(flag.level, 0) + 1
    counted = {"农户": "农户 {} 户", "村": "村 {} 个", "县": "县级指标 {} 项"}
    lines = ["需要跟进：" + "，".join(counted.get(level, level + " {} 处").format(n) for level, n in levels.items())
             ] if levels else []
    for flag in score.flags[:shown]:
        place = "".join(filter(None, (flag.township, flag.village)))
        who = f"{flag.household}（{place}）" if flag.household else place or flag.indicator or ""
        lines.append(f"  {flag.level} {who}：{flag.problem}")
    return lines


def _print_check(result: CheckResult, shown: int = SHOWN_FINDINGS) -> None:
    _lines(_check_lines(result, shown))


def _print_score(score: ScoreOutput) -> None:
    _lines(_score_lines(score))


def _as_json(result: CommandResult, source: Path, output: Path | None) -> str:
    from ducha.scoring.export import evaluation_dict

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
    written = None if too_large else _write(source, result.plan, args)
    output = written.path if written else None
    if args.json:
        print(_as_json(result, source, output))
    else:
        if result.check is not None:
            _print_check(result.check, SHOWN_FINDINGS if result.score is None else SHOWN_WITH_SCORE)
        if result.score is not None and any(s.name == SCORE_SHEET for s in result.plan.sheets):
            _print_score(result.score)
        elif result.score is not None:
            _lines(_flag_lines(result.score))
        _console().print(result.summary)
        if written is None:
            _console().print(too_large_message(too_large))
        elif written.reason:
            _console().print(f"[yellow]{written.reason}[/yellow]")
        else:
            _console().print(f"结果已写入：{output}")
    return EXIT_FINDINGS if result.has_errors else EXIT_OK


@handles("rubric")
def cmd_rubric(args: argparse.Namespace) -> int:
    """Write the rubric in use (default, or --rubric) as a 「评分细则」 workbook supervisors can edit."""
    from ducha.adapters.writer import write_generated_workbook
    from ducha.scoring.rubric import RUBRIC_SHEET
    from ducha.sheets.rubric_sheet import rubric_sheet

    out = output_path(args.out, Path.cwd() / "评分细则.xlsx")
    write_generated_workbook([rubric_sheet(_rubric(args))], out, title=RUBRIC_SHEET)
    _console().print(f"评分细则已写入：{out}。修改后用 `ducha score 工作簿 --rubric {out.name}` 使用。")
    return EXIT_OK


@handles("addin")
def cmd_addin(args: argparse.Namespace) -> int:
    """Build, install or uninstall the Excel add-in 督查助手.xlam."""
    from ducha.app.addin import ADDIN_DIR, ADDIN_FILENAME, AddinError, build_addin, install_addin, uninstall_addin

    if args.action == "doctor":
        from ducha.app.doctor import run_doctor

        report = run_doctor(workbook=Path(args.workbook).resolve() if args.workbook else None)
        _console(stderr=not report.ok).print(report.text(), markup=False, highlight=False)
        return report.exit_code
    try:
        if args.action == "build":
            path = build_addin(output_path(args.out, ADDIN_DIR / ADDIN_FILENAME, ".xlam") if args.out else None)
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

    from ducha.prefecture.archive import STATUS_NAMES
    from ducha.prefecture.intake import RECEIPTS, Intake, Outcome

    # Windows' cmd does not expand wildcards: `ducha intake 收件\*.eml` is expanded here.
    paths = [m for p in args.paths for m in (sorted(glob.glob(p)) if glob.has_magic(p) else [p])]
    # a link that leads nowhere is there (as a link): the gate rejects it as one file of the batch
    missing = [p for p in paths if not os.path.lexists(p)] or ([] if paths or args.imap else args.paths)
    if missing:
        raise UserError("找不到：" + "、".join(missing) + "。请检查路径。")
    with _archive(args) as archive:
        intake = Intake(archive, password=_password(args), rubric=_rubric(args), receipts=not args.no_receipts)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=_console(stderr=True),
                      transient=True) as bar:
            task = bar.add_task("正在接收…", total=None)

            def step(outcome: Outcome) -> None:
                bar.update(task, advance=1, description=f"已处理 {bar.tasks[0].completed + 1:g} 份：{outcome.name}")

            outcomes = intake.run([Path(p) for p in paths], progress=step) if paths else []
            interrupted = False
            if args.imap:
                mail_outcomes, interrupted = _intake_mailbox(args, intake, step)
                outcomes += mail_outcomes
        _console().print(f"接收结果（档案：{archive.folder}）：", markup=False)
        for o in outcomes:
            facts = [" ".join(filter(None, (o.county, o.month))), f"第 {o.version} 版" if o.version else "",
                     "" if o.total is None else f"总分 {round(o.total, 2):g}",
                     f"错误 {o.errors} 个" if o.errors else ""]
            _lines([f"  {o.name}"])
            _paragraph("：".join(filter(None, (o.status_text, "，".join(filter(None, facts)), o.reason))), "    ")
        counts = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in {o.kind for o in outcomes}}
        totals = "；".join(f"{STATUS_NAMES.get(k, k)} {n} 份" for k, n in sorted(counts.items()))
        _console().print(totals or "没有找到工作簿。")
        if not args.no_receipts:
            _console().print(f"回执在：{archive.folder / RECEIPTS}")
    if interrupted:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if any(o.kind == "rejected" for o in outcomes) else EXIT_OK


def _intake_mailbox(args: argparse.Namespace, intake, step: Callable) -> tuple[list, bool]:
    """`ducha intake --imap`: the new messages of the mailbox, and whether the connection was lost part way (reported
    after what was taken)."""
    from ducha.prefecture.mailbox import MailboxError, mailbox_config, mailbox_password, take_mailbox

    try:
        config = mailbox_config(intake.archive.folder, server=args.imap_server, port=args.imap_port,
                                account=args.imap_account, folder=args.imap_folder, ca_file=args.imap_ca,
                                move_to=args.imap_move_to)
        run = take_mailbox(intake, config, mailbox_password(config), replies=not args.no_replies, progress=step)
    except MailboxError as exc:
        raise UserError(str(exc)) from None
    _paragraph(f"邮箱 {config.account}/{config.folder}：新邮件 {run.messages} 封"
               + (f"，已接收过的副本 {run.already} 封" if run.already else "")
               + (f"，回复草稿 {len(run.replies)} 份" if run.replies else "") + "。")
    if run.interrupted:
        _console(stderr=True).print(run.interrupted, markup=False)
    return run.outcomes, run.interrupted is not None


@handles("resolve")
def cmd_resolve(args: argparse.Namespace) -> int:
    """The supervisor's ruling on a conflict: keep one submission, supersede its rivals."""
    with _archive(args) as archive:
        try:
            archive.resolve_conflict(args.submission, actor=_actor())
        except KeyError:
            raise UserError(f"档案中没有编号为 {args.submission} 的提交。") from None
    _console().print(f"已采用提交 {args.submission}；同县同月的其他提交已标为“已被取代”。")
    return EXIT_OK


@handles("report")
def cmd_report(args: argparse.Namespace) -> int:
    from ducha.prefecture.report import load_counties, write_report

    out = output_path(args.out, Path.cwd() / f"督查评分汇总-{args.month}.xlsx")
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
    from ducha.app.ribbon import current_user

    return current_user()


@handles("ledger")
def cmd_ledger(args: argparse.Namespace) -> int:
    """The problem ledger: export to 问题台账.xlsx, import the supervisor's status edits, add a 暗访 report."""
    from ducha.prefecture import ledger

    with _archive(args) as archive:
        if args.action == "export":
            out = output_path(args.out, Path.cwd() / "问题台账.xlsx")
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
        missing = [name for name, value in (("--county-name", args.county_name), ("--county", args.county),
                                            ("--month", args.month), ("--problem", args.problem)) if not value]
        if missing:
            raise UserError("登记暗访问题需要：" + "、".join(missing) + "。")
        try:
            entry = ledger.add_manual(archive, county=args.county_name, county_code=args.county, month=args.month,
                                      problem=args.problem, evidence=args.evidence or "", township=args.township,
                                      village=args.village, household=args.household,
                                      requirement=args.requirement or "", deadline=args.deadline, actor=_actor(),
                                      issued=_date_arg(args.date))
        except ledger.LedgerError as exc:
            raise UserError(str(exc)) from None
    _console().print(f"已登记到问题台账：{entry}")
    return EXIT_OK


def _date_arg(text: str | None):
    """A --date YYYY-MM-DD as a date (None when not given)."""
    import datetime as dt

    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"日期「{text}」无效，应为 YYYY-MM-DD，如 2019-12-05。") from None


@handles("letters")
def cmd_letters(args: argparse.Namespace) -> int:
    import datetime as dt

    from ducha.prefecture.letters import LetterError, issue_date, write_letters
    from ducha.prefecture.report import MONTH as MONTH_FORMAT
    from ducha.prefecture.settings import load_settings, settings_path

    out = output_path(args.out, Path.cwd() / f"整改督办函-{args.month}", suffix="")
    with _archive(args) as archive:
        try:
            issued = issue_date(args.month, _date_arg(args.date)) if MONTH_FORMAT.match(args.month) else None
            if issued is not None and not args.date and issued != dt.date.today():
                _console().print(f"[yellow]督查月份 {args.month} 已过去较久，发文日期取 {issued.isoformat()}；"
                                 "需要其他日期请用 --date 给出。[/yellow]")
            paths = write_letters(archive, args.month, out, issued=issued, pdf=args.pdf)
        except (LetterError, ValueError) as exc:
            raise UserError(str(exc)) from None
        missing = load_settings(archive.folder).missing_for_letters()
        if missing:
            _console().print(f"[yellow]「{settings_path(archive.folder)}」中未填写{'、'.join(missing)}，"
                             "督办函中没有联系人一行；填写后重新生成。[/yellow]")
    if not paths:
        _console().print(f"{args.month} 没有需要督办的问题。")
    for path in paths:
        _console().print(f"已生成：{path}")
    return EXIT_OK


@handles("receipts")
def cmd_receipts(args: argparse.Namespace) -> int:
    from ducha.prefecture.intake import RECEIPTS
    from ducha.prefecture.receipt import reissue_receipts

    with _archive(args) as archive:
        folder = archive.folder / RECEIPTS
        counted = archive.counted(args.month)
        if not counted:
            _console().print(f"档案中没有 {args.month} 的提交，没有回执。")
            return EXIT_OK
        if args.reissue:
            written = reissue_receipts(archive, args.month, folder)
            _console().print(f"已重新生成 {len(written)} 份回执：{folder}")
        else:
            written = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
            _console().print(f"{args.month} 有 {len(counted)} 份提交；回执文件夹：{folder}")
    for path in written:
        _console().print(f"  {path.name}")
    return EXIT_OK


@handles("settings")
def cmd_settings(args: argparse.Namespace) -> int:
    """Create 设置.xlsx in the archive folder when missing; validate it when present."""
    from ducha.prefecture.archive import DEFAULT_FOLDER
    from ducha.prefecture.settings import (
        SettingsError,
        read_settings_workbook,
        settings_path,
        write_settings_workbook,
    )

    path = settings_path(Path(args.archive or os.environ.get(ARCHIVE_ENV) or DEFAULT_FOLDER))
    if not path.exists():
        try:
            write_settings_workbook(path)
        except OSError as exc:
            raise UserError(f"无法写入「{path}」：{exc.strerror or exc}。") from None
        _console().print(f"已生成默认设置：{path}。请用 Excel 填写发文机关、联系人等，再运行 ducha settings 检查。")
        return EXIT_OK
    try:
        settings = read_settings_workbook(path)
    except SettingsError as exc:
        raise UserError(f"「{path.name}」有误：{exc}。") from None
    missing = settings.missing_for_letters()
    _console().print(f"设置无误：{path}（发文机关 {settings.office}，机关代字 {settings.office_code}，"
                     f"整改期限 {settings.period_days} 天）。"
                     + (f"尚未填写：{'、'.join(missing)}。" if missing else ""))
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
            drawn, out = sample_with_revisits(roster, args.month, archive,
                                              lambda default: output_path(args.out, default),
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
    from ducha.adapters.protect import default_output as encrypted_name

    password = _password(args)
    if not password:
        raise UserError(f"请用 --password 或环境变量 {PASSWORD_ENV} 提供密码。")
    try:
        source = Path(args.workbook)
        out = protect_copy(source, password, output_path(args.out, encrypted_name(source), source.suffix or ".xlsx"))
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
    from ducha.adapters.xlsx_writer import apply_plan, default_output

    output = apply_plan(workbook, result.plan, default_output(workbook))
    assert result.check is not None and result.score is not None
    _print_check(result.check, SHOWN_WITH_SCORE)
    _print_score(result.score)
    console = _console()
    console.print(f"\n示例工作簿（填写内容，未改动）：{workbook}")
    console.print(f"一键运行结果：{output}")
    _paragraph("用 Excel 打开结果：「评分」是 6+N 得分及扣分依据，「检查结果」列出填写问题（点击单元格可跳转），"
               "「跟进清单」是需要跟进的农户、村和县级指标。")
    console.print("\n州督查办这一侧（同一示例）：")
    for label, path in run_demo_prefecture(folder, workbook):
        console.print(f"  {label}：{path}")
    return EXIT_OK


def _workbook_handler(name: str) -> Handler:
    return lambda args: _run(name, args)


def build_parser() -> argparse.ArgumentParser:
    """The command line, derived from the command table (`commands.build_parser`)."""
    return build_command_parser(lambda c: _workbook_handler(c.name) if c.run else HANDLERS[c.name], __version__)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; never shows a traceback to the user."""
    tolerate_console_encoding()
    setup_logging()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        if args.command == "intake" and not args.paths and not args.imap:  # paths may be left out only with --imap
            commands = next(a for a in parser._actions if isinstance(a.choices, dict) and "intake" in a.choices)
            commands.choices["intake"].error("缺少必需的参数：文件（或用 --imap 从收件邮箱接收）")
    except UsageError as exc:
        if "--json" in argv:  # still exactly one JSON object
            _json_failure(argparse.Namespace(json=True), EXIT_UNREADABLE, f"命令行参数有误：{exc.message}", None)
        return EXIT_UNREADABLE
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
