"""docs/clauses.md: every test it names exists, every indicator appears, and no clause row lacks code or a test."""

from __future__ import annotations

import re
from pathlib import Path

from ducha.scoring.indicators import SPECS

ROOT = Path(__file__).resolve().parents[1]
TABLE = (ROOT / "docs" / "clauses.md").read_text(encoding="utf-8")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)")


def _clause_rows() -> list[list[str]]:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in TABLE.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    return [r for r in rows if r[0] != "条款"]


def test_every_named_test_exists() -> None:
    refs = TEST_REF.findall(TABLE)
    assert len(refs) > 50
    for path, name in refs:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name}"


def test_every_indicator_is_mapped_to_a_clause() -> None:
    assert [key for key in SPECS if f"`{key}`" not in TABLE] == []


def test_no_clause_row_lacks_its_code_or_test() -> None:
    rows = _clause_rows()
    assert len(rows) >= 50
    assert [r[0] for r in rows if len(r) != 4 or not all(r) or "tests/" not in r[3]] == []


LAYERS = "model|reading|checks|scoring|sheets|adapters|prefecture|app"
CODE_REF = re.compile(rf"`((?:{LAYERS})/[\w/]+\.py)`((?:,? `[\w.]+`)*)")


def test_every_named_module_and_name_exists() -> None:
    """Each `layer/module.py` the table names exists, and so does each `name` written right after it."""
    refs = CODE_REF.findall(TABLE)
    assert len(refs) > 30
    missing = []
    for module, names in refs:
        path = ROOT / "src" / "ducha" / module
        if not path.exists():
            missing.append(module)
            continue
        source = path.read_text(encoding="utf-8")
        for name in re.findall(r"`([\w.]+)`", names):
            last = name.split(".")[-1]
            if not re.search(rf"^\s*(?:def|class|async def)\s+{last}\b|^\s*{last}\s*[:=]", source, re.MULTILINE):
                missing.append(f"{module} {name}")
    assert missing == []
