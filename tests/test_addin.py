"""督查助手.xlam: built reproducibly from its sources, well-formed for Excel, read back by olevba and LibreOffice."""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
from oletools.olevba import VBA_Parser
from pyopenvba import ExcelFile, check_file

from ducha.app.addin import (
    ADDIN_CONTENT_TYPE,
    ADDIN_DIR,
    ADDIN_FILENAME,
    BUTTONS,
    CONFIG_SHEET,
    CUSTOMUI14_NS,
    CUSTOMUI14_PART,
    ON_ACTION,
    PROJECT_NAME,
    RIBBON_XML,
    TAB_LABEL,
    UI_REL_TYPE,
    VBA_MODULE,
    AddinError,
    RibbonButton,
    build_addin,
    install_addin,
    next_open_entry,
    read_config,
    read_vba_source,
    render_ribbon_xml,
    renumbered_open_entries,
    set_interpreter,
    uninstall_addin,
)
from ducha.app.commands import TABLE
from libreoffice import convert

COMMITTED = ADDIN_DIR / ADDIN_FILENAME
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
UI = f"{{{CUSTOMUI14_NS}}}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("build") / ADDIN_FILENAME)


@pytest.fixture(scope="module")
def vba_modules(built: Path) -> dict[str, str]:
    parser = VBA_Parser(str(built))
    try:
        return {Path(vba_filename).stem: code for _, _, vba_filename, code in parser.extract_macros()}
    finally:
        parser.close()


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def ribbon_buttons(xml: bytes | str) -> list:
    return list(SafeET.fromstring(xml).iter(f"{UI}button"))


# --- reproducible build ---------------------------------------------------------------------------------------


def test_committed_ribbon_xml_is_rendered_from_buttons() -> None:
    assert (ADDIN_DIR / RIBBON_XML).read_text(encoding="utf-8") == render_ribbon_xml(), (
        "addin/customUI14.xml is out of date: run `ducha addin build`")


def test_committed_addin_is_up_to_date(built: Path) -> None:
    assert COMMITTED.is_file(), "addin/督查助手.xlam is missing: run `ducha addin build`"
    assert built.read_bytes() == COMMITTED.read_bytes(), (
        "addin/督查助手.xlam differs from a fresh build: run `ducha addin build` "
        "(a different xlwings or pyOpenVBA version also changes it)")


def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    assert build_addin(tmp_path).read_bytes() == built.read_bytes()


def test_adding_a_button_is_one_entry() -> None:
    extra = RibbonButton("new_command", "新功能", "MacroPlay", "grpHelp", "新功能的说明。")
    buttons = ribbon_buttons(render_ribbon_xml((*BUTTONS, extra)))
    assert [button.get("id") for button in buttons] == [*(b.id for b in BUTTONS), "new_command"]
    assert buttons[-1].get("onAction") == ON_ACTION


def test_button_in_unknown_group_is_refused() -> None:
    with pytest.raises(AddinError):
        render_ribbon_xml((RibbonButton("x", "某", "Help", "grpMissing", "说明"),))


# --- package structure ----------------------------------------------------------------------------------------


def test_workbook_part_is_a_macro_enabled_addin(built: Path) -> None:
    types = SafeET.fromstring(parts_of(built)["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT_NS}Override")}
    assert overrides["/xl/workbook.xml"] == ADDIN_CONTENT_TYPE


def test_every_part_has_a_content_type(built: Path) -> None:
    parts = parts_of(built)
    types = SafeET.fromstring(parts["[Content_Types].xml"])
    defaults = {d.get("Extension").lower() for d in types.iter(f"{CT_NS}Default")}
    overrides = {o.get("PartName").lstrip("/") for o in types.iter(f"{CT_NS}Override")}
    assert overrides <= set(parts)
    untyped = [name for name in parts if name != "[Content_Types].xml"
               and name not in overrides and name.rpartition(".")[2].lower() not in defaults]
    assert untyped == []
    assert CUSTOMUI14_PART in overrides or "xml" in defaults


