"""`ducha addin doctor` and the 自检 button: is this computer ready to run 督查助手 from Excel?

Each check reports in Chinese and, when it fails, says how to fix it. What only Windows can tell — the registry's
OPEN entries, Excel's AddIns collection, the macro trust setting, the system code page — comes from the thin
readers in `Readers`, injected so that everything else runs (and is tested) anywhere.
"""

from __future__ import annotations

import json
import locale
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ducha import __version__
from ducha.app.addin_file import (
    ADDIN_FILENAME,
    CONFIG_SHEET,
    INTERPRETER_KEY,
    OFFICE_KEY,
    AddinError,
    addin_versions,
    addins_folder,
    open_values,
    options_keys,
    read_config,
)
from ducha.app.logs import log_dir

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: "✔", WARN: "！", FAIL: "✘"}
PYTHON_TIMEOUT_S = 60
# Excel's Trust Center, HKCU\...\Excel\Security\VBAWarnings: 1 enable all, 2 disable with notification,
# 3 disable except digitally signed, 4 disable without notification.
MACRO_SETTINGS = {1: "启用所有宏", 2: "禁用所有宏，并发出通知", 3: "禁用无数字签署的所有宏",
                  4: "禁用所有宏，并且不通知"}


@dataclass(frozen=True)
class Finding:
    """One check: what was checked, how it went, what was found and (when not ok) how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class AddinEntry:
    """One add-in in Excel's AddIns collection."""

    name: str
    path: str
    installed: bool


@dataclass(frozen=True)
class Trust:
    """Excel's macro settings: VBAWarnings (None: never changed, Excel's default 2) and whether the AddIns folder
    is a trusted location (None: unknown)."""

    vba_warnings: int | None
    addins_folder_trusted: bool | None = None


@dataclass
class Readers:
    """Where the doctor looks. The Windows-only ones return None when they cannot tell (another OS, no Excel)."""

    addin_path: Callable[[], Path] = field(default=lambda: addins_folder() / ADDIN_FILENAME)
    open_entries: Callable[[], dict[str, str] | None] = field(default=lambda: None)  # HKCU ...\Excel\Options OPENn
    excel_addins: Callable[[], list[AddinEntry] | None] = field(default=lambda: None)  # Excel's AddIns collection
    trust: Callable[[], Trust | None] = field(default=lambda: None)
    code_page: Callable[[], str] = field(default=lambda: system_code_page())
    user_config: Callable[[], Path] = field(default=lambda: Path.home() / ".xlwings" / "xlwings.conf")
    log_folder: Callable[[], Path] = field(default=log_dir)
    python_versions: Callable[[str], dict[str, str] | None] = field(default=lambda exe: python_versions(exe))


