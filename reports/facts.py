"""The cover facts of a report (agency, system, versions, run, tester, deadline), shared by every format."""

from __future__ import annotations

from datetime import date, datetime

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


def cover_facts(run: Run, language: str, today: date | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs in the order they are printed."""
    t = run.target
    publication = format_date(run.publication_date) if run.publication_date else labels.text("not_declared", language)
    facts = [
        (labels.text("agency", language), f"{t.get('agency_name') or t['agency_code']} ({t['agency_code']})"),
        (labels.text("system", language), t["name"]),
        (labels.text("system_url", language), t["base_url"]),
    ]
    if t.get("portal_url"):
        facts.append((labels.text("portal_url", language), t["portal_url"]))
    facts += [
        (labels.text("profile", language), run.profile),
        (labels.text("harness", language), harness_text(run, language)),
        (labels.text("runs" if len(run.run_ids) > 1 else "run_id", language), run.run_id),
        (labels.text("started", language), format_time(run.started_at)),
        (labels.text("finished", language), format_time(run.finished_at)),
        (labels.text("tester", language), run.tester or labels.text("not_declared", language)),
        (labels.text("publication_date", language), publication),
        (labels.text("deadline", language), deadline_text(run.publication_date, language, today)),
    ]
    if run.defects:
        facts.append((labels.text("defects", language), ", ".join(run.defects)))
    return facts


def totals_text(run: Run, language: str) -> str:
    n, ok = len(run.services), run.completed_count
    return labels.text("totals", language, n=n, ok=ok, ko=n - ok)


def junit_text(run: Run, language: str) -> str | None:
    if not run.junit:
        return None
    return labels.text("pytest_totals", language, **{k: run.junit.get(k, 0) for k in ("tests", "failures", "errors", "skipped")})


def summary_row(index: int, service, language: str) -> list[str]:
    """One row of the summary table, in the order of labels.headers()."""
    none = labels.text("none", language)
    return [
        str(index), service.TenTTHC, service.MaTTHC, service.TenDVC, service.MaDVC,
        labels.level_name(service.level, language),
        "\n".join(service.completed_codes) or none,
        *[labels.verdict_word(c.verdict, language) for c in service.ordered_checks()],
        service.note(language),
    ]
