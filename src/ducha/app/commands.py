"""The one command table: every ribbon button and every `ducha` subcommand is declared here once.

A declaration names the command, its Chinese label and help, its command-line arguments, whether it changes the
clerk's workbook, the gates its input passes, and the function that does it. The ribbon XML (`ducha.app.addin`),
the VBA dispatch (one callback passing the button id), the command line (`ducha.app.cli`) and the Excel entry
(`ducha.app.excel`) are derived from `TABLE`. Adding a button is one `Command(...)` here plus its function.

The workbook commands (check, score, flag, run_all, clear) turn a parsed workbook into an OutputPlan; the ribbon
applies it to the open workbook, the command line to a copy of the file.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ducha.app import argparse_zh, ribbon, supervisor
from ducha.checks.pipeline import CheckResult, check_parsed
from ducha.model.findings import Code
from ducha.model.schema import CHECK_RESULTS_SHEET, FOLLOW_UP_SHEET, SCORE_SHEET
from ducha.reading.workbook import ParsedWorkbook
from ducha.scoring.rubric import DEFAULT_RUBRIC, Rubric
from ducha.sheets.check_sheet import check_plan
from ducha.sheets.outputplan import GeneratedSheet, OutputPlan
from ducha.sheets.score_sheet import ScoreOutput, score_workbook

# Where the generated sheets go when several are written at once: the score first, the evidence last.
SHEET_ORDER = {SCORE_SHEET: 0, CHECK_RESULTS_SHEET: 1, FOLLOW_UP_SHEET: 2}

@dataclass
class CommandResult:
    """What a command produced: the plan to write, a one-line Chinese summary, and the results behind it."""

    plan: OutputPlan
    summary: str
    check: CheckResult | None = None
    score: ScoreOutput | None = None

    @property
    def has_errors(self) -> bool:
        return bool(self.check and self.check.errors)


def _ordered(sheets: list[GeneratedSheet]) -> list[GeneratedSheet]:
    """Front sheets at fixed positions (score, check results, follow-up), the rest after the input sheets."""
    front = sorted((s for s in sheets if s.name in SHEET_ORDER), key=lambda s: SHEET_ORDER[s.name])
    rest = [replace(s, position=None) for s in sheets if s.name not in SHEET_ORDER]
    return [replace(s, position=i) for i, s in enumerate(front)] + rest


def check_output(result: CheckResult) -> OutputPlan:
    """「检查结果」 and the marks on the cells the findings point at."""
    return check_plan(result.findings, result.per_sheet, result.per_village, result.title())


def _check_summary(result: CheckResult) -> str:
    if result.errors:
        return f"检查完成：发现错误 {result.errors} 个，请查看「{CHECK_RESULTS_SHEET}」工作表。"
    return f"检查完成：没有错误（警告和提示共 {len(result.findings)} 个）。"


def _score_summary(score: ScoreOutput) -> str:
    card = score.card
    flags = f"，红旗 {len(card.red_flags)} 个" if card.red_flags else ""
    return f"评分完成：总分 {round(card.total, 2):g}/{card.max_total:g}{flags}，详见「{SCORE_SHEET}」工作表。"


def _flag_summary(score: ScoreOutput) -> str:
    return f"标记完成：需要跟进 {len(score.flags)} 处，详见「{FOLLOW_UP_SHEET}」工作表，相关行已标色。"


def run_check_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    result = check_parsed(path, parsed)
    return CommandResult(plan=check_output(result), summary=_check_summary(result), check=result)


def run_score_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """「评分」 and its evidence sheets (「判定明细」, 「村级明细」)."""
    score = score_workbook(parsed.data, rubric)
    sheets = [s for s in score.plan.sheets if s.name != FOLLOW_UP_SHEET]
    return CommandResult(plan=OutputPlan(sheets=_ordered(sheets)), summary=_score_summary(score), score=score)


def run_flag_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """「跟进清单」 and the highlights with notes on the flagged input rows."""
    score = score_workbook(parsed.data, rubric)
    sheets = [s for s in score.plan.sheets if s.name == FOLLOW_UP_SHEET]
    return CommandResult(plan=OutputPlan(sheets=_ordered(sheets), marks=score.plan.marks),
                         summary=_flag_summary(score), score=score)


def run_all_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """Check, score and flag in one pass."""
    result = check_parsed(path, parsed)
    score = score_workbook(parsed.data, rubric)
    checked = check_output(result)
    plan = OutputPlan(sheets=_ordered(checked.sheets + score.plan.sheets), marks=checked.marks + score.plan.marks)
    summary = "\n".join((_check_summary(result), _score_summary(score), _flag_summary(score)))
    return CommandResult(plan=plan, summary=summary, check=result, score=score)


def run_clear_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """Remove every generated sheet, highlight and note: an empty plan applied over a cleaned workbook."""
    return CommandResult(plan=OutputPlan(), summary="已清除 ducha 生成的结果、标色和批注。")


WorkbookCommand = Callable[[Path, ParsedWorkbook, Rubric], CommandResult]
RibbonAction = Callable[[Any, Callable[[str], None], ribbon.Dialogs], str]

# The gates a command's input passes before it is read or written.
INPUT_GATE = "input"  # the one input gate: the file exists, is a workbook, is safe to open
SIZE_GATE = "size"  # a sheet too large to check gets no result file, only the message


def too_large_sheets(parsed: ParsedWorkbook) -> list[str]:
    """The sheets the size gate stops: those reading refused as too large."""
    return [f.sheet for f in parsed.findings if f.code == Code.TOO_LARGE.code]


def too_large_message(sheets: list[str]) -> str:
    return f"工作表「{'」「'.join(sheets)}」过大，未生成结果文件；请删除多余的行列后再检查。"


@dataclass(frozen=True)
class Arg:
    """One command-line argument: its flags (or positional name), Chinese help, and argparse options."""

    flags: tuple[str, ...]
    help: str
    options: Mapping[str, Any] = field(default_factory=dict)


def arg(*flags: str, help: str, **options: Any) -> Arg:
    return Arg(flags, help, options)


@dataclass(frozen=True)
class Command:
    """One command of the ribbon and/or the command line."""

    name: str  # the ribbon button id, and the command line's subcommand unless `cli` says otherwise
    label: str  # the short Chinese name: the button's label, the name in messages
    help: str  # one Chinese sentence: `ducha -h`, and the button's tip unless `tip` is given
    outputs: str = ""  # what it writes, for `ducha <command> --help`
    cli: str | None = None  # the subcommand; "" = not on the command line
    args: tuple[Arg, ...] = ()
    changes_workbook: bool = False  # it writes generated sheets, marks and notes into the clerk's workbook
    gates: frozenset[str] = frozenset()
    run: WorkbookCommand | None = None  # a workbook command: parsed workbook -> plan
    action: RibbonAction | None = None  # the ribbon's own action, when it is not a workbook command
    needs_book: bool = True  # False: the button works with no workbook open
    group: str | None = None  # the ribbon group; None = no button
    image: str = ""
    tip: str = ""
    screentip: str = ""

    @property
    def subcommand(self) -> str | None:
        if self.cli == "":
            return None
        return self.cli or self.name

    @property
    def on_ribbon(self) -> bool:
        return self.group is not None


WORKBOOK = arg("workbook", metavar="工作簿", help="督查工作簿（.xlsx 或 .xlsm）")
IN_PLACE = arg("--in-place", action="store_true", help="直接写回原工作簿（先备份，不改动任何填写内容）",
               exclusive="output")
RUBRIC = arg("--rubric", metavar="文件", help="评分细则文件（.json，或含「评分细则」工作表的 .xlsx）；默认用内置细则")
ARCHIVE = arg("--archive", metavar="文件夹", help="档案文件夹（默认 ./督查档案，或环境变量 DUCHA_ARCHIVE）")
PASSWORD = arg("--password", metavar="密码", help="密码（或环境变量 DUCHA_PASSWORD）")
MONTH = arg("--month", required=True, metavar="年-月", help="督查月份 YYYY-MM")


def out(default: str, exclusive: str | None = None) -> Arg:
    """`--out`, the same for every command: a file path, or an existing folder to put the default name in."""
    options = {"exclusive": exclusive} if exclusive else {}
    return arg("--out", metavar="路径", help=f"输出文件路径，或已有的文件夹（写入默认文件名）；默认：{default}",
               **options)


def workbook_args(result: str, rubric: bool = True) -> tuple[Arg, ...]:
    """The arguments of a workbook command; `result` names the sheets it writes."""
    return (WORKBOOK, out(f"与原文件同目录的 <原名>.结果.xlsx，含{result}", "output"), IN_PLACE,
            arg("--json", action="store_true", help=f"以 JSON 输出{result}的内容，不打印摘要"),
            *((RUBRIC,) if rubric else ()))


WORKBOOK_GATES = frozenset({INPUT_GATE, SIZE_GATE})

TABLE: tuple[Command, ...] = (
    Command("schema", "工作簿结构", "以 JSON 打印工作簿结构（工作表、列、类型、选项、规则）",
            outputs="在屏幕上打印 JSON，不写文件。"),
    Command("template", "空白工作簿", "生成空白督查工作簿",
            outputs="写出空白督查工作簿（含「说明」和各填报表）。",
            args=(out("./精准扶贫专题督查工作簿.xlsx"),)),
    Command("check", "检查完整性", "检查完整性和一致性，生成「检查结果」",
            outputs="写出结果工作簿：最前面是「检查结果」（问题清单，可跳转到单元格），有问题的单元格标色并加批注；"
                    "有错误时退出码为 1。",
            args=workbook_args("「检查结果」", rubric=False), changes_workbook=True, gates=WORKBOOK_GATES,
            run=run_check_command, group="grpInspect", image="DataValidation",
            tip="逐表检查必填项、格式和逻辑，问题写入检查表。"),
    Command("score", "计算评分", "按方案公式计算 6+N 评分，生成「评分」及判定明细",
            outputs="写出结果工作簿：最前面是「评分」（各项得分和扣分依据），后面是「判定明细」「村级明细」。",
            args=workbook_args("「评分」和判定明细"), changes_workbook=True, gates=WORKBOOK_GATES,
            run=run_score_command, group="grpInspect", image="Calculator",
            tip="按督查方案计算各项指标和得分，填入评分表。"),
    Command("flag", "标记跟进", "标记需要跟进的农户、村和县级指标，生成「跟进清单」",
            outputs="写出结果工作簿：最前面是「跟进清单」，需要跟进的农户、村和县级指标所在行标色并加批注。",
            args=workbook_args("「跟进清单」"), changes_workbook=True, gates=WORKBOOK_GATES,
            run=run_flag_command, group="grpInspect", image="ReviewNewComment",
            tip="标出需要回访的农户，生成跟进名单。"),
    Command("run_all", "一键运行", "一键运行：检查 + 评分 + 跟进", cli="run",
            outputs="写出结果工作簿：「评分」「检查结果」「跟进清单」依次在最前面，问题单元格和跟进行标色并加批注；"
                    "有错误时退出码为 1。",
            args=workbook_args("「评分」「检查结果」「跟进清单」"), changes_workbook=True, gates=WORKBOOK_GATES,
            run=run_all_command, group="grpInspect", image="MacroPlay", tip="依次检查完整性、计算评分、标记跟进。"),
    Command("clear", "清除结果", "删除 ducha 生成的结果表、标色和批注", cli="", changes_workbook=True,
            run=run_clear_command, group="grpInspect", image="Delete", tip="删除生成的结果表和标记，填报内容不变。"),
    Command("rubric", "评分细则", "导出评分细则工作簿（可修改后用 --rubric 使用）",
            outputs="写出「评分细则」工作簿；修改后用 `ducha score 工作簿 --rubric 文件` 使用。",
            args=(out("./评分细则.xlsx"), arg("--rubric", help="从此细则文件导出（默认导出内置细则）")),
            gates=frozenset({INPUT_GATE})),
    Command("addin", "加载项", "Excel 加载项：build 生成；install 安装（Windows）；uninstall 卸载；doctor 自检",
            outputs="doctor：逐项检查加载项能否运行（解释器、版本、安装、配置、工作簿路径、日志、宏设置），"
                    "每个问题附解决办法；有未通过的项时退出码为 1。",
            args=(arg("action", choices=("build", "install", "uninstall", "doctor"), metavar="操作",
                      help="build 生成加载项；install 安装到 Excel（Windows）；uninstall 卸载；doctor 自检"),
                  out("addin/督查助手.xlam（build）"),
                  arg("--workbook", metavar="工作簿",
                      help="doctor：同时检查这个工作簿的路径能否在系统代码页中正确传递"))),
    Command("intake", "接收", "接收各县报回的工作簿（文件、文件夹、.eml/.msg 邮件、.zip）并归档",
            outputs="原件、回执和数据库写入档案文件夹；屏幕上列出每份的接收结果。",
            args=(arg("paths", nargs="*", metavar="文件", help="工作簿、文件夹、邮件或压缩包（可用通配符）"),
                  ARCHIVE, arg("--password", help="加密工作簿的密码（或环境变量 DUCHA_PASSWORD）"),
                  arg("--rubric", help="评分细则文件；默认用内置细则"),
                  arg("--no-receipts", action="store_true", help="不生成回执"),
                  arg("--imap", action="store_true",
                      help="从收件邮箱（IMAP，加密连接）接收新邮件的工作簿附件；邮箱密码取自环境变量 "
                           "DUCHA_IMAP_PASSWORD 或系统钥匙串"),
                  arg("--imap-server", metavar="服务器", help="IMAP 服务器；默认取「设置」"),
                  arg("--imap-port", type=int, metavar="端口", help="IMAPS 端口；默认 993 或「设置」"),
                  arg("--imap-account", metavar="账号", help="邮箱账号；默认取「设置」"),
                  arg("--imap-folder", metavar="文件夹", help="邮件文件夹；默认 INBOX 或「设置」"),
                  arg("--imap-ca", metavar="证书", help="信任此 CA 证书文件（服务器使用自签名证书时）"),
                  arg("--imap-move-to", metavar="文件夹", help="处理后把邮件移到此文件夹；默认不移动、不删除"),
                  arg("--no-replies", action="store_true", help="不生成回复邮件草稿（--imap 时）")),
            gates=frozenset({INPUT_GATE})),
    Command("report", "汇总", "从档案生成督查评分汇总工作簿",
            outputs="写出督查评分汇总工作簿（各县得分、提交记录、全覆盖统计）。",
            args=(MONTH, ARCHIVE,
                  arg("--counties", help="县名单工作簿（县名称、县级区划代码、是否有脱贫任务），用于全覆盖统计"),
                  out("./督查评分汇总-<月份>.xlsx")),
            gates=frozenset({INPUT_GATE}), action=ribbon.summarise, group="grpPrefecture", image="CreateReport",
            tip="选择存放各县报回工作簿（邮件、压缩包也可以）的文件夹，接收归档并生成评分汇总工作簿。"),
    Command("resolve", "裁定冲突", "裁定同县同月的冲突：采用指定编号的提交",
            args=(arg("submission", type=int, metavar="提交编号", help="提交编号（见汇总工作簿「提交记录」）"),
                  ARCHIVE)),
    Command("ledger", "问题台账", "问题台账：export 导出；import 导回状态修改；add 登记暗访问题",
            outputs="export 写出问题台账工作簿；import 和 add 更新档案中的台账。",
            args=(arg("action", choices=("export", "import", "add"), metavar="操作",
                      help="export 导出；import 导回状态修改；add 登记暗访问题"),
                  arg("file", nargs="?", metavar="台账", help="import 时：问题台账工作簿"),
                  ARCHIVE, out("./问题台账.xlsx（export）"),
                  arg("--county", help="县级区划代码（export 时只导出该县；add 时必填）"),
                  arg("--county-name", help="add：县名称"),
                  arg("--month", help="督查月份 YYYY-MM（export 时只导出该月；add 时必填）"),
                  arg("--problem", help="add：问题"),
                  arg("--evidence", help="add：证据或来源（群众来信、媒体报道……）"),
                  arg("--township", help="add：乡镇"), arg("--village", help="add：村"),
                  arg("--household", help="add：农户"), arg("--requirement", help="add：整改要求"),
                  arg("--deadline", help="add：整改期限 YYYY-MM-DD（不给则为登记日期加「设置」中的整改期限天数）"),
                  arg("--date", metavar="日期", help="add：登记日期 YYYY-MM-DD（默认今天，不晚于督查月份的月底）"),
                  arg("--strict", action="store_true", help="import：有任何一行被拒绝则全部不导入")),
            gates=frozenset({INPUT_GATE})),
    Command("letters", "督办函", "为每个有未结问题的县生成整改督办函（.docx，可选 PDF）",
            outputs="每个有未结问题的县一份整改督办函（.docx，加 --pdf 时另有 PDF）；发文机关、机关代字、联系人、"
                    "抄送和整改期限取自档案文件夹中的「设置.xlsx」（用 ducha settings 生成）。",
            args=(MONTH, ARCHIVE, out("./整改督办函-<月份>（文件夹）"),
                  arg("--date", metavar="日期", help="发文日期 YYYY-MM-DD（默认今天；督查月份已过去较久时必须给出）；"
                                                  "文号年份和整改期限由它而来"),
                  arg("--pdf", action="store_true", help="同时用 LibreOffice 转成 PDF"))),
    Command("settings", "督查设置",
            "生成或检查档案文件夹中的「设置.xlsx」（发文机关、机关代字、联系人、抄送、整改期限、邮箱）",
            outputs="档案文件夹中没有「设置.xlsx」时写出默认设置；有则逐项检查，有误时指出单元格和改法。",
            args=(ARCHIVE,)),
    Command("sample", "抽样", "按方案从农户名册随机抽样，生成预填的督查工作簿（含「回访」）",
            outputs="写出预填的督查工作簿（「抽样」表记录种子、名册哈希、时间和抽取人；「回访」列出上月未结问题）。",
            args=(arg("roster", metavar="名册", help="农户名册工作簿"), MONTH,
                  arg("--county", help="县级区划代码（不给则在有脱贫任务的县中随机抽取）"),
                  arg("--seed", type=int, help="随机种子（不给则随机产生并记录；复核时给出原种子）"),
                  arg("--villages", type=int, default=1, help="每个乡镇抽取的村数（默认 1）"),
                  arg("--full-ids", action="store_true",
                      help="写入完整的身份证号和电话（实地督查要据此找到农户、电话抽查帮扶干部时才用）；"
                           "默认脱敏：身份证号只留前 6 位和后 4 位，电话只留前 3 位和后 4 位"),
                  arg("--archive", help="档案文件夹（记录抽样，读取未结台账）"),
                  out("与名册同目录的 <县>-<月份>-督查工作簿.xlsx")),
            gates=frozenset({INPUT_GATE}), action=ribbon.sample_from_roster, group="grpPrefecture", image="Filter",
            tip="选择农户名册并填写督查月份，按方案随机抽样，生成预填的督查工作簿（含上月问题的「回访」）。"),
    # The 州督查办 buttons beside 汇总 and 抽样 (issue 15): ribbon actions in app/supervisor.py on the same
    # prefecture functions as the commands `ledger`, `letters`, `receipts`, `resolve` and `settings`.
    Command("ledger_button", "问题台账", "导出本月问题台账并打开；在打开的台账中按，导回修改的状态", cli="",
            action=supervisor.problem_ledger, group="grpPrefecture", image="TableInsert",
            tip="选择督查档案和月份，导出问题台账并在 Excel 中打开；修改「状态」列后在台账中再按一次，导回档案"
                "（不允许的状态变化会指出行和规则）。"),
    Command("letters_button", "督办函", "生成本月的整改督办函并打开所在文件夹", cli="",
            action=supervisor.rectification_letters, group="grpPrefecture", image="FileSaveAsWordDocx",
            tip="为本月每个有未结问题的县生成整改督办函（.docx），放在督查档案的「整改督办函-月份」文件夹。"),
    Command("receipts", "回执", "列出本月的回执，或按档案重新生成（--reissue）",
            outputs="列出档案「回执」文件夹中该月各份提交的回执；加 --reissue 时按档案重新生成它们（裁定冲突后用）。",
            args=(MONTH, ARCHIVE, arg("--reissue", action="store_true", help="按档案重新生成该月各份提交的回执")),
            action=supervisor.receipts, group="grpPrefecture", image="FileSendAsAttachment",
            tip="打开督查档案中的回执文件夹；裁定冲突后可按档案重新生成本月各份提交的回执。"),
    Command("resolve_button", "裁定冲突", "列出待裁定的冲突，选择采用哪一份提交并记录裁定人和时间", cli="",
            action=supervisor.resolve_conflicts, group="grpPrefecture", image="ReviewAcceptChange",
            tip="同县同月有多个督查组报回时：列出冲突，输入应采用的提交编号，其余标为“已被取代”，裁定人和时间记入档案。"),
    Command("settings_button", "设置", "打开督查档案中的「设置.xlsx」（没有则生成）；在打开的设置中按，检查填写",
            cli="", action=supervisor.office_settings, group="grpPrefecture", image="PropertySheet",
            tip="发文机关、机关代字、联系人、抄送和整改期限；填写保存后在设置工作簿中再按一次，逐项检查。"),
    Command("doctor", "自检", "检查督查助手能否在本机运行，并给出每个问题的解决办法", cli="",
            action=supervisor.self_check, needs_book=False, group="grpPrefecture", image="ZoomPrintPreviewExcel",
            tip="检查 Python、版本、加载项安装、配置的解释器、工作簿路径、日志文件夹和宏设置"
                "（等同于 ducha addin doctor）。"),
    Command("protect", "加密副本", "生成加密副本，便于通过邮件发送",
            outputs="写出加密副本（原文件不变）。",
            args=(arg("workbook", metavar="工作簿", help="要加密的工作簿"), PASSWORD,
                  out("<原名>.加密.xlsx"))),
    Command("demo", "示例", "生成示例工作簿并运行全流程",
            outputs="在输出文件夹中写出示例工作簿、一键运行的结果，以及州督查办一侧的档案、汇总、台账、督办函和下月抽样。",
            args=(arg("--out", metavar="文件夹", help="输出文件夹（默认 ./ducha-demo）"),)),
    Command("about", "关于/帮助", "查看版本、Python 环境和使用说明。", cli="", action=ribbon.about,
            needs_book=False, group="grpHelp", image="Help", screentip="关于督查助手"),
)

BY_NAME: dict[str, Command] = {c.name: c for c in TABLE}

COMMANDS: dict[str, WorkbookCommand] = {c.name: c.run for c in TABLE if c.run is not None}
"""The workbook commands by name; the entries look the function up here at call time."""


# The metavar of an option that names none: the first word of its help found here (else 「值」, 「数字」 for numbers).
METAVARS = (("YYYY-MM-DD", "日期"), ("YYYY-MM", "年-月"), ("密码", "密码"), ("文件夹", "文件夹"), ("文件", "文件"),
            ("工作簿", "文件"), ("代码", "代码"))


def _metavar(argument: Arg) -> str:
    if argument.options.get("type") in (int, float):
        return "数字"
    return next((name for word, name in METAVARS if word in argument.help), "值")


def _add_arguments(parser: argparse.ArgumentParser, command: Command) -> None:
    """The command's arguments, each option with a Chinese metavar."""
    groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for argument in command.args:
        options = dict(argument.options)
        exclusive = options.pop("exclusive", None)
        takes_value = options.get("action") is None and argument.flags[0].startswith("-")
        if takes_value and "metavar" not in options:
            options["metavar"] = _metavar(argument)
        if exclusive and exclusive not in groups:
            groups[exclusive] = parser.add_mutually_exclusive_group()
        target = groups[exclusive] if exclusive else parser
        target.add_argument(*argument.flags, help=argument.help, **options)


def build_parser(handler: Callable[[Command], Callable[[argparse.Namespace], int]],
                 version: str) -> argparse.ArgumentParser:
    """The command line, derived from the table: one subcommand per command, in Chinese (`argparse_zh`);
    `handler(command)` is the function that runs it."""
    parser = argparse_zh.ArgumentParser(prog="ducha",
                                        description="精准扶贫专题督查：检查、评分、跟进（与 Excel 功能区按钮相同）")
    parser.add_argument("--version", action="version", version=f"ducha {version}", help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", title="命令")
    for command in TABLE:
        if command.subcommand is None:
            continue
        description = "。".join(t.rstrip("。") for t in (command.help, command.outputs) if t) + "。"
        p = sub.add_parser(command.subcommand, help=command.help, description=description)
        _add_arguments(p, command)
        p.set_defaults(func=handler(command))
    return parser