@dataclass
class Report:
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return all(f.status != FAIL for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def text(self) -> str:
        lines = [f"督查助手自检（ducha {__version__}）："]
        for f in self.findings:
            lines.append(f"{MARKS[f.status]} {f.name}：{f.detail}")
            if f.fix and f.status != OK:
                lines.append(f"    解决办法：{f.fix}")
        failed = sum(f.status == FAIL for f in self.findings)
        lines.append("自检通过。" if not failed else f"有 {failed} 项未通过，请按上面的解决办法处理后再自检。")
        return "\n".join(lines)


# --- the checks -------------------------------------------------------------------------------------------------


def run_doctor(workbook: Path | None = None, readers: Readers | None = None) -> Report:
    """Every check, in the order a technician would go through them."""
    readers = readers or windows_readers()
    addin = readers.addin_path()
    interpreter = configured_interpreter(addin, readers.user_config())
    findings = [check_addin_file(addin), check_interpreter(interpreter),
                check_python(interpreter, readers.python_versions),
                check_versions(addin), check_installed(addin, readers.open_entries(), readers.excel_addins()),
                check_trust(readers.trust()), check_log_folder(readers.log_folder())]
    if workbook is not None:
        findings.append(check_path_code_page(workbook, readers.code_page()))
    return Report(findings)


def check_addin_file(addin: Path) -> Finding:
    name = "加载项文件"
    if addin.is_file():
        return Finding(name, OK, str(addin))
    return Finding(name, FAIL, f"找不到 {addin}", "在命令行运行 ducha addin install（先关闭 Excel）。")


def configured_interpreter(addin: Path, user_config: Path) -> tuple[str, str]:
    """(the Python the add-in starts, where that is set): its config sheet first, then the user's xlwings.conf."""
    try:
        value = read_config(addin).get(INTERPRETER_KEY, "") if addin.is_file() else ""
    except (AddinError, KeyError, OSError, ValueError):
        value = ""
    if value:
        return value, f"加载项配置表 {CONFIG_SHEET}"
    if user_config.is_file():
        for line in user_config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, setting = line.partition(",")
            if key.strip().strip('"').upper() == INTERPRETER_KEY.upper() and setting.strip().strip('"'):
                return setting.strip().strip('"'), str(user_config)
    return "", ""


def check_interpreter(interpreter: tuple[str, str]) -> Finding:
    name = "配置的 Python"
    exe, where = interpreter
    fix = (f"关闭 Excel，在命令行用要使用的 Python 运行 {Path(sys.executable).name} -m ducha addin install，"
           "它会写入这个 Python 的路径。")
    if not exe:
        return Finding(name, WARN, f"加载项没有指定 Python（{INTERPRETER_KEY} 为空），Excel 将使用 PATH 中的 pythonw",
                       fix)
    if not Path(exe).is_file():
        return Finding(name, FAIL, f"{where} 中的 {INTERPRETER_KEY} 指向 {exe}，该文件不存在", fix)
    return Finding(name, OK, f"{exe}（{where}）")


def python_versions(exe: str) -> dict[str, str] | None:
    """ducha's and xlwings' versions as `exe` sees them (None when it cannot run or import them)."""
    code = ("import json, sys, ducha, xlwings; print(json.dumps({'python': sys.version.split()[0], "
            "'ducha': ducha.__version__, 'xlwings': xlwings.__version__}))")
    try:
        done = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=PYTHON_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def _python_w(exe: str) -> str:
    """pythonw.exe runs the add-in's Python without a window; it imports what python.exe beside it imports."""
    path = Path(exe)
    return str(path.with_name("python.exe")) if path.name.lower() == "pythonw.exe" else exe


def check_python(interpreter: tuple[str, str], versions: Callable[[str], dict[str, str] | None]) -> Finding:
    name = "加载项使用的 Python"
    exe = interpreter[0] or sys.executable
    if interpreter[0] and not Path(exe).is_file():
        return Finding(name, FAIL, f"{exe} 不存在", "见上一项。")
    found = versions(_python_w(exe))
    if found is None:
        return Finding(name, FAIL, f"{exe} 无法导入 ducha 和 xlwings",
                       f"用这个 Python 安装督查助手：{exe} -m pip install ducha，或重新运行 ducha addin install。")
    same = Path(_python_w(exe)).resolve() == Path(sys.executable).resolve()
    detail = f"{exe}（Python {found['python']}，ducha {found['ducha']}，xlwings {found['xlwings']}）"
    if found["ducha"] != __version__:
        return Finding(name, FAIL, f"{detail}，与当前 ducha {__version__} 不一致",
                       f"在这个 Python 中升级：{exe} -m pip install -U ducha，"
                       "或用当前 Python 重新运行 ducha addin install。")
    return Finding(name, OK, detail + ("" if same else f"；当前命令行用的是 {sys.executable}"))


def check_versions(addin: Path) -> Finding:
    import xlwings

    name = "加载项版本"
    fix = "关闭 Excel，运行 ducha addin install 安装与本程序同版本的加载项。"
    if not addin.is_file():
        return Finding(name, FAIL, "没有加载项文件，无法比较版本", fix)
    try:
        carried = addin_versions(addin)
    except (AddinError, OSError, ValueError) as exc:
        return Finding(name, FAIL, f"无法读取加载项的 VBA：{exc}", fix)
    wrong = [f"{what} 加载项为 {carried.get(key) or '未知'}、本程序为 {have}"
             for key, what, have in (("ducha", "督查助手", __version__), ("xlwings", "xlwings", xlwings.__version__))
             if carried.get(key) != have]
    if wrong:
        return Finding(name, FAIL, "版本不一致：" + "；".join(wrong), fix)
    return Finding(name, OK, f"督查助手 {__version__}，xlwings {xlwings.__version__}，与加载项的 VBA 一致")


def check_installed(addin: Path, open_entries: dict[str, str] | None,
                    excel_addins: list[AddinEntry] | None) -> Finding:
    name = "加载项已安装并随 Excel 启动"
    fix = "关闭 Excel，运行 ducha addin install；或在 Excel「文件 > 选项 > 加载项 > 转到」中勾选「督查助手」。"
    if open_entries is None and excel_addins is None:
        return Finding(name, WARN, "无法读取注册表和 Excel 的加载项列表（不是 Windows，或 Excel 未运行）",
                       "在装有 Excel 的 Windows 电脑上运行 ducha addin doctor。")
    target = addin.name.casefold()
    if excel_addins is not None:
        mine = [a for a in excel_addins if a.name.casefold() == target or Path(a.path).name.casefold() == target]
        if not mine:
            return Finding(name, FAIL, "Excel 的加载项列表中没有督查助手", fix)
        if not any(a.installed for a in mine):
            return Finding(name, FAIL, "督查助手在 Excel 的加载项列表中，但没有勾选（不会加载）", fix)
        elsewhere = [a.path for a in mine if a.installed and Path(a.path).resolve() != addin.resolve()]
        if elsewhere:
            return Finding(name, WARN, f"Excel 加载的是 {elsewhere[0]}，不是 {addin}",
                           "在 Excel 的加载项对话框中取消勾选旧的督查助手，再运行 ducha addin install。")
    if open_entries is not None:
        registered = [value for key, value in sorted(open_entries.items()) if target in value.casefold()]
        if not registered:
            return Finding(name, FAIL, f"注册表 HKCU\\{OFFICE_KEY}\\<版本>\\Excel\\Options 中没有督查助手的 OPEN 项",
                           fix)
        return Finding(name, OK, f"已登记：{registered[0]}")
    return Finding(name, OK, "已在 Excel 的加载项列表中勾选")


def check_trust(trust: Trust | None) -> Finding:
    name = "宏安全设置"
    if trust is None:
        return Finding(name, WARN, "无法读取 Excel 信任中心的设置（不是 Windows）",
                       "在装有 Excel 的 Windows 电脑上运行 ducha addin doctor。")
    level = trust.vba_warnings or 2
    shown = MACRO_SETTINGS.get(level, f"未知设置 {level}")
    if trust.addins_folder_trusted:
        return Finding(name, OK, f"{shown}；加载项所在文件夹是受信任位置，督查助手的宏可以运行")
    fix = ("在 Excel「文件 > 选项 > 信任中心 > 信任中心设置 > 受信任位置」中添加 "
           f"{addins_folder()}；或在「宏设置」中选择「禁用所有宏，并发出通知」，打开时点「启用内容」。")
    if level == 4:
        return Finding(name, FAIL, f"{shown}，加载项所在文件夹不是受信任位置：督查助手的按钮不会起作用", fix)
    if level == 3:
        return Finding(name, FAIL, f"{shown}：督查助手没有数字签名，按钮不会起作用", fix)
    return Finding(name, OK if level == 1 else WARN, shown + ("" if level == 1 else "；首次使用时需点「启用内容」"),
                   fix)


def check_log_folder(folder: Path) -> Finding:
    name = "日志文件夹可写"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-", delete=True) as probe:
            probe.write(b"ok")
    except OSError as exc:
        return Finding(name, FAIL, f"无法写入 {folder}（{exc.strerror or exc}）",
                       f"给当前用户 {folder} 的写入权限，或设置环境变量 DUCHA_LOG_DIR 指向一个可写的文件夹。")
    return Finding(name, OK, str(folder))


def check_path_code_page(workbook: Path, code_page: str) -> Finding:
    """xlwings passes the workbook's name to Python on a command line in the system code page: a character outside
    it arrives as '?', and the button cannot find its workbook."""
    name = "工作簿路径与系统代码页"
    text = str(workbook)
    lost = sorted({ch for ch in text if ch.encode(code_page, errors="replace").decode(code_page) != ch}, key=text.index)
    if not lost:
        return Finding(name, OK, f"{text} 可用系统代码页 {code_page} 表示")
    return Finding(name, FAIL, f"{text} 中的「{''.join(lost)}」无法用系统代码页 {code_page} 表示，"
                               "Excel 传给 Python 的工作簿名会出错",
                   "把工作簿移到（或另存为）只含中文和英文字母的文件夹和文件名中；或在 Windows「区域 > 管理 > "
                   "更改系统区域设置」中选「中文(简体，中国)」，或勾选「使用 Unicode UTF-8 提供全球语言支持」。")


# --- the readers -----------------------------------------------------------------------------------------------


def system_code_page() -> str:
    """The ANSI code page that command lines are converted to (cp936 on Chinese Windows)."""
    if sys.platform == "win32":
        import ctypes

        return f"cp{ctypes.windll.kernel32.GetACP()}"  # type: ignore[attr-defined]
    return locale.getpreferredencoding(False)


def windows_readers() -> Readers:
    """The real readers: the registry and Excel on Windows; elsewhere they report that they cannot tell."""
    if sys.platform != "win32":
        return Readers()
    return Readers(open_entries=_registry_open_entries, trust=_registry_trust, excel_addins=_running_excel_addins)


def excel_readers(book: Any) -> Readers:
    """The readers for the 自检 button: as `windows_readers`, with the AddIns collection of the clerk's Excel."""
    readers = windows_readers()
    if sys.platform == "win32" and book is not None:
        readers.excel_addins = lambda: _excel_addins(book.app.api)
    return readers


def _excel_addins(api: Any) -> list[AddinEntry]:
    return [AddinEntry(str(a.Name), str(a.FullName), bool(a.Installed)) for a in api.AddIns]


def _running_excel_addins() -> list[AddinEntry] | None:
    try:
        import xlwings as xw

        return _excel_addins(xw.apps.active.api) if xw.apps.count else None
    except Exception:
        return None


def _registry_open_entries() -> dict[str, str] | None:
    import winreg

    found: dict[str, str] = {}
    for path in options_keys():
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, path) as key:
                found.update({f"{path}\\{name}": value for name, value in open_values(key).items()})
        except OSError:
            continue
    return found


def _registry_trust() -> Trust | None:
    import winreg

    warnings: int | None = None
    trusted = False
    folder = os.path.normcase(str(addins_folder()))
    for options in options_keys():
        excel = options.rsplit("\\", 1)[0]
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, rf"{excel}\Security") as key:
                warnings = int(winreg.QueryValueEx(key, "VBAWarnings")[0])
        except OSError:
            pass
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, rf"{excel}\Security\Trusted Locations") as locations:
                index = 0
                while True:
                    try:
                        sub = winreg.EnumKey(locations, index)
                    except OSError:
                        break
                    index += 1
                    with winreg.OpenKey(locations, sub) as location:
                        path = os.path.expandvars(str(winreg.QueryValueEx(location, "Path")[0]))
                    if os.path.normcase(path.rstrip("\\")) == folder.rstrip("\\"):
                        trusted = True
        except OSError:
            pass
    return Trust(warnings, trusted)
