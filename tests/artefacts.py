"""Everything a person could read out of a run's files, for tests that grep them for secrets: the bytes, zip
members (recursively: a trace inside an Allure attachment), PDF text, base64 inside HTML decoded (data: URIs and
the files Allure's single-file report embeds), and a dump of every SQLite database."""

from __future__ import annotations

import base64
import binascii
import io
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

# data: URIs, and Allure's single file: d('data/attachments/….zip','UEsDB…')
EMBEDDED = [re.compile(rb";base64,([A-Za-z0-9+/=]+)"), re.compile(rb"""d\('([^']+)',\s*'([A-Za-z0-9+/=]+)'\)""")]
SQLITE_MAGIC = b"SQLite format 3\x00"


def _nested(where: str, data: bytes, path: Path | None = None, depth: int = 0) -> Iterator[tuple[str, bytes]]:
    yield where, data
    if depth > 4:
        return
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for name in z.namelist():
                    yield from _nested(f"{where}!{name}", z.read(name), None, depth + 1)
        except zipfile.BadZipFile:
            pass
    if data.startswith(SQLITE_MAGIC) and path is not None:
        yield f"{where} (SQLite dump)", sqlite_dump(path).encode("utf-8")
    if path is not None and path.suffix == ".pdf" and shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        yield f"{where} (PDF text)", text.encode("utf-8")
    if where.endswith((".html", ".htm")) or b"<html" in data[:2000].lower():
        for rx in EMBEDDED:
            for m in rx.finditer(data):
                try:
                    decoded = base64.b64decode(m.group(m.lastindex))
                except (binascii.Error, ValueError):
                    continue
                name = m.group(1).decode() if m.lastindex == 2 else "data-uri"
                yield from _nested(f"{where}#{name}", decoded, None, depth + 1)


def sqlite_dump(path: Path) -> str:
    """Every table of a SQLite file as SQL text (read from a copy, so a live database is not disturbed)."""
    with tempfile.TemporaryDirectory(prefix="kiemthu-dump-") as tmp:
        copy = Path(tmp) / "copy.sqlite"
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                shutil.copyfile(side, Path(tmp) / f"copy.sqlite{suffix}")
        conn = sqlite3.connect(copy)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()


def hits(root: Path, needles: dict[str, str], shapes: dict[str, re.Pattern[bytes]] | None = None) -> list[str]:
    """'file!member: what' for each needle (name → value) or shape found in any file under root."""
    found = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        for where, blob in _nested(str(path.relative_to(root)), path.read_bytes(), path):
            for name, value in needles.items():
                if value.encode() in blob:
                    found.add(f"{where}: {name}")
            for name, rx in (shapes or {}).items():
                m = rx.search(blob)
                if m:
                    found.add(f"{where}: {name} {m.group(0)[:60]!r}")
    return sorted(found)
