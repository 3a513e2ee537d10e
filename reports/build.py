"""`kiemthu report RUN_DIR`: every artefact of a run, built from the run directory alone.

Order matters: the Allure page first (the HTML report says whether it exists), then xlsx, PDF and HTML,
then the history record, and manifest.json last so it covers everything else.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from reports import labels
from reports.allure import build_allure
from reports.history import record_run
from reports.manifest import MANIFEST, write_manifest
from reports.model import Run, SummaryError, load_run
from reports.pdf import build_pdf
from reports.webpage import build_html
from reports.xlsx import build_xlsx

log = logging.getLogger("reports")


@dataclass
class BuildResult:
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not built and why
    failed: bool = False  # a submission document (xlsx, PDF, HTML) could not be written


DOCUMENTS = (("report.xlsx", build_xlsx), ("report.pdf", build_pdf), ("report.html", build_html))


def build_documents(run: Run, out_dir: Path, language: str, today: date | None = None,
                    notes: list[str] | None = None) -> BuildResult:
    """report.xlsx, report.pdf and report.html into out_dir; one failing does not stop the others.

    `notes` (e.g. why there is no Allure page) are printed in the HTML page and returned with the result.
    """
    result = BuildResult(notes=list(notes or []))
    for name, builder in DOCUMENTS:
        extra = {"extra_notes": result.notes} if builder is build_html else {}
        try:
            result.paths.append(builder(run, out_dir / name, language, today, **extra))
        except Exception as exc:  # a broken font or a full disk must not cost the other artefacts
            log.debug("%s not built", name, exc_info=True)
            result.notes.append(f"{name} not built (chưa lập được): {type(exc).__name__}: {exc}")
            result.failed = True
    return result


def build(run_dir: Path, language: str = "vi", today: date | None = None, db: Path | None = None) -> BuildResult:
    labels.check_language(language)
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    allure = build_allure(run_dir)
    notes = [] if allure.path else [
        f"{labels.text('allure', language)}: {labels.text('allure_missing', language, why=allure.note)}"]
    result = build_documents(run, run_dir, language, today, notes)
    if allure.path:
        result.paths.insert(0, allure.path)
    try:
        record_run(run_dir, db, artefacts=result.paths + [run_dir / MANIFEST])
    except (sqlite3.Error, OSError) as exc:
        result.notes.append(f"history not recorded (lịch sử chưa ghi): {exc}")
    result.paths.append(write_manifest(run_dir))
    return result


def build_all(run_dir: Path, language: str = "vi") -> list[Path]:
    """Build every artefact of a run directory; returns the paths written (manifest.json last)."""
    result = build(Path(run_dir), language)
    for note in result.notes:
        log.warning(note)
    return result.paths


def build_cli(run_dir: Path, language: str = "vi") -> int:
    """`kiemthu report RUN_DIR`: build and print the paths; a one-line error for a bad summary.json."""
    console = Console()
    try:
        result = build(Path(run_dir), language)
    except (SummaryError, ValueError) as exc:
        console.print(f"[red]Không lập được báo cáo / cannot build the report:[/red] {escape(str(exc))}",
                      highlight=False, soft_wrap=True)
        return 2
    for path in result.paths:
        console.print(f"[green]✓[/green] {escape(str(path))}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"[yellow]![/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    return 1 if result.failed else 0
