"""manifest.json: the SHA-256 of every file of a run, so a reviewer can check nothing changed after the run.

Written last, after every artefact. `verify` lists files modified, missing or added since.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from kiemthu import __version__
from kiemthu.runtime import VN_TZ

MANIFEST = "manifest.json"
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def run_files(run_dir: Path) -> list[Path]:
    """Every regular file under run_dir except the manifest itself, sorted by relative path."""
    files = [p for p in run_dir.rglob("*") if p.is_file() and not p.is_symlink() and p.relative_to(run_dir).as_posix() != MANIFEST]
    return sorted(files, key=lambda p: p.relative_to(run_dir).as_posix())


def write_manifest(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    entries = {
        p.relative_to(run_dir).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in run_files(run_dir)
    }
    manifest = {
        "manifest_version": 1,
        "algorithm": "sha256",
        "run_id": _run_id(run_dir),
        "created_at": datetime.now(VN_TZ).isoformat(timespec="seconds"),
        "created_by": f"kiemthu {__version__}",
        "files": entries,
    }
    path = run_dir / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def verify(run_dir: Path) -> list[str]:
    """Problems found, one line each ('modified: x', 'missing: x', 'added: x'); empty when intact."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.is_file():
        return [f"missing: {MANIFEST} (build the report first: kiemthu report {run_dir})"]
    try:
        listed = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return [f"unreadable: {MANIFEST} ({type(exc).__name__})"]
    present = {p.relative_to(run_dir).as_posix(): p for p in run_files(run_dir)}
    problems = []
    for rel, entry in sorted(listed.items()):
        if rel not in present:
            problems.append(f"missing: {rel}")
        elif sha256_file(present[rel]) != entry.get("sha256"):
            problems.append(f"modified: {rel}")
    problems += [f"added: {rel}" for rel in sorted(set(present) - set(listed))]
    return problems


def verify_cli(run_dir: Path) -> int:
    """`kiemthu report --verify RUN_DIR`: 0 when every file matches the manifest, 1 with the problems listed."""
    console = Console()
    problems = verify(Path(run_dir))
    if not problems:
        count = len(json.loads((Path(run_dir) / MANIFEST).read_text(encoding="utf-8"))["files"])
        console.print(f"[green]OK[/green] — {count} files match {MANIFEST} (toàn vẹn / intact): {escape(str(run_dir))}", soft_wrap=True)
        return 0
    console.print(f"[red]{len(problems)} problem(s)[/red] — {escape(str(run_dir))} differs from {MANIFEST} (đã bị thay đổi):", soft_wrap=True)
    for line in problems:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    return 1


def _run_id(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "summary.json").read_text(encoding="utf-8")).get("run_id")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
