"""`ducha check` on ~290 real spreadsheets written by other programs (tests/real_files, see SOURCES.md there).

Every file ends in exit 0, 1 or 2 — never a traceback, an English class name, a hang, gigabytes of memory or a change
to the input. The files run in two processes (one per core), each calling the `python -m ducha` entry
(`ducha.app.cli.main`) once per file under a 60-second alarm and a 1.5 GB address-space limit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "real_files"
MEMORY_LIMIT = 1536 * 1024 * 1024
SECONDS_PER_FILE = 60
PROCESSES = 2
CHUNK = 24  # files per child process
ENGLISH_CLASS = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception|Panic)\b|Traceback|pyo3|calamine")

DRIVER = r"""
import contextlib, io, json, signal, sys, traceback
from pathlib import Path
from ducha.app import cli

signal.signal(signal.SIGALRM, signal.SIG_DFL)  # an over-long file kills the process: the parent names it
out_dir = Path(sys.argv[1])
for name in sys.argv[2:]:
    print(json.dumps({"start": name}), flush=True)
    signal.alarm(SECONDS)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(["check", name, "--out", str(out_dir / (Path(name).stem + ".out.xlsx")), "--json"])
        except BaseException:
            traceback.print_exc()
            code = -1
    signal.alarm(0)
    print(json.dumps({"file": name, "exit": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}),
          flush=True)
    if int(open("/proc/self/statm").read().split()[1]) * 4096 > 600 * 1024 * 1024:
        break  # a failed write may leave the heap swollen: the rest run in a fresh process
""".replace("SECONDS)", f"{SECONDS_PER_FILE})")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_chunk(files: list[Path], out_dir: Path) -> list[dict]:
    """One child process over `files`; when it dies on a file (alarm, memory), that file is recorded as killed and
    the rest run in a fresh process."""
    records: list[dict] = []
    while files:
        done = subprocess.run([sys.executable, "-c", DRIVER, str(out_dir), *map(str, files)], capture_output=True,
                              text=True, preexec_fn=_limit_memory, timeout=SECONDS_PER_FILE * len(files) + 120,
                              env={**os.environ, "DUCHA_LOG_DIR": str(out_dir / "logs")})
        finished, started = set(), None
        for line in done.stdout.splitlines():
            record = json.loads(line)
            if "start" in record:
                started = record["start"]
            else:
                records.append(record)
                finished.add(record["file"])
                started = None
        if started is not None:
            records.append({"file": started, "exit": f"killed ({done.returncode})", "stdout": "", "stderr": ""})
            finished.add(started)
        files = [f for f in files if str(f) not in finished]
    return records


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    folder = tmp_path_factory.mktemp("real_files")
    files = []
    for source in sorted(CORPUS.iterdir()):
        if source.name != "SOURCES.md" and source.suffix != ".py":
            shutil.copyfile(source, folder / source.name)
            files.append(folder / source.name)
    before = {f: _digest(f) for f in files}
    out_dir = tmp_path_factory.mktemp("results")
    chunks = [files[i:i + CHUNK] for i in range(0, len(files), CHUNK)]
    with ThreadPoolExecutor(PROCESSES) as pool:
        records = [r for chunk in pool.map(lambda c: _run_chunk(c, out_dir), chunks) for r in chunk]
    records.sort(key=lambda r: r["file"])
    assert [r["file"] for r in records] == sorted(map(str, files))  # every file has exactly one outcome
    for record in records:
        record["unchanged"] = _digest(Path(record["file"])) == before[Path(record["file"])]
    table = Counter(str(r["exit"]) for r in records)
    print("\noutcome table (exit code: files):", dict(sorted(table.items())))
    details = Path(os.environ.get("DUCHA_CORPUS_OUTCOMES") or out_dir / "outcomes.json")
    details.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    print("details:", details)
    return records


def test_the_corpus_is_varied() -> None:
    suffixes = Counter(p.suffix.lower() for p in CORPUS.iterdir() if p.name != "SOURCES.md")
    assert len(list(CORPUS.iterdir())) >= 150
    assert {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".et", ".numbers", ".htm", ".csv"} <= set(suffixes)


def test_every_real_file_ends_in_exit_0_1_or_2_without_a_traceback(outcomes: list[dict]) -> None:
    bad = []
    for r in outcomes:
        name = Path(r["file"]).name
        if r["exit"] not in (0, 1, 2):
            bad.append((name, r["exit"], r["stderr"][-300:]))
    assert not bad, bad


def test_no_message_shows_a_traceback_or_an_english_class_name(outcomes: list[dict]) -> None:
    shown = [(Path(r["file"]).name, ENGLISH_CLASS.search(r["stdout"] + r["stderr"]).group(0)) for r in outcomes
             if ENGLISH_CLASS.search(r["stdout"] + r["stderr"])]
    assert not shown, shown


def test_json_output_is_always_one_object_with_the_refusal_when_refused(outcomes: list[dict]) -> None:
    for r in outcomes:
        payload = json.loads(r["stdout"])
        assert isinstance(payload, dict)
        if r["exit"] == 2:
            assert payload["refusal"] is None or payload["refusal"]["code"]


def test_no_input_file_is_changed(outcomes: list[dict]) -> None:
    assert all(r["unchanged"] for r in outcomes), [r["file"] for r in outcomes if not r["unchanged"]]
