"""Pick a varied, deterministic set of real spreadsheets from four public test suites (rebuilds tests/real_files
and SOURCES.md from bare clones of the four repositories: python pick_real_files.py MIRRORS)."""
# ruff: noqa: E501
import collections
import pathlib
import re
import subprocess
import sys

OUT = pathlib.Path(__file__).resolve().parent
M = sys.argv[1] if len(sys.argv) > 1 else "mirrors"  # bare git clones named owner+name/repo
SOURCES = [  # (mirror, repo, prefix filter, per-extension quota, max bytes)
    ("tafia+calamine", "tafia/calamine", r"^tests/", {"xlsx": 40, "xlsm": 5, "xls": 25, "xlsb": 12, "ods": 12}, 400_000),
    ("apache+poi", "apache/poi", r"^test-data/spreadsheet/", {"xlsx": 45, "xls": 35, "xlsm": 5, "xlsb": 5, "xltx": 1, "xml": 1}, 300_000),
    ("SheetJS+test_files", "SheetJS/test_files", r"", {"xlsx": 20, "xls": 15, "xlsb": 10, "ods": 8, "xlsm": 4, "numbers": 3, "htm": 3, "et": 3, "xml": 5, "csv": 3}, 300_000),
    ("jmcnamara+XlsxWriter", "jmcnamara/XlsxWriter", r"xlsx_files/", {"xlsx": 25, "xlsm": 3}, 200_000),
]
rows = []
for mirror, repo, prefix, quota, cap in SOURCES:
    gd = f"{M}/{mirror}/repo"
    commit = subprocess.run(["git", f"--git-dir={gd}", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    listing = subprocess.run(["git", f"--git-dir={gd}", "ls-tree", "-r", "-l", "HEAD"], capture_output=True, text=True).stdout
    by_ext = collections.defaultdict(list)
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        size = meta.split()[3]
        if not size.isdigit() or not re.search(prefix, path):
            continue
        ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if ext in quota and 0 < int(size) <= cap:
            by_ext[ext].append(path)
    for ext, paths in by_ext.items():
        paths.sort()
        n = quota[ext]
        step = max(1, len(paths) // n)
        for path in paths[::step][:n]:
            short = mirror.split("+")[0].lower()
            name = f"{short}__" + re.sub(r"[^A-Za-z0-9._-]", "_", path.replace("/", "_"))[-90:]
            data = subprocess.run(["git", f"--git-dir={gd}", "show", f"HEAD:{path}"], capture_output=True).stdout
            if data.startswith(b"version https://git-lfs"):
                continue
            (OUT / name).write_bytes(data)
            rows.append((name, repo, commit, path))
with open(OUT / "SOURCES.md", "w") as f:
    f.write("# Real spreadsheets from other producers\n\nEach file is a byte-for-byte copy of a test file from a public "
            "repository, picked deterministically (sorted paths, every k-th per extension) by size limits. "
            "Columns: file here, repository, commit, path there.\n\n| file | repository | commit | path |\n|---|---|---|---|\n")
    for r in rows:
        f.write(f"| {r[0]} | {r[1]} | {r[2][:12]} | {r[3]} |\n")
print(len(rows))