def test_root_relationship_points_at_customui14(built: Path) -> None:
    parts = parts_of(built)
    rels = SafeET.fromstring(parts["_rels/.rels"])
    ui = [r for r in rels.iter(f"{PKG_REL_NS}Relationship") if r.get("Type").endswith("/ui/extensibility")]
    assert [(r.get("Type"), r.get("Target")) for r in ui] == [(UI_REL_TYPE, CUSTOMUI14_PART)]
    assert [name for name in parts if name.startswith("customUI/")] == [CUSTOMUI14_PART]
    assert parts[CUSTOMUI14_PART] == (ADDIN_DIR / RIBBON_XML).read_bytes()


def test_ribbon_is_one_chinese_tab_of_large_buttons(built: Path) -> None:
    root = SafeET.fromstring(parts_of(built)[CUSTOMUI14_PART])
    assert root.tag == f"{UI}customUI"
    assert [tab.get("label") for tab in root.iter(f"{UI}tab")] == [TAB_LABEL]
    assert [group.get("label") for group in root.iter(f"{UI}group")] == ["督查", "州督查办", "帮助"]
    buttons = list(root.iter(f"{UI}button"))
    ids = [button.get("id") for button in buttons]
    assert len(ids) == len(set(ids))
    assert {c.name for c in TABLE if c.on_ribbon} == set(ids)
    assert {"check", "score", "flag", "run_all", "clear", "report", "sample", "ledger_button", "letters_button",
            "receipts", "resolve_button", "settings_button", "doctor", "about"} == set(ids)
    for button in buttons:
        assert button.get("size") == "large"
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]+", button.get("imageMso"))
        assert re.fullmatch(r"[a-z][a-z0-9_]*", button.get("id"))
        assert all(re.search(r"[\u4e00-\u9fff]", button.get(a)) for a in ("label", "screentip", "supertip"))


def test_every_on_action_names_a_ribbon_callback_in_the_vba(built: Path, vba_modules: dict[str, str]) -> None:
    actions = {button.get("onAction") for button in ribbon_buttons(parts_of(built)[CUSTOMUI14_PART])}
    assert actions == {ON_ACTION}
    for action in actions:
        module, _, sub = action.rpartition(".")
        sources = [vba_modules[module]] if module else list(vba_modules.values())
        signature = rf"^(Public\s+)?Sub\s+{sub}\s*\(\s*control\s+As\s+IRibbonControl\s*\)"
        assert any(re.search(signature, code, re.MULTILINE) for code in sources), action


# --- the VBA project ------------------------------------------------------------------------------------------


def test_vba_module_reads_back_exactly(vba_modules: dict[str, str]) -> None:
    # olevba returns a module's stored source verbatim: its Attribute lines and the VBE's CRLF line endings.
    # The .bas is kept with CRLF (addin/.gitattributes); read_vba_source() normalises any checkout to CRLF.
    source = read_vba_source()
    assert vba_modules[VBA_MODULE] == source
    assert source.isascii()
    assert (ADDIN_DIR / "ducha_ribbon.bas").read_bytes().decode("ascii").replace("\r\n", "\n") == (
        source.replace("\r\n", "\n"))


def test_xlwings_modules_kept_and_template_ribbon_removed(vba_modules: dict[str, str]) -> None:
    assert set(vba_modules) == {"ThisWorkbook", "Sheet2", "Dictionary", "xlwings", VBA_MODULE}
    assert re.search(r"^Public Function RunPython\(", vba_modules["xlwings"], re.MULTILINE)


def test_xlwings_finds_its_config_sheet(built: Path, vba_modules: dict[str, str]) -> None:
    project = re.search(r'^Public Const PROJECT_NAME As String = "(\w+)"', vba_modules["xlwings"], re.MULTILINE)
    assert project is not None and project.group(1) == PROJECT_NAME
    workbook = SafeET.fromstring(parts_of(built)["xl/workbook.xml"])
    assert [sheet.get("name") for sheet in workbook.iter(f"{MAIN_NS}sheet")] == [f"{project.group(1)}.conf"]
    assert read_config(built)["Interpreter_Win"] == ""


def test_pyopenvba_file_check_passes(built: Path) -> None:
    report = check_file(built)
    assert report.ok and report.complete, report.issues
    with ExcelFile(built) as book:
        assert book.validate() == []


