"""The supervisor's 设置.xlsx: written with defaults, read back, and every bad value reported with its cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from ducha.app.cli import main
from ducha.prefecture.settings import (
    SETTINGS_SHEET,
    Settings,
    SettingsError,
    load_settings,
    read_settings_workbook,
    settings_path,
    write_settings_workbook,
)


def edited(tmp_path: Path, changes: dict[str, object]) -> Path:
    """设置.xlsx with the 内容 of the rows labelled like the keys of `changes` replaced (a label may be new)."""
    path = write_settings_workbook(settings_path(tmp_path), Settings())
    wb = load_workbook(path)
    ws = wb[SETTINGS_SHEET]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    for label, value in changes.items():
        row = rows.get(label, ws.max_row + 1)
        ws.cell(row, 1).value, ws.cell(row, 2).value = label, value
    wb.save(path)
    return path


def test_defaults_when_missing_and_a_round_trip(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == Settings()
    custom = Settings(office="黔南州人民政府督查室", office_code="黔督函", contact="李明", phone="0854-8221234",
                      copy_to=("州扶贫办", "州纪委监委"), period_days=15, imap_host="imap.example.gov.cn",
                      mail_user="ducha@example.gov.cn")
    write_settings_workbook(settings_path(tmp_path), custom)
    assert load_settings(tmp_path) == custom
    ws = load_workbook(settings_path(tmp_path))[SETTINGS_SHEET]
    assert [c.value for c in ws[1]] == ["项目", "内容", "说明"]
    assert not any((c.value or "") == "密码" for c in ws["A"])


def test_lists_and_numbers_as_people_type_them(tmp_path: Path) -> None:
    path = edited(tmp_path, {"抄送机关": "州扶贫办、州纪委监委，州委督查室", "整改期限（天）": "45", "IMAP端口": 143.0})
    settings = read_settings_workbook(path)
    assert settings.copy_to == ("州扶贫办", "州纪委监委", "州委督查室")
    assert settings.period_days == 45 and settings.imap_port == 143
    assert settings.addressee_for("甲县") == "甲县人民政府"


@pytest.mark.parametrize(("label", "value", "cell", "words"), [
    ("整改期限（天）", 0, "设置!B9", "整改期限（天）须为 1–365 的整数"),
    ("整改期限（天）", "一个月", "设置!B9", "须为 1–365 的整数"),
    ("机关代字", "州督办函〔2019〕", "设置!B3", "不要带〔年份〕和序号"),
    ("发文机关名称", "", "设置!B2", "发文机关名称不能为空"),
    ("主送机关", "甲县人民政府", "设置!B4", "须含 {县}"),
    ("联系电话", "电话八二二", "设置!B6", "只能含数字"),
    ("IMAP端口", 70000, "设置!B11", "1–65535"),
    ("IMAP服务器", "imap://mail.example.gov.cn:993", "设置!B10", "不要带 imap://"),
    ("邮箱账号", "ducha", "设置!B12", "完整的邮箱地址"),
    ("邮箱密码", "secret", "设置!A14", "不保存密码"),
    ("发文单位", "州督查室", "设置!A14", "不是设置项"),
])
def test_a_bad_value_names_its_cell_and_the_fix(tmp_path: Path, label: str, value: object, cell: str,
                                                words: str) -> None:
    path = edited(tmp_path, {label: value})
    with pytest.raises(SettingsError) as caught:
        read_settings_workbook(path)
    assert caught.value.cell == cell and str(caught.value).startswith(cell) and words in str(caught.value)
    assert caught.value.code.startswith("settings-")


def test_not_a_settings_workbook(tmp_path: Path) -> None:
    path = tmp_path / "设置.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(SettingsError, match="无法读取"):
        read_settings_workbook(path)


def test_the_settings_command_creates_then_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "档案"
    assert main(["settings", "--archive", str(archive)]) == 0
    assert "已生成默认设置" in capsys.readouterr().out and settings_path(archive).exists()
    assert main(["settings", "--archive", str(archive)]) == 0
    assert "设置无误" in capsys.readouterr().out
    edited(archive, {"整改期限（天）": 400})
    assert main(["settings", "--archive", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "设置!B9" in err and "1–365" in err and "Traceback" not in err
