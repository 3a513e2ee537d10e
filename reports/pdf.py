"""report.pdf: the submission printed by WeasyPrint, with the DejaVu fonts embedded (every Vietnamese glyph)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from reports import render
from reports.model import Run


def build_pdf(run: Run, path: Path, language: str = "vi", today: date | None = None) -> Path:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    markup = render.document(run, language, "pdf", today=today)
    # fonts are local files; nothing in a report may be fetched from the network
    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # CSS it ignores is not the reader's concern
    HTML(string=markup, base_url=str(run.run_dir), url_fetcher=fetcher).write_pdf(path)
    return path
