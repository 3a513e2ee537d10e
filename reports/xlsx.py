"""report.xlsx: 'Tổng hợp kết quả kiểm thử', one row per service, ready to print and to copy into VPCP's form."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kiemthu import __version__
from reports import labels
from reports.facts import (CHECK_COLUMNS, COMPLETE_COLUMN, SYSTEM_FACTS, check_totals_text, cover_facts, is_overdue,
                           summary_row, totals_text)
from reports.guard import clean
from reports.model import Run

HEADER_ROW = 6  # rows above it: title, system facts, run facts, deadline, a blank row
WIDTHS = [6, 32, 11, 28, 13, 11, 29, 12, 12, 12, 13, 11, 40]
RULE_HEADERS = {
    "vi": ["STT", "Mã DVC", "Nội dung", "Nội dung kiểm tra", "Căn cứ", "Kết quả", "Phát hiện (mong đợi, thực tế)"],
    "en": ["No.", "Service code", "Check", "What is checked", "Source", "Result", "Finding (expected, actual)"],
}
RULE_WIDTHS = [6, 13, 14, 48, 34, 14, 60]
LINE_POINTS = 12.6  # height of one wrapped line at the sheet's 10-11 pt font
CHARS_PER_WIDTH = 1.0  # characters of text one unit of column width holds, Vietnamese diacritics included

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
VERDICT_FILLS = {
    "passed": "C6EFCE", "failed": "FFC7CE", "error": "FF9C9C", "warning": "FFEB9C",
    "skipped": "EDEDED", "not_applicable": "EDEDED",
}
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")


def build_xlsx(run: Run, path: Path, language: str = "vi", today: date | None = None) -> Path:
    wb = Workbook()
    summary = wb.active
    summary.title = labels.text("sheet_summary", language)[:31]
    write_summary_sheet(summary, run, language, today)
    write_rules_sheet(wb.create_sheet(labels.text("sheet_rules", language)[:31]), run, language)
    wb.properties.title = labels.text("title", language)
    wb.properties.creator = f"kiemthu {__version__}"
    wb.save(path)
    return path


def write_summary_sheet(ws: Worksheet, run: Run, language: str, today: date | None) -> None:
    write_title(ws, run, language, today)
    write_header(ws, HEADER_ROW, labels.headers(language), WIDTHS)
    for i, service in enumerate(run.services, start=1):
        row = HEADER_ROW + i
        values = summary_row(i, service, language)
        values[0] = i  # a number, so the sheet sorts and filters as officers expect
        for col, value in enumerate(values, start=1):
            put(ws, row, col, value).border = BORDER
            ws.cell(row=row, column=col).alignment = WRAP_TOP
        colour_verdicts(ws, row, [c.shown_verdict for c in service.ordered_checks()])
        complete = ws.cell(row=row, column=COMPLETE_COLUMN + 1)
        complete.alignment = CENTER
        complete.fill = PatternFill("solid", fgColor=VERDICT_FILLS["passed" if service.completed else "failed"])
        ws.cell(row=row, column=1).alignment = CENTER
        fit_row_height(ws, row, values, WIDTHS)
    last = HEADER_ROW + len(run.services)
    put(ws, last + 2, 1, totals_text(run, language)).font = Font(italic=True)
    put(ws, last + 3, 1, check_totals_text(run, language)).font = Font(italic=True)
    end = last + 3 + write_service_runs(ws, last + 4, run, language)
    set_print_layout(ws, HEADER_ROW, len(WIDTHS))
    ws.print_area = f"A1:{get_column_letter(len(WIDTHS))}{end}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(WIDTHS))}{last}"


def write_service_runs(ws: Worksheet, row: int, run: Run, language: str) -> int:
    """Under the totals of a submission from several runs (merged shards, history): the run of each service,
    one line each. Returns the rows written."""
    if len(run.run_ids) < 2:
        return 0
    put(ws, row, 1, labels.text("service_runs", language, runs="").rstrip(": ") + ":").font = Font(italic=True)
    for i, service in enumerate(run.services, start=1):
        put(ws, row + i, 1, f"{service.TenDVC} ({service.MaDVC}) — {service.run_id}").font = Font(italic=True)
    return len(run.services) + 1


def lines_needed(value: object, width: float) -> int:
    """Lines a wrapped cell needs: each paragraph's length over what one line of the column holds."""
    per_line = max(1, int(width * CHARS_PER_WIDTH) - 1)  # a cell's padding takes about one character
    text = str(value if value is not None else "")
    return sum(max(1, len(textwrap.wrap(part, per_line, break_on_hyphens=False))) for part in text.split("\n"))


