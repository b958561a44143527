"""What the command line shows a person: Chinese help and errors for every command (no English outside names),
a suggestion for a mistyped command, output that survives a GBK or ASCII console, `--out` that means the same for
every command (a path, a path without extension, an existing folder), and a console summary that fits one screen.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from ducha.adapters.protect import default_output as encrypted_name
from ducha.adapters.xlsx_writer import default_output
from ducha.app.argparse_zh import fit, wrap
from ducha.app.cli import build_parser, main
from ducha.app.commands import TABLE
from ducha.app.demo import write_demo_roster, write_demo_workbook
from ducha.reading.workbook import read_workbook
from ducha.sheets.score_sheet import score_workbook

WIDTH = 80
SUBCOMMANDS = [c.subcommand for c in TABLE if c.subcommand]
# Names of things that stay as they are in Chinese text: the program, file formats, products, environment variables.
NAMES = {"ducha", "JSON", "json", "xlsx", "xlsm", "xlam", "docx", "eml", "msg", "zip", "PDF", "pdf", "Excel",
         "LibreOffice", "Windows", "YYYY", "MM", "DD", "GB", "DUCHA_ARCHIVE", "DUCHA_PASSWORD", "N",
         "IMAP", "IMAPS", "INBOX", "CA", "DUCHA_IMAP_PASSWORD"}
# The result file's default name is a name too, whatever naming scheme it follows.
NAMES |= set(re.findall(r"[A-Za-z_]+", default_output(Path("x.xlsx")).name))
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z_]*")


@pytest.fixture(autouse=True)
def _quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCHA_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("COLUMNS", str(WIDTH))


def call(*argv: str) -> tuple[int, str, str]:
    """`ducha argv…` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def allowed_words() -> set[str]:
    """The words of the command line that are names: commands, option strings, metavars, choices."""
    parser = build_parser()
    words = set(NAMES) | set(SUBCOMMANDS)
    sub = next(a for a in parser._actions if a.choices and "check" in a.choices)
    for p in [parser, *sub.choices.values()]:
        for action in p._actions:
            for name in [*action.option_strings, action.metavar, *(action.choices or ())]:
                if isinstance(name, str):
                    words |= set(ENGLISH_WORD.findall(name))
    return words


