"""Every spreadsheet (up to 8 MB) of the four public test suites, not just the committed pick, through `ducha check`
with the corpus test's driver and limits (60 s, 1.5 GB, two processes); prints the outcome table and any file that
ends otherwise than in exit 0/1/2 with one JSON object, no English class name and the input unchanged.

    python tests/real_files/check_whole_suites.py MIRRORS [WORK]

MIRRORS holds bare clones named owner+name/repo (as for pick_real_files.py); WORK (default a temporary folder)
receives the copies and the results."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_real_files as corpus

SUITES = ("tafia+calamine", "apache+poi", "SheetJS+test_files", "jmcnamara+XlsxWriter")
SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods")
MOST_BYTES = 8_000_000


def extract(mirror: Path, folder: Path) -> list[Path]:
    listing = subprocess.run(["git", f"--git-dir={mirror}", "ls-tree", "-r", "-l", "HEAD"], capture_output=True,
                             text=True, check=True).stdout
    files = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        size = meta.split()[3]
        if path.lower().endswith(SUFFIXES) and size.isdigit() and 0 < int(size) <= MOST_BYTES:
            target = folder / path.replace("/", "__")
            target.write_bytes(subprocess.run(["git", f"--git-dir={mirror}", "show", f"HEAD:{path}"],
                                              capture_output=True, check=True).stdout)
            files.append(target)
    return files


def main(mirrors: Path, work: Path) -> int:
    failed = 0
    for number, suite in enumerate(SUITES, start=1):
        folder = work / f"suite{number}"  # not the suite's name: it would show in every path the output repeats
        folder.mkdir(parents=True, exist_ok=True)
        files = extract(mirrors / suite / "repo", folder)
        before = {f: corpus._digest(f) for f in files}
        results = work / f"suite{number}.results"
        results.mkdir(exist_ok=True)
        chunks = [files[i:i + corpus.CHUNK] for i in range(0, len(files), corpus.CHUNK)]
        with ThreadPoolExecutor(corpus.PROCESSES) as pool:
            records = [r for chunk in pool.map(corpus._run_chunk, chunks, [results] * len(chunks)) for r in chunk]
        bad = []
        for r in records:
            shown = corpus.ENGLISH_CLASS.search(r["stdout"] + r["stderr"])
            try:
                one_object = isinstance(json.loads(r["stdout"]), dict)
            except ValueError:
                one_object = False
            if r["exit"] not in (0, 1, 2) or shown or not one_object or corpus._digest(Path(r["file"])) != \
                    before[Path(r["file"])]:
                bad.append((Path(r["file"]).name, r["exit"], shown.group(0) if shown else "", r["stderr"][-300:]))
        table = dict(sorted(Counter(str(r["exit"]) for r in records).items()))
        print(f"{suite}: {len(files)} files, exit code: files {table}")
        for item in bad:
            print("  NOT OK", item)
        failed += len(bad)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())))
