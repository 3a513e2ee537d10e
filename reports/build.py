"""`kiemthu report RUN_DIR`: every artefact of a run, built from the run directory alone.

Nothing is built from a folder that holds a symlink, nor from a summary.json that the portal's journal
contradicts (reports/crosscheck.py). Then, in order: the Allure page (the HTML report says whether it
exists), manifest.json over the evidence, signed (the documents print its hash and the key's
fingerprint), xlsx, PDF and HTML, their hashes added to the signature, and last the history record.
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
from reports.allure import build_allure, carry_trend
from reports.crosscheck import EvidenceMismatch, ensure_summary_matches_journal
from reports.history import earlier_runs_alike, record_run
from reports.manifest import UnsafeFolder, add_documents, scan, seal_of, write_manifest
from reports.model import Run, SummaryError, load_run, read_summary
from reports.pdf import build_pdf
from reports.signing import SigningKeyError, ensure_key_outside, installation_key, key_path
from reports.webpage import build_html
from reports.xlsx import build_xlsx

log = logging.getLogger("reports")


@dataclass
class BuildResult:
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not built and why
    failed: bool = False  # a submission document (xlsx, PDF, HTML) could not be written


DOCUMENTS = (("report.xlsx", build_xlsx), ("report.pdf", build_pdf), ("report.html", build_html))


def document_name(name: str, language: str) -> str:
    """report.pdf for the Vietnamese submission; report.en.pdf beside it for another language, never over it."""
    if language == "vi":
        return name
    stem, ext = name.rsplit(".", 1)
    return f"{stem}.{language}.{ext}"


def build_documents(run: Run, out_dir: Path, language: str, today: date | None = None,
                    notes: list[str] | None = None) -> BuildResult:
    """report.xlsx, report.pdf and report.html into out_dir; one failing does not stop the others.

    `notes` (e.g. why there is no Allure page) are printed in the HTML page and returned with the result.
    """
    result = BuildResult(notes=list(notes or []))
    for name, builder in DOCUMENTS:
        extra = {"extra_notes": result.notes} if builder is build_html else {}
        try:
            result.paths.append(builder(run, out_dir / document_name(name, language), language, today, **extra))
        except Exception as exc:  # a broken font or a full disk must not cost the other artefacts
            log.debug("%s not built", name, exc_info=True)
            result.notes.append(f"{document_name(name, language)}: chưa lập được (not built) — {type(exc).__name__}: {exc}")
            result.failed = True
    return result


def build(run_dir: Path, language: str = "vi", today: date | None = None, db: Path | None = None,
          trend_from: Path | None = None) -> BuildResult:
    """Raises SummaryError, EvidenceMismatch, UnsafeFolder or SigningKeyError before writing anything.
    `trend_from`: an earlier run folder the Allure trend goes on from (yesterday's artefact on a fresh CI machine),
    before the history's own earlier runs of the same system and services."""
    labels.check_language(language)
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    ensure_folder_safe(run_dir)
    summary = read_summary(run_dir)
    ensure_summary_matches_journal(run_dir, summary)
    ensure_key_outside(key_path(), run_dir)
    key = installation_key()
    carried, had_trend = None, (run_dir / "allure-results" / "history").is_dir()
    try:  # the Allure trend goes on from the last run of the same system and services
        carried = carry_trend(run_dir / "allure-results",
                              ([Path(trend_from)] if trend_from else []) + earlier_runs_alike(summary, run_dir, db))
    except (sqlite3.Error, OSError) as exc:
        log.debug("Allure trend not carried over: %s", exc)
    allure = build_allure(run_dir)
    notes = [] if allure.path else [
        f"{labels.text('allure', language)}: {labels.text('allure_missing', language, why=allure.note)}"]
    if trend_from and not had_trend and carried != Path(trend_from) and allure.path:
        notes.append(f"--trend-from: {trend_from} không có allure-report.html mang xu hướng, không dùng được / "
                     f"holds no allure-report.html with a trend, not used")
    # the Vietnamese submission always, and every other language asked now or built before, so that all the
    # documents of the folder print the one manifest they are sealed with
    languages = ["vi"] + [lang for lang in labels.LANGUAGES if lang != "vi" and
                          (lang == language or any((run_dir / document_name(n, lang)).exists() for n, _ in DOCUMENTS))]
    names = {document_name(n, lang) for n, _ in DOCUMENTS for lang in languages}
    for name in names:  # a document of an earlier build is not evidence, and must not outlive a failed one
        (run_dir / name).unlink(missing_ok=True)
    manifest = write_manifest(run_dir, key)
    run.seal = seal_of(run_dir)
    result = BuildResult(notes=notes)
    for lang in languages:
        built = build_documents(run, run_dir, lang, today, notes if lang == language else [])
        result.paths += built.paths
        result.notes += [n for n in built.notes if n not in result.notes]
        result.failed |= built.failed
    if allure.path:
        result.paths.insert(0, allure.path)
    documents = [p for p in result.paths if p.name in names]
    result.paths += [manifest, add_documents(run_dir, documents, key)]
    try:
        record_run(run_dir, db, artefacts=result.paths)
    except (sqlite3.Error, OSError) as exc:
        result.notes.append(f"lịch sử chưa ghi (history not recorded): {exc}")
    return result


def ensure_folder_safe(run_dir: Path) -> None:
    """A symlink or special file in the run folder stops the build (it would bring outside files in)."""
    refused = scan(run_dir)[1]
    if refused:
        raise UnsafeFolder("; ".join(refused))


def build_all(run_dir: Path, language: str = "vi") -> list[Path]:
    """Build every artefact of a run directory; returns the paths written (manifest.sig last)."""
    result = build(Path(run_dir), language)
    for note in result.notes:
        log.warning(note)
    return result.paths


def build_cli(run_dir: Path, language: str = "vi", trend_from: Path | None = None) -> int:
    """`kiemthu report RUN_DIR`: build and print the paths; a one-line error for a bad summary.json."""
    console = Console()
    try:
        result = build(Path(run_dir), language, trend_from=trend_from)
    except EvidenceMismatch as exc:
        console.print(f"[red]Không lập lại báo cáo: summary.json mâu thuẫn với journal.jsonl của Cổng / refused: "
                      f"summary.json disagrees with the portal's journal.jsonl[/red] ({len(exc.disagreements)}):",
                      highlight=False, soft_wrap=True)
        for line in exc.disagreements:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except UnsafeFolder as exc:
        console.print(f"[red]Không lập được báo cáo / refused:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except (SummaryError, SigningKeyError, ValueError) as exc:
        console.print(f"[red]Không lập được báo cáo / cannot build the report:[/red] {escape(str(exc))}",
                      highlight=False, soft_wrap=True)
        return 2
    for path in result.paths:
        console.print(f"[green]✓[/green] {escape(str(path))}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"[yellow]![/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    return 1 if result.failed else 0