def english(text: str, typed: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The English words of `text` that are not names (nor what the user typed, echoed back)."""
    allowed = allowed_words() | {w for t in typed for w in ENGLISH_WORD.findall(t)}
    return [w for w in ENGLISH_WORD.findall(text) if w not in allowed]


HELP_CALLS = [[], *([c] for c in SUBCOMMANDS), ["addin", "install"], ["ledger", "export"]]


@pytest.mark.parametrize("argv", HELP_CALLS, ids=lambda a: " ".join(a) or "ducha")
def test_help_of_every_command_is_chinese_and_fits_the_width(argv: list[str]) -> None:
    code, out, err = call(*argv, "--help")
    assert code == 0 and not err
    assert out.startswith("用法：ducha")
    assert "选项：" in out and "显示此帮助并退出" in out
    assert "usage" not in out and "options:" not in out and "positional arguments" not in out
    assert english(out) == []
    for line in out.splitlines():
        assert cell_len(line) <= WIDTH, line
        assert not line.strip() or line.strip()[0] not in "，。、；：）」", line


BAD_CALLS = [[c, "--no-such-option"] for c in SUBCOMMANDS] + [
    ["check"],  # the following arguments are required
    ["check", "a.xlsx", "--out"],  # expected one argument
    ["check", "a.xlsx", "--out", "b.xlsx", "--in-place"],  # not allowed with argument
    ["addin", "instal"],  # invalid choice
    ["sample", "名册.xlsx", "--month", "2026-12", "--seed", "abc"],  # invalid int value
    ["report"],  # --month is required
    ["intake"],  # at least one path
    ["check", "a.xlsx", "b.xlsx"],  # unrecognized arguments
]


@pytest.mark.parametrize("argv", BAD_CALLS, ids=" ".join)
def test_a_bad_argument_gets_a_chinese_error_and_exit_code_2(argv: list[str]) -> None:
    code, out, err = call(*argv)
    assert code == 2 and not out
    assert err.startswith("用法：ducha")
    assert f"ducha {argv[0]}：错误：" in err
    assert "error" not in err and "usage" not in err
    assert english(err, argv) == []


def test_argparse_messages_read_in_chinese() -> None:
    assert "缺少必需的参数：工作簿" in call("check")[2]
    assert "参数 --out：后面需要跟一个值" in call("check", "a.xlsx", "--out")[2]
    assert "不能与 --out 同时使用" in call("check", "a.xlsx", "--out", "b.xlsx", "--in-place")[2]
    assert "无效的选择「instal」，您是否想输入「install」？" in call("addin", "instal")[2]
    assert "「abc」不是整数" in call("sample", "名册.xlsx", "--month", "2026-12", "--seed", "abc")[2]
    assert "无法识别的参数：b.xlsx" in call("check", "a.xlsx", "b.xlsx")[2]


def test_an_unknown_command_suggests_the_nearest_one() -> None:
    code, _, err = call("chek")
    assert code == 2
    assert err.splitlines()[-1] == "ducha：错误：未知命令「chek」，您是否想输入「check」？"
    assert "未知命令「smaple」，您是否想输入「sample」？" in call("smaple", "x.xlsx")[2]
    code, _, err = call("xyzzy")
    assert code == 2 and "未知命令「xyzzy」" in err and "您是否" not in err and "ducha --help" in err
    assert english(err, ["xyzzy"]) == []


def test_version_and_its_help() -> None:
    from ducha import __version__

    assert call("--version")[1].strip() == f"ducha {__version__}"
    assert "显示版本号并退出" in call("--help")[1]


def description(command: str) -> str:
    """The text between the usage and the first section of `ducha <command> --help`."""
    out = call(command, "--help")[1]
    return out.split("\n\n")[1]


def test_score_flag_and_run_describe_their_own_outputs() -> None:
    check, score, flag, run = (description(c) for c in ("check", "score", "flag", "run"))
    assert len({check, score, flag, run}) == 4
    assert "「评分」" in score and "判定明细" in score and "检查结果" not in score and "跟进清单" not in score
    assert "「跟进清单」" in flag and "检查结果" not in flag and "「评分」" not in flag
    assert all(sheet in run for sheet in ("「评分」", "「检查结果」", "「跟进清单」"))
    assert "「检查结果」" in check and "评分" not in check
    for command, sheet in (("score", "「评分」"), ("flag", "「跟进清单」")):
        json_help = next(line for line in call(command, "--help")[1].splitlines() if "--json" in line
                         and "JSON" in line)
        assert sheet in json_help


def test_wrap_keeps_latin_words_whole_and_no_line_starts_with_closing_punctuation() -> None:
    text = "身份证号被保存成了数字（522631********4000），Excel 已丢失末几位。请把该列设为“文本”格式。"
    for width in range(12, 40):
        lines = wrap(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(line[0] not in "，。、；：）」" for line in lines)
        assert all("Excel" in line or ("Exc" not in line and "el " not in line) for line in lines)
        # only closing punctuation may hang past the width (so that it never starts a line)
        assert all(cell_len(line.rstrip("，。、；：）」”")) <= width for line in lines if "522631****" not in line)
    assert fit("扶贫小额贷款贫困户覆盖率 85.45%，低于目标", 30) == "扶贫小额贷款贫困户覆盖率…"
    assert fit("短", 30) == "短"


# ---- the console summary ----


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "清水县-2019-11-督查工作簿.xlsx")


def test_the_run_summary_fits_one_screen_one_line_per_item(demo: Path, tmp_path: Path) -> None:
    code, out, _ = call("run", str(demo), "--out", str(tmp_path / "结果.xlsx"))
    assert code == 1  # the demo has errors
    lines = out.splitlines()
    assert len(lines) <= 25, out
    assert lines[-1] == f"结果已写入：{tmp_path / '结果.xlsx'}"  # a path is shown whole, however long
    for line in lines[:-1]:
        assert cell_len(line) < WIDTH, line
        assert line.strip() not in {"", "。", "，", "）"}, out
    card = score_workbook(read_workbook(demo).data).card
    for item in card.items:
        (line,) = (line for line in lines if f"{item.name}：" in line)
        assert f"{round(item.points, 2):g}/{item.max_points:g}" in line
    assert "识别不准确户 7 个" in out


@pytest.mark.parametrize("encoding", ["gbk", "ascii"])
def test_a_console_that_cannot_show_every_character_gets_the_result_and_a_normal_end(
        demo: Path, tmp_path: Path, encoding: str) -> None:
    out = tmp_path / "结果−✓.xlsx"  # neither sign is in GBK; the name is printed at the end
    env = {**os.environ, "PYTHONIOENCODING": encoding, "DUCHA_LOG_DIR": str(tmp_path / "logs")}
    done = subprocess.run([sys.executable, "-m", "ducha", "run", str(demo), "--out", str(out)], env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 1, done.stderr.decode(encoding, "replace")  # findings, not a crash (3)
    assert out.exists()
    stdout, stderr = done.stdout.decode(encoding), done.stderr.decode(encoding)
    assert "Traceback" not in stderr and "程序内部错误" not in stderr
    assert stdout.splitlines()[-1].endswith(out.name.encode(encoding, "replace").decode(encoding))


# ---- --out, the same for every command ----


@pytest.fixture(scope="module")
def prefecture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the demo's archive (for report, ledger, letters) and roster (for sample)."""
    folder = tmp_path_factory.mktemp("prefecture")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DUCHA_LOG_DIR", str(folder / "logs"))
        assert call("demo", "--out", str(folder))[0] == 0
    return folder


DEMO, ROSTER = "清水县-2019-11-督查工作簿.xlsx", "农户名册-清水县.xlsx"


def writers(folder: Path) -> dict[str, tuple[list[str], str]]:
    """Every command that writes a file: its arguments (without --out) and the default name it writes."""
    archive = ["--archive", str(folder / "督查档案")]
    workbook = str(folder / DEMO)
    return {
        "template": ([], "精准扶贫专题督查工作簿.xlsx"),
        "check": ([workbook], default_output(Path(workbook)).name),
        "score": ([workbook], default_output(Path(workbook)).name),
        "flag": ([workbook], default_output(Path(workbook)).name),
        "run": ([workbook], default_output(Path(workbook)).name),
        "rubric": ([], "评分细则.xlsx"),
        "report": (["--month", "2019-11", *archive], "督查评分汇总-2019-11.xlsx"),
        "ledger": (["export", *archive], "问题台账.xlsx"),
        "letters": (["--month", "2019-11", *archive], "整改督办函-2019-11"),
        "sample": ([str(folder / ROSTER), "--month", "2026-12", "--county", "522631", "--seed", "5", *archive],
                   "清水县-2026-12-督查工作簿.xlsx"),
        "protect": ([workbook, "--password", "口令-7"], encrypted_name(Path(workbook)).name),
        "addin": (["build"], "督查助手.xlam"),
        "demo": ([], DEMO),
    }


def test_every_command_with_out_is_covered(prefecture: Path) -> None:
    with_out = {c.subcommand for c in TABLE if c.subcommand and any("--out" in a.flags for a in c.args)}
    assert with_out == set(writers(prefecture))


@pytest.mark.parametrize("command", list(writers(Path("."))))
def test_out_as_an_existing_folder_writes_the_default_name_into_it(prefecture: Path, tmp_path: Path,
                                                                   command: str) -> None:
    args, name = writers(prefecture)[command]
    folder = tmp_path / "已有文件夹"
    folder.mkdir()
    code, _, err = call(command, *args, "--out", str(folder))
    assert code in (0, 1), err
    assert "程序内部错误" not in err
    assert (folder / name).exists(), sorted(p.name for p in folder.iterdir())
    if command == "letters":
        assert list((folder / name).glob("*.docx"))
    elif command != "demo":
        assert sorted(p.name for p in folder.iterdir()) == [name]


@pytest.mark.parametrize("command", ["template", "run", "rubric", "report", "ledger", "sample", "protect", "addin",
                                     "letters"])
def test_out_without_extension_gets_the_right_one(prefecture: Path, tmp_path: Path, command: str) -> None:
    args, name = writers(prefecture)[command]
    code, _, err = call(command, *args, "--out", str(tmp_path / "s7"))
    assert code in (0, 1), err
    expected = "s7" if command == "letters" else "s7" + Path(name).suffix
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "logs") == [expected]


