"""A run directory read into plain objects the builders print from.

Reads only files of the run directory: summary.json (validated against schemas/summary.schema.json),
junit.xml, journal.jsonl, load/summary.json, and the evidence paths the summary names.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiemthu import __version__ as HARNESS_VERSION
from kiemthu.runtime import VN_TZ
from reports import labels
from reports.guard import clean

FAILING = ("failed", "error")
MAX_VALUE_CHARS = 300
MAX_REASON_CHARS = 400
MAX_LOAD_FIGURES = 30


class SummaryError(ValueError):
    """summary.json is missing or invalid; the message is one line naming the field, rule and value."""


@dataclass
class Rule:
    rule_id: str
    clause: str
    title: str
    verdict: str
    severity: str | None = None
    expected: str = ""
    actual: str = ""
    where: str = ""
    note: str = ""  # why it was not verified (skipped), or what else a finding means

    @property
    def observed(self) -> str:
        """What the report shows as the actual result: the value seen, else the note."""
        return self.actual or self.note


@dataclass
class Check:
    name: str
    verdict: str | None  # None: the check was not run
    reason: str = ""
    rules: list[Rule] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    duration_s: float | None = None


@dataclass
class Service:
    id: str
    MaTTHC: str
    TenTTHC: str
    MaDVC: str
    TenDVC: str
    level: str
    dossier_codes: list[str]
    checks: dict[str, Check]
    completed: bool  # as computed here: the summary's flag and no failing check
    claimed_completed: bool  # the summary's own flag
    notes: str = ""
    run_id: str = ""
    run_dir: Path | None = None  # where its evidence lives (differs per service in a report from history)

    @property
    def completed_codes(self) -> list[str]:
        """Dossier codes to submit as 'completed testing': only for services that completed."""
        return list(self.dossier_codes) if self.completed else []

    def note(self, language: str = "vi") -> str:
        """One line: why the service did not complete, or warnings and notes for one that did."""
        parts = [] if self.completed else self._failure_reasons(language)
        parts += self._warnings(language)
        if self.notes:
            parts.append(self.notes)
        return _one_line("; ".join(parts), MAX_REASON_CHARS)

    def _failure_reasons(self, language: str) -> list[str]:
        failing = [c for c in self.ordered_checks() if c.verdict in FAILING]
        reasons = [f"{labels.check_name(c.name, language)}: {labels.verdict_word(c.verdict, language)} — "
                   f"{c.reason or _first_failing_rule(c, language)}" for c in failing]
        if self.claimed_completed and failing:
            reasons.insert(0, labels.text("reason_inconsistent", language))
        if not reasons:  # nothing failed, but a check was skipped or never run
            reasons = [self._not_run_reason(c, language) for c in self.ordered_checks() if c.verdict in (None, "skipped")]
        return reasons

    @staticmethod
    def _not_run_reason(check: Check, language: str) -> str:
        if check.verdict is None:
            return labels.text("reason_not_tested", language, check=labels.check_name(check.name, language))
        reason = f" — {check.reason}" if check.reason else ""
        return f"{labels.check_name(check.name, language)}: {labels.verdict_word(check.verdict, language)}{reason}"

    def _warnings(self, language: str) -> list[str]:
        return [f"{labels.check_name(c.name, language)}: {labels.verdict_word(c.verdict, language)} — {c.reason}"
                for c in self.ordered_checks() if c.verdict == "warning" and c.reason]

    def ordered_checks(self) -> list[Check]:
        return [self.checks[name] for name in labels.CHECKS]


@dataclass
class Run:
    run_dir: Path
    run_ids: list[str]
    harness_version: str
    profile: str
    target: dict[str, str]
    tester: str | None
    publication_date: date | None
    started_at: datetime
    finished_at: datetime
    services: list[Service]
    defects: list[str] = field(default_factory=list)
    junit: dict[str, int] | None = None
    journal_counts: dict[str, int] = field(default_factory=dict)
    load_summary: dict[str, Any] | None = None
    allure_note: str | None = None  # why allure-report.html is absent, when it is
    seal: Any = None  # reports.manifest.Seal: signing key and manifest hash, printed at the end of the report
    submission: dict[str, Any] | None = None  # the admin system's answer (submission.json of `kiemthu submit`)

    @property
    def run_id(self) -> str:
        return ", ".join(self.run_ids)

    @property
    def completed_count(self) -> int:
        return sum(s.completed for s in self.services)


def load_run(run_dir: Path) -> Run:
    """Read and validate a run directory. Raises SummaryError for a missing or invalid summary.json."""
    summary = read_summary(run_dir)
    run = run_from_summary(summary, run_dir)
    run.junit = read_junit(run_dir / "junit.xml")
    run.journal_counts = read_journal_counts(run_dir / "journal.jsonl")
    run.load_summary = read_load_summary(run_dir / "load" / "summary.json")
    run.submission = read_submission(run_dir / "submission.json")
    return run


def read_submission(path: Path) -> dict[str, Any] | None:
    """`kiemthu submit`'s record: when it was sent and, per service, confirmed / returned / refused with reasons."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    reply = data.get("reply") if isinstance(data, dict) else None
    services = ((reply or {}).get("result") or {}).get("DanhSachDichVu") if isinstance(reply, dict) else None
    if not isinstance(services, list):
        return None  # e.g. the sources list `report --from-history` writes under the same name
    return {"submitted_at": data.get("submitted_at", ""), "portal_url": data.get("portal_url", ""),
            "services": [s for s in services if isinstance(s, dict) and "MaDVC" in s and "KetQua" in s]}