def test_set_interpreter_changes_only_the_config_sheet(built: Path, tmp_path: Path) -> None:
    copy = tmp_path / ADDIN_FILENAME
    shutil.copyfile(built, copy)
    python = r"C:\Users\张 三\R&D <py>\python.exe"
    set_interpreter(copy, python)
    assert read_config(copy)["Interpreter_Win"] == python
    before, after = parts_of(built), parts_of(copy)
    assert [name for name in before if before[name] != after[name]] == ["xl/worksheets/sheet1.xml"]
    assert check_file(copy).ok
    once = copy.read_bytes()
    set_interpreter(copy, python)
    assert copy.read_bytes() == once
    set_interpreter(copy, "")
    assert copy.read_bytes() == built.read_bytes()


# --- LibreOffice ----------------------------------------------------------------------------------------------


def test_libreoffice_imports_the_ribbon_module(built: Path, tmp_path: Path) -> None:
    source = tmp_path / "ducha.xlam"
    shutil.copyfile(built, source)
    ods_path = convert(source, "ods", tmp_path, infilter="Calc MS Excel 2007 VBA XML")
    with zipfile.ZipFile(ods_path) as ods:
        modules = [name for name in ods.namelist() if re.fullmatch(rf"Basic/[^/]+/{VBA_MODULE}\.xml", name)]
        assert len(modules) == 1, ods.namelist()
        imported = SafeET.fromstring(ods.read(modules[0])).text
        content = ods.read("content.xml").decode("utf-8")

    def significant(code: str) -> list[str]:
        lines = (line.rstrip() for line in code.replace("\r\n", "\n").split("\n"))
        return [line for line in lines
                if line and not line.startswith(("Attribute ", "Rem Attribute ", "Option VBASupport"))]

    assert significant(imported) == significant(read_vba_source())
    assert f'table:name="{CONFIG_SHEET}"' in content


# --- install --------------------------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal off Windows")
@pytest.mark.parametrize("action", [install_addin, uninstall_addin])
def test_install_and_uninstall_refuse_off_windows(action, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPDATA", str(tmp_path))
    result = action()
    assert not result.ok and result.exit_code == 1
    assert "只能在 Windows 上" in result.message and "AddIns" in result.message and "没有做任何更改" in result.message
    assert list(tmp_path.iterdir()) == []


def test_next_open_entry_takes_the_first_free_slot() -> None:
    path = r"C:\Users\a\AppData\Roaming\Microsoft\AddIns\督查助手.xlam"
    assert next_open_entry({}, path) == ("OPEN", f'"{path}"')
    assert next_open_entry({"OPEN": '"x.xlam"', "OPEN1": '"y.xlam"'}, path) == ("OPEN2", f'"{path}"')
    assert next_open_entry({"OPEN": '"x.xlam"', "OPEN1": f'"{path}"'}, path) is None


def test_uninstall_renumbers_the_remaining_open_entries() -> None:
    path = r"C:\AddIns\督查助手.xlam"
    values = {"OPEN": '"a.xlam"', "OPEN1": f'"{path}"', "OPEN2": '/R "b.xll"', "OPEN10": '"c.xlam"'}
    assert renumbered_open_entries(values, path) == {"OPEN": '"a.xlam"', "OPEN1": '/R "b.xll"', "OPEN2": '"c.xlam"'}


def test_the_addin_commands_build_the_committed_file_and_refuse_to_install_off_windows(tmp_path, capsys):
    from ducha.app.cli import main

    assert main(["addin", "build", "--out", str(tmp_path / "a.xlam")]) == 0
    assert (tmp_path / "a.xlam").read_bytes() == (Path(__file__).parents[1] / "addin" / "督查助手.xlam").read_bytes()
    if sys.platform != "win32":
        assert main(["addin", "install"]) == 1
        assert "只能在 Windows 上" in capsys.readouterr().err


def test_committed_addin_carries_the_ducha_and_xlwings_versions_the_doctor_compares() -> None:
    import xlwings

    from ducha import __version__
    from ducha.app.addin_file import addin_versions

    assert addin_versions(COMMITTED) == {"ducha": __version__, "xlwings": xlwings.__version__}
    assert f'Public Const DUCHA_VERSION As String = "{__version__}"' in read_vba_source()
