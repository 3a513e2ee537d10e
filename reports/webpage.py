"""report.html: one self-contained page that opens from disk, calls no server, and links the run's files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from reports import labels, render
from reports.model import Run

# (label key, file name) of the run's files the page links to, when they exist
LINKED_FILES = [
    ("allure", "allure-report.html"),
    ("junit", "junit.xml"),
    ("summary_json", "summary.json"),
    ("journal", "journal.jsonl"),
    ("load_summary", "load/summary.json"),
    ("load_summary", "load/summary.md"),
    ("load", "load/locust.html"),
    ("submission_json", "submission.json"),
    ("manifest_sig", "manifest.sig"),
    ("manifest", "manifest.json"),
]


def build_html(run: Run, path: Path, language: str = "vi", today: date | None = None,
               extra_notes: list[str] | None = None) -> Path:
    out_dir = path.parent
    links = render.Links(out_dir=out_dir, notes=list(extra_notes or []))
    for key, name in LINKED_FILES:
        # the seal (manifest.json and its signature) is completed after this page, so it is always linked
        if (out_dir / name).is_file() or name in ("manifest.json", "manifest.sig"):
            links.artefacts.append((f"{labels.text(key, language)} — {name}", name))
    path.write_text(render.document(run, language, "html", links, today), encoding="utf-8")
    return path