def read_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise SummaryError(f"{path}: rule 'file exists' — summary.json not found (run the suite first)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SummaryError(f"{path}: rule 'valid JSON' — {exc}") from None
    problem = first_schema_problem(data)
    if problem:
        raise SummaryError(f"{path}: {problem}")
    return data


def first_schema_problem(data: Any) -> str | None:
    """The most relevant schema violation as 'field: rule 'x' — value ...', or None when valid."""
    from jsonschema.exceptions import best_match

    from schemas import validator

    error = best_match(validator("summary").iter_errors(data))
    if error is None:
        return None
    where = _json_path(error.absolute_path)
    if error.validator == "required":
        return f"{where}: rule 'required' — {error.message}"
    value = json.dumps(error.instance, ensure_ascii=False, default=str)
    return f"{where}: rule '{error.validator}' — value {_one_line(clean(value), 120)}: {error.message[:200]}"


def run_from_summary(summary: dict[str, Any], run_dir: Path) -> Run:
    """A Run from a validated summary (services may carry `_run_id`/`_run_dir` when assembled from history)."""
    run_dir = Path(run_dir)
    return Run(
        run_dir=run_dir,
        run_ids=summary.get("_run_ids") or [summary["run_id"]],
        harness_version=summary.get("harness_version") or HARNESS_VERSION,
        profile=summary["profile"],
        target={k: clean(v) for k, v in summary["target"].items()},
        tester=summary.get("tester"),
        publication_date=date.fromisoformat(summary["publication_date"]) if summary.get("publication_date") else None,
        started_at=parse_time(summary["started_at"]),
        finished_at=parse_time(summary["finished_at"]),
        services=[service_from_summary(s, summary["run_id"], run_dir) for s in summary["services"]],
        defects=list(summary.get("defects") or []),
    )


def service_from_summary(data: dict[str, Any], run_id: str, run_dir: Path) -> Service:
    checks = {name: check_from_summary(name, data["checks"].get(name)) for name in labels.CHECKS}
    failing = any(c.verdict in FAILING for c in checks.values())
    return Service(
        id=data["id"], MaTTHC=clean(data["MaTTHC"]), TenTTHC=clean(data["TenTTHC"]),
        MaDVC=clean(data["MaDVC"]), TenDVC=clean(data["TenDVC"]), level=data["level"],
        dossier_codes=[clean(c) for c in data["dossier_codes"]],
        checks=checks,
        completed=bool(data["completed"]) and not failing,
        claimed_completed=bool(data["completed"]),
        notes=_one_line(clean(data.get("notes") or ""), MAX_REASON_CHARS),
        run_id=data.get("_run_id") or run_id,
        run_dir=Path(data["_run_dir"]) if data.get("_run_dir") else run_dir,
    )


def check_from_summary(name: str, data: dict[str, Any] | None) -> Check:
    if data is None:
        return Check(name=name, verdict=None)
    return Check(
        name=name,
        verdict=data["verdict"],
        reason=_one_line(clean(data.get("reason") or ""), MAX_REASON_CHARS),
        rules=[rule_from_summary(r) for r in data.get("rules") or []],
        evidence=[clean(p) for p in data.get("evidence") or []],
        duration_s=data.get("duration_s"),
    )


def rule_from_summary(data: dict[str, Any]) -> Rule:
    return Rule(
        rule_id=clean(data["rule_id"]), clause=clean(data["clause"]), title=clean(data["title"]),
        verdict=data["verdict"], severity=data.get("severity"),
        expected=format_value(data.get("expected")), actual=format_value(data.get("actual")),
        where=clean(data.get("where") or ""), note=_one_line(clean(data.get("note") or ""), MAX_VALUE_CHARS),
    )


def format_value(value: Any) -> str:
    """An expected/actual value as short text (JSON for structures), secrets masked."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _one_line(clean(text), MAX_VALUE_CHARS)


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:  # the harness writes local (Vietnam) time when it omits the offset
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)


def format_time(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S")


def format_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def read_junit(path: Path) -> dict[str, int] | None:
    """Totals over every <testsuite> of junit.xml, or None when absent or unreadable."""
    if not path.is_file():
        return None
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = Counter()
    for suite in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            totals[key] += int(suite.get(key, 0) or 0)
    return dict(totals)


def read_journal_counts(path: Path) -> dict[str, int]:
    """Number of journal entries per portal role (sso, payment, ipn, adapter, ...)."""
    counts: Counter[str] = Counter()
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                counts[str(json.loads(line).get("role", "?"))] += 1
            except (json.JSONDecodeError, AttributeError):
                counts["?"] += 1
    return dict(sorted(counts.items()))


def read_load_summary(path: Path) -> dict[str, Any] | None:
    """Scalar figures of the load test's summary, one level of nesting flattened ('throughput.rps')."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    figures: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            figures.update({f"{key}.{k}": v for k, v in value.items() if _is_scalar(v)})
        elif _is_scalar(value):
            figures[key] = value
    return {k: clean(v) for k, v in list(figures.items())[:MAX_LOAD_FIGURES]}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def evidence_target(run: Run, service: Service, rel: str) -> Path | None:
    """The evidence file a summary path names, only if it exists inside the service's run directory."""
    base = (service.run_dir or run.run_dir).resolve()
    candidate = (base / rel).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def _first_failing_rule(check: Check, language: str) -> str:
    for rule in check.rules:
        if rule.verdict in FAILING:
            expected, actual = labels.text("expected", language).lower(), labels.text("actual", language).lower()
            return f"{rule.rule_id}: {expected} {rule.expected}, {actual} {rule.actual}"
    return ""


def _json_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