def fit_row_height(ws: Worksheet, row: int, values: list, widths: list[int]) -> None:
    """Row height for the tallest wrapped cell, so a long name never prints over the next row."""
    lines = max(lines_needed(v, w) for v, w in zip(values, widths))
    ws.row_dimensions[row].height = max(1, lines) * LINE_POINTS + 4


def put(ws: Worksheet, row: int, col: int, value: object) -> Cell:
    """Write a value as text; a value starting with '=' stays text, never a formula Excel would run."""
    cell = ws.cell(row=row, column=col, value=clean(value) if not isinstance(value, int) else value)
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def write_title(ws: Worksheet, run: Run, language: str, today: date | None) -> None:
    """Title, then the system facts, the run facts and the deadline, each on one merged row."""
    last_col = get_column_letter(len(WIDTHS))
    facts = cover_facts(run, language, today)
    groups = [
        (labels.text("title", language), Font(bold=True, size=14), 24),
        (" · ".join(f"{f.label}: {f.value}" for f in facts if f.key in SYSTEM_FACTS), Font(size=10), 30),
        (" · ".join(f"{f.label}: {f.value}" for f in facts if f.key not in SYSTEM_FACTS + ("deadline",)), Font(size=10), 30),
        (" · ".join(f"{f.label}: {f.value}" for f in facts if f.key == "deadline"), Font(bold=True, size=11), 18),
    ]
    for row, (text, font, height) in enumerate(groups, start=1):
        cell = put(ws, row, 1, text)
        cell.font, cell.alignment = font, Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(f"A{row}:{last_col}{row}")
        ws.row_dimensions[row].height = max(height, lines_needed(text, sum(WIDTHS)) * LINE_POINTS + 4)
    if is_overdue(run, today):
        ws.cell(row=4, column=1).fill = PatternFill("solid", fgColor=VERDICT_FILLS["failed"])


def write_header(ws: Worksheet, row: int, names: list[str], widths: list[int]) -> None:
    for col, (name, width) in enumerate(zip(names, widths), start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), HEADER_FILL, BORDER, CENTER
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[row].height = 45
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def colour_verdicts(ws: Worksheet, row: int, verdicts: list[str | None]) -> None:
    for offset, verdict in enumerate(verdicts):
        cell = ws.cell(row=row, column=CHECK_COLUMNS.start + 1 + offset)  # openpyxl counts from 1
        cell.alignment = CENTER
        if verdict in VERDICT_FILLS:
            cell.fill = PatternFill("solid", fgColor=VERDICT_FILLS[verdict])


def set_print_layout(ws: Worksheet, header_row: int, columns: int) -> None:
    """A4 landscape, all columns on one page width, the header row repeated on every page."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "&P / &N"
    ws.oddFooter.right.text = "&A"


def write_rules_sheet(ws: Worksheet, run: Run, language: str) -> None:
    """Every rule result, one row per negative case, so a reviewer can filter by verdict without the PDF."""
    write_header(ws, 1, RULE_HEADERS[language], RULE_WIDTHS)
    row = 1
    for service in run.services:
        for check in service.ordered_checks():
            for rule in check.rows():
                row += 1
                finding = "" if rule.verdict == "passed" else rule.sentence(language)
                values = [row - 1, service.MaDVC, labels.check_name(check.name, language), rule.name(language),
                          rule.source(language), labels.verdict_word(rule.verdict, language), finding]
                for col, value in enumerate(values, start=1):
                    cell = put(ws, row, col, value)
                    cell.border, cell.alignment = BORDER, WRAP_TOP
                ws.cell(row=row, column=1).alignment = CENTER
                if rule.verdict in VERDICT_FILLS:
                    ws.cell(row=row, column=6).fill = PatternFill("solid", fgColor=VERDICT_FILLS[rule.verdict])
                fit_row_height(ws, row, values, RULE_WIDTHS)
    set_print_layout(ws, 1, len(RULE_WIDTHS))
    ws.print_area = f"A1:{get_column_letter(len(RULE_WIDTHS))}{max(row, 1)}"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(RULE_WIDTHS))}{max(row, 1)}"
