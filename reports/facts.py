"""The cover facts of a report (agency, system, versions, run, tester, deadline), shared by every format."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import NamedTuple

from kiemthu import __version__ as BUILDER_VERSION
from kiemthu.runtime import VN_TZ
from reports import labels
from reports.deadline import deadline_status
from reports.model import Run, format_date, format_time


def today_vn() -> date:
    return datetime.now(VN_TZ).date()


def deadline_text(publication: date | None, language: str, today: date | None = None) -> str:
    """'17/02/2027 (còn 3 ngày làm việc, tính đến 12/02/2027)', or 'not declared'."""
    if publication is None:
        return labels.text("not_declared", language)
    today = today or today_vn()
    status = deadline_status(publication, today)
    if status.overdue:
        left = labels.text("overdue", language, n=-status.days_left)
    elif status.days_left == 0:
        left = labels.text("due_today", language)
    else:
        left = labels.text("days_left", language, n=status.days_left)
    as_of = labels.text("as_of", language, d=format_date(today))
    return f"{format_date(status.deadline)} ({left}, {as_of})"


def harness_text(run: Run, language: str) -> str:
    if run.harness_version == BUILDER_VERSION:
        return f"kiemthu {run.harness_version}"
    return f"kiemthu {run.harness_version} ({labels.text('report_built_by', language)} {BUILDER_VERSION})"


class Fact(NamedTuple):
    key: str  # the labels key, so layouts can place a fact (the deadline stands out everywhere)
    label: str
    value: str


SYSTEM_FACTS = ("agency", "system", "system_url", "portal_url", "profile", "harness")


def cover_facts(run: Run, language: str, today: date | None = None) -> list[Fact]:
    """The cover facts in the order they are printed: the system first, then the run, then the deadline."""
    t = run.target
    not_declared = labels.text("not_declared", language)
    values = [
        ("agency", f"{t.get('agency_name') or t['agency_code']} ({t['agency_code']})"),
        ("system", t["name"]),
        ("system_url", t["base_url"]),
        ("portal_url", t.get("portal_url")),
        ("profile", run.profile),
        ("harness", harness_text(run, language)),
        ("runs" if len(run.run_ids) > 1 else "run_id", run.run_id),
        ("started", format_time(run.started_at)),
        ("finished", format_time(run.finished_at)),
        ("tester", run.tester or not_declared),
        ("publication_date", format_date(run.publication_date) if run.publication_date else not_declared),
        ("defects", ", ".join(run.defects)),
        ("deadline", deadline_text(run.publication_date, language, today)),
    ]
    return [Fact(key, labels.text(key, language), value) for key, value in values if value]


def is_overdue(run: Run, today: date | None = None) -> bool:
    return bool(run.publication_date) and deadline_status(run.publication_date, today or today_vn()).overdue


def totals_text(run: Run, language: str) -> str:
    n, ok = len(run.services), run.completed_count
    return labels.text("totals", language, n=n, ok=ok, ko=n - ok)


def check_totals_text(run: Run, language: str) -> str:
    """The checks of the summary table counted by the words the table prints, so page 1 agrees with itself."""
    counts = Counter(c.shown_verdict for s in run.services for c in s.ordered_checks())
    order = ("passed", "passed_with_exceptions", "warning", "failed", "error", "inconclusive", "not_evaluated",
             "not_applicable", None)
    word = lambda v: (labels.text("with_exceptions", language) if v == "passed_with_exceptions"  # noqa: E731
                      else labels.verdict_word(v, language).lower())
    parts = [f"{counts[v]} {word(v)}" for v in order if counts.get(v)]
    return labels.text("check_totals", language, parts=", ".join(parts))


CHECK_COLUMNS = range(7, 11)  # positions of SSO … Xử lý và đồng bộ in a summary row
COMPLETE_COLUMN = 11


def summary_row(index: int, service, language: str) -> list[str]:
    """One row of the summary table, in the order of labels.headers()."""
    none = labels.text("none", language)
    return [
        str(index), service.TenTTHC, service.MaTTHC, service.TenDVC, service.MaDVC,
        labels.level_name(service.level, language),
        "\n".join(service.completed_codes) or none,
        *[c.verdict_text(language) for c in service.ordered_checks()],
        labels.text("yes" if service.completed else "no", language),
        service.note(language),
    ]
