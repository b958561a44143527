"""Headless LibreOffice for tests: the real spreadsheet application that must open what ducha writes."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

TIMEOUT = 240

# LibreOffice keeps the stored results of a file that says it was written by Excel (or openpyxl, which says so too)
# unless told otherwise, so a conversion would only echo ducha's cached values back. The private profile sets
# "recalculate on load: always" for OOXML and ODF files: every conversion recomputes every formula.
ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str:
    """The soffice executable; CI installs it, so its absence is a failure, not a skip."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice (soffice) is required: apt-get install libreoffice-calc libreoffice-writer"
    return found


def first_page_png(pdf: Path, stem: Path) -> Path:
    """The PDF's first page as a PNG, drawn by poppler's pdftoppm (the picture is for people to look at)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is required: apt-get install poppler-utils"
    subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True, capture_output=True, timeout=TIMEOUT)
    return stem.with_suffix(".png")


def private_profile() -> Path:
    """A fresh LibreOffice user profile that recalculates every formula of every file it loads."""
    profile = Path("/tmp") / f"lo-profile-{uuid.uuid4().hex}"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE, encoding="utf-8")
    return profile


def convert(source: Path, target_format: str, outdir: Path, *, infilter: str | None = None) -> Path:
    """Convert `source` with headless LibreOffice in a private profile that recalculates every formula on load
    (so a converted .xlsx holds LibreOffice's own results, not the cached ones); returns the converted file."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = private_profile()
    command = [soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{profile}"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", target_format, "--outdir", str(outdir), str(source)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    extension = target_format.split(":")[0]
    result = outdir / f"{source.stem}.{extension}"
    assert done.returncode == 0 and result.exists(), f"LibreOffice failed: {done.stdout} {done.stderr}"
    return result


def convert_each(sources: list[Path], target_format: str, outdir: Path) -> list[Path]:
    """Convert every file of `sources` in one LibreOffice run (one start-up for all); returns the converted files."""
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path("/tmp") / f"lo-profile-{uuid.uuid4().hex}"
    command = [soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
               "--convert-to", target_format, "--outdir", str(outdir), *map(str, sources)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT * 2, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    extension = target_format.split(":")[0]
    results = [outdir / f"{source.stem}.{extension}" for source in sources]
    missing = [r.name for r in results if not r.exists()]
    assert done.returncode == 0 and not missing, f"LibreOffice failed on {missing}: {done.stdout} {done.stderr}"
    return results


def page_pngs(pdf: Path, stem: Path) -> list[Path]:
    """Every page of the PDF as a PNG at 60 dpi (the pictures are for people to look at)."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is required: apt-get install poppler-utils"
    subprocess.run([pdftoppm, "-png", "-r", "60", str(pdf), str(stem)], check=True, capture_output=True,
                   timeout=TIMEOUT)
    return sorted(stem.parent.glob(f"{stem.name}-*.png"))


def is_blank(png: Path, *, margin: float = 0.0, share: float = 0.002) -> bool:
    """True when almost nothing is drawn on the page: at most `share` of the pixels dark, leaving out the top and
    bottom `margin` of the page (where a sheet's running header and footer are printed on every page)."""
    from PIL import Image

    image = Image.open(png).convert("L")
    top, bottom = int(image.height * margin), int(image.height * (1 - margin))
    body = image.crop((0, top, image.width, bottom))
    return sum(body.histogram()[:128]) <= share * body.width * body.height
