"""The shape of the package: one command table behind the ribbon, the VBA and the command line."""

from __future__ import annotations

import re

import defusedxml.ElementTree as SafeET

from ducha.app import addin
from ducha.app.cli import HANDLERS, build_parser
from ducha.app.commands import BY_NAME, COMMANDS, TABLE

UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


def test_ribbon_xml_vba_dispatch_and_command_table_agree() -> None:
    committed = SafeET.fromstring((addin.ADDIN_DIR / addin.RIBBON_XML).read_bytes())
    buttons = [(b.get("id"), b.get("label"), b.get("supertip"), b.get("onAction"))
               for b in committed.iter(f"{UI}button")]
    declared = [c for c in TABLE if c.on_ribbon]
    assert buttons == [(c.name, c.label, c.tip or c.help, addin.ON_ACTION) for c in declared]

    # The VBA has one callback, the one every button calls, and it hands the button id to the Excel entry.
    vba = (addin.ADDIN_DIR / addin.VBA_SOURCE).read_text(encoding="ascii")
    assert re.findall(r"Public Sub (\w+)\(", vba) == [addin.VBA_CALLBACK]
    assert f'Attribute VB_Name = "{addin.VBA_MODULE}"' in vba
    assert "x.run('\" & control.Id & \"')" in vba

    # Every button is carried out by the Excel entry: a workbook command or a ribbon action, never both.
    for command in declared:
        assert (command.run is None) != (command.action is None), command.name
        assert (command.run is not None) == (command.name in COMMANDS)


def test_the_command_line_is_the_command_tables() -> None:
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == [c.subcommand for c in TABLE if c.subcommand]
    for command in TABLE:
        if command.subcommand and command.run is None:
            assert command.name in HANDLERS, f"{command.name} has no command-line function"
    assert set(HANDLERS) <= set(BY_NAME)
