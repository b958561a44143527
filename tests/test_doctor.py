"""`ducha addin doctor` / 自检: each check on a real built add-in, real folders and a real Python; only the
Windows readers (registry, Excel's AddIns collection, Trust Center, code page) are fakes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import xlwings

from ducha import __version__
from ducha.app import addin as addin_tools
from ducha.app.addin import ADDIN_FILENAME, AddinError, build_addin, set_interpreter, stamp_version
from ducha.app.addin_file import addin_versions
from ducha.app.doctor import FAIL, OK, WARN, AddinEntry, Readers, Trust, python_versions, run_doctor


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("build") / ADDIN_FILENAME)


@pytest.fixture
def installed(built: Path, tmp_path: Path) -> Path:
    """The add-in as `ducha addin install` leaves it: in the AddIns folder, pointing at this Python."""
    target = tmp_path / "AddIns" / ADDIN_FILENAME
    target.parent.mkdir()
    target.write_bytes(built.read_bytes())
    set_interpreter(target, sys.executable)
    return target


def readers(addin: Path, tmp_path: Path, **changes) -> Readers:
    """A healthy Windows computer, except for `changes`."""
    fakes = Readers(addin_path=lambda: addin,
                    open_entries=lambda: {r"Software\Microsoft\Office\16.0\Excel\Options\OPEN": f'"{addin}"'},
                    excel_addins=lambda: [AddinEntry(addin.name, str(addin), True)],
                    trust=lambda: Trust(2, addins_folder_trusted=True), code_page=lambda: "cp936",
                    user_config=lambda: tmp_path / "no-xlwings.conf", log_folder=lambda: tmp_path / "logs")
    for name, value in changes.items():
        setattr(fakes, name, value)
    return fakes


def finding(report, name: str):
    return next(f for f in report.findings if f.name == name)


def test_a_healthy_installation_passes_every_check(installed, tmp_path):
    report = run_doctor(tmp_path / "清水县" / "2019-11 督查.xlsx", readers(installed, tmp_path))
    assert [f.status for f in report.findings] == [OK] * 8, report.text()
    assert report.ok and report.exit_code == 0
    text = report.text()
    assert text.endswith("自检通过。") and "解决办法" not in text
    assert f"ducha {__version__}，xlwings {xlwings.__version__}" in finding(report, "加载项使用的 Python").detail


def test_the_addin_carries_the_versions_it_was_built_with(built, tmp_path, monkeypatch):
    assert addin_versions(built) == {"ducha": __version__, "xlwings": xlwings.__version__}
    monkeypatch.setattr(addin_tools, "__version__", "0.0.9")
    old = build_addin(tmp_path / ADDIN_FILENAME)
    set_interpreter(old, sys.executable)
    report = run_doctor(None, readers(old, tmp_path))
    check = finding(report, "加载项版本")
    assert check.status == FAIL and "督查助手 加载项为 0.0.9、本程序为 " + __version__ in check.detail
    assert "ducha addin install" in check.fix and not report.ok and report.exit_code == 1
    assert "解决办法：关闭 Excel，运行 ducha addin install" in report.text()


def test_stamping_needs_the_version_constant_in_the_module():
    with pytest.raises(AddinError, match="DUCHA_VERSION"):
        stamp_version('Attribute VB_Name = "DuchaRibbon"\r\nOption Explicit\r\n')


def test_an_interpreter_that_does_not_exist_fails_with_the_fix(installed, tmp_path):
    set_interpreter(installed, r"C:\Python39\pythonw.exe")
    report = run_doctor(None, readers(installed, tmp_path))
    check = finding(report, "配置的 Python")
    assert check.status == FAIL and r"C:\Python39\pythonw.exe" in check.detail and "该文件不存在" in check.detail
    assert "addin install" in check.fix
    assert finding(report, "加载项使用的 Python").status == FAIL


def test_an_empty_interpreter_falls_back_to_the_users_xlwings_conf(installed, tmp_path):
    set_interpreter(installed, "")
    conf = tmp_path / "xlwings.conf"
    conf.write_text(f'"INTERPRETER_WIN","{sys.executable}"\n', encoding="utf-8")
    report = run_doctor(None, readers(installed, tmp_path, user_config=lambda: conf))
    check = finding(report, "配置的 Python")
    assert check.status == OK and str(conf) in check.detail
    assert finding(report, "配置的 Python").detail.startswith(sys.executable)
    nothing = run_doctor(None, readers(installed, tmp_path))
    assert finding(nothing, "配置的 Python").status == WARN


def test_a_python_without_this_ducha_fails(installed, tmp_path):
    report = run_doctor(None, readers(installed, tmp_path, python_versions=lambda exe: {
        "python": "3.11.7", "ducha": "0.0.1", "xlwings": xlwings.__version__}))
    check = finding(report, "加载项使用的 Python")
    assert check.status == FAIL and "0.0.1" in check.detail and "pip install -U ducha" in check.fix
    broken = run_doctor(None, readers(installed, tmp_path, python_versions=lambda exe: None))
    assert "无法导入 ducha 和 xlwings" in finding(broken, "加载项使用的 Python").detail


def test_python_versions_asks_the_interpreter_itself(tmp_path):
    found = python_versions(sys.executable)
    assert found == {"python": sys.version.split()[0], "ducha": __version__, "xlwings": xlwings.__version__}
    assert python_versions(str(tmp_path / "python.exe")) is None


@pytest.mark.parametrize(("change", "expected"), [
    ({"open_entries": lambda: {}, "excel_addins": lambda: None}, "没有督查助手的 OPEN 项"),
    ({"excel_addins": lambda: []}, "Excel 的加载项列表中没有督查助手"),
    ({"excel_addins": lambda: [AddinEntry(ADDIN_FILENAME, r"C:\x\督查助手.xlam", False)]}, "没有勾选"),
])
def test_an_addin_not_set_to_load_fails(installed, tmp_path, change, expected):
    check = finding(run_doctor(None, readers(installed, tmp_path, **change)), "加载项已安装并随 Excel 启动")
    assert check.status == FAIL and expected in check.detail and "ducha addin install" in check.fix


def test_without_windows_readers_the_installation_is_a_warning_not_a_pass(installed, tmp_path):
    report = run_doctor(None, readers(installed, tmp_path, open_entries=lambda: None, excel_addins=lambda: None,
                                      trust=lambda: None))
    assert finding(report, "加载项已安装并随 Excel 启动").status == WARN
    assert finding(report, "宏安全设置").status == WARN


@pytest.mark.parametrize(("trust", "status"), [
    (Trust(4, addins_folder_trusted=False), FAIL), (Trust(3, addins_folder_trusted=False), FAIL),
    (Trust(4, addins_folder_trusted=True), OK), (Trust(None, addins_folder_trusted=False), WARN),
    (Trust(1, addins_folder_trusted=False), OK),
])
def test_macro_trust(installed, tmp_path, trust, status):
    check = finding(run_doctor(None, readers(installed, tmp_path, trust=lambda: trust)), "宏安全设置")
    assert check.status == status
    if status != OK:
        assert "信任中心" in check.fix and "受信任位置" in check.fix


def test_an_unwritable_log_folder_fails_with_the_fix(installed, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    check = finding(run_doctor(None, readers(installed, tmp_path, log_folder=lambda: blocker / "logs")),
                    "日志文件夹可写")
    assert check.status == FAIL and "DUCHA_LOG_DIR" in check.fix
    assert list(tmp_path.glob("logs/.doctor-*")) == []


@pytest.mark.parametrize(("path", "code_page", "status", "lost"), [
    (r"D:\督查\清水县-2019-11.xlsx", "cp936", OK, ""),
    (r"D:\督查\清水县-2019-11.xlsx", "cp1252", FAIL, "督查清水县"),
    (r"D:\España\Müller.xlsx", "cp936", FAIL, "ñ"),
    (r"D:\España\Müller.xlsx", "cp1252", OK, ""),
])
def test_the_workbook_path_must_survive_the_system_code_page(installed, tmp_path, path, code_page, status, lost):
    report = run_doctor(Path(path), readers(installed, tmp_path, code_page=lambda: code_page))
    check = finding(report, "工作簿路径与系统代码页")
    assert check.status == status
    if status == FAIL:
        assert f"「{lost}」" in check.detail and code_page in check.detail and "系统区域设置" in check.fix