def test_sample_out_folder_next_to_a_roster_of_its_own(tmp_path: Path) -> None:
    """The issue's case: `ducha sample ROSTER --month 2026-12 --out 已有文件夹` (no archive given, a fresh roster)."""
    roster = write_demo_roster(tmp_path / ROSTER)
    folder = tmp_path / "已有文件夹"
    folder.mkdir()
    code, out, err = call("sample", str(roster), "--month", "2026-12", "--archive", str(tmp_path / "档案"),
                          "--out", str(folder))
    assert code == 0, err
    (written,) = folder.iterdir()
    assert written.name.endswith("-2026-12-督查工作簿.xlsx") and str(written) in out


def test_intake_lists_each_file_whole_on_lines_that_fit(demo: Path, tmp_path: Path) -> None:
    note = tmp_path / "说明.txt"
    note.write_text("不是工作簿", encoding="utf-8")
    code, out, _ = call("intake", str(demo), str(note), "--archive", str(tmp_path / "档案"))
    assert code == 0
    lines = out.splitlines()
    assert f"  {demo.name}" in lines and f"  {note.name}" in lines
    assert any(line.startswith("    已接收：清水县 2019-11，第 1 版，总分 ") for line in lines)
    assert all(cell_len(line) < WIDTH for line in lines if "档案" not in line)


def test_flag_prints_its_follow_up_list_not_the_score(demo: Path, tmp_path: Path) -> None:
    code, out, _ = call("flag", str(demo), "--out", str(tmp_path / "跟进.xlsx"))
    assert code == 0
    flags = score_workbook(read_workbook(demo).data).flags
    households = sum(1 for f in flags if f.level == "农户")
    assert out.splitlines()[0].startswith(f"需要跟进：农户 {households} 户")
    assert "评分：" not in out and "/10" not in out
    assert len(out.splitlines()) <= 10
