"""A run directory read into plain objects the builders print from.

Reads only files of the run directory: summary.json (validated against schemas/summary.schema.json),
junit.xml, journal.jsonl, load/summary.json, and the evidence paths the summary names.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiemthu import __version__ as HARNESS_VERSION
from kiemthu.runtime import VN_TZ
from reports import labels, vocabulary, wording
from reports.guard import clean

FAILING = ("failed", "error")
NOT_COMPLETE = ("failed", "error", "inconclusive")  # a service with such a check did not complete testing
NOT_VERIFIED = ("skipped", "not_evaluated")  # a rule that could not be evaluated
MAX_VALUE_CHARS = 300
MAX_REASON_CHARS = 400
MAX_NOTE_CHARS = 110  # the summary table's note: one short sentence
MAX_LOAD_FIGURES = 30
JOURNAL_REF = re.compile(r"journal(?:\.jsonl)?\s*(?:entr(?:y|ies)\s*)?#\s*(\d+(?:\s*,\s*#?\d+)*)", re.IGNORECASE)


class SummaryError(ValueError):
    """summary.json is missing or invalid; the message is one line naming the field, rule and value."""


@dataclass
class Rule:
    rule_id: str
    clause: str
    title: str  # the suite's own (English) title
    verdict: str
    severity: str | None = None
    expected: str = ""
    actual: str = ""
    where: str = ""
    note: str = ""  # why it was not verified (skipped), or what else a finding means
    variant: str = ""  # the negative case this result is for
    variant_title: str = ""  # its Vietnamese name, when the summary gives one
    evidence: list[str] = field(default_factory=list)  # files (screenshots, journal exchange) proving a finding
    raw_expected: Any = None
    raw_actual: Any = None
    count: int = 1  # identical passing results shown as one row

    @property
    def observed(self) -> str:
        """What the report shows as the actual result: the value seen, else the note."""
        return self.actual or self.note

    def name(self, language: str = "vi") -> str:
        """The row's name: what is checked, and the negative case when the result is for one."""
        title = vocabulary.rule_title(self.rule_id, self.title, language)
        if self.variant:
            case = self.variant_title if self.variant_title and language == "vi" else vocabulary.variant_name(self.variant, language)
            return f"{title}: {case}"
        if self.count > 1:
            return f"{title} ({labels.text('cases', language, n=self.count)})"
        return title

    def source(self, language: str = "vi") -> str:
        return vocabulary.rule_source(self.rule_id, self.clause, language)

    def short_name(self, language: str = "vi") -> str:
        short = vocabulary.short_title(self.rule_id, language)
        return short or wording.shorten(self.name(language), 60)

    @property
    def elsewhere(self) -> bool:
        """Not evaluated here because it was evaluated on another service of the run."""
        return vocabulary.is_elsewhere(self.note)

    @property
    def unverified(self) -> bool:
        return self.verdict in NOT_VERIFIED and not self.elsewhere

    def values(self, language: str = "vi") -> tuple[str, str]:
        return (wording.format_value(self.raw_expected, language, MAX_VALUE_CHARS),
                wording.format_value(self.raw_actual, language, MAX_VALUE_CHARS))

    def sentence(self, language: str = "vi", verdict: bool = True) -> str:
        """The finding in one sentence: verdict, what is checked, expected and actual, what it means."""
        expected, actual = self.values(language)
        note = wording.note_text(self.note, language)
        parts = [f"{labels.verdict_word(self.verdict, language)} — {self.name(language)}" if verdict else self.name(language)]
        if self.verdict in NOT_VERIFIED:
            reason = note or labels.text("unverified_default", language)
            return f"{parts[0]}: {reason.rstrip('.')}."
        if expected or actual:
            parts.append(f"{labels.text('expected', language).lower()} {expected or '—'}; "
                         f"{labels.text('actual', language).lower()} {actual or '—'}")
        text = ": ".join(parts)
        return f"{text} ({note.rstrip('.')})." if note else f"{text}."

    def journal_ids(self) -> list[int]:
        """Journal entries the result points at, from `where` ('journal#48', 'journal entries #41, #42')."""
        ids = []
        for match in JOURNAL_REF.finditer(self.where or ""):
            ids += [int(x) for x in re.findall(r"\d+", match.group(1))]
        return ids


@dataclass
class Check:
    name: str
    verdict: str | None  # None: the check was not run
    reason: str = ""
    rules: list[Rule] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    duration_s: float | None = None
    unverified: list[str] = field(default_factory=list)  # rule ids (or names) the summary lists as not verified

    @property
    def exceptions(self) -> list[Rule]:
        """Rules a passing check could not verify: listed by the summary, else found among its rules."""
        if self.unverified:
            named = [r for r in self.rules if r.rule_id in self.unverified or r.variant in self.unverified]
            return named or [Rule(rule_id=u, clause="", title=u, verdict="not_evaluated") for u in self.unverified]
        return [r for r in self.rules if r.unverified]

    @property
    def not_run(self) -> bool:
        """Not run at all, or not selected for this run (which a newer summary records as not applicable)."""
        return self.verdict in (None, "skipped", "not_evaluated") or (
            self.verdict == "not_applicable" and vocabulary.has_flag(self.reason, "not_run"))

    @property
    def shown_verdict(self) -> str | None:
        """The verdict as printed: a pass with a rule not verified is a pass with exceptions, never a plain pass."""
        if self.verdict == "passed" and self.exceptions:
            return "passed_with_exceptions"
        if self.verdict == "skipped":
            return "not_evaluated"
        return self.verdict

    def verdict_text(self, language: str = "vi") -> str:
        """'Đạt', or 'Đạt, trừ: đồng hồ 24 giờ', for the summary table."""
        word = labels.verdict_word(self.shown_verdict, language)
        if self.shown_verdict == "passed_with_exceptions":
            names = list(dict.fromkeys(r.short_name(language) for r in self.exceptions))
            return f"{word}: {'; '.join(names)}"
        return word

    def reason_text(self, language: str = "vi") -> str:
        """The check's reason in the reader's language: counted from its rules when they say it better."""
        if self.rules:
            counts = Counter(r.verdict for r in self.rules for _ in range(r.count))
            return labels.rule_counts(counts, language)
        return wording.note_text(self.reason, language) or (
            labels.text("check_error", language) if self.verdict == "error" else "")

    def rows(self) -> list[Rule]:
        """Rule results as rows: each negative case its own row, identical passing results as one."""
        out: list[Rule] = []
        for rule in self.rules:
            same = next((r for r in out if r.rule_id == rule.rule_id and not r.variant and not rule.variant
                         and r.verdict == rule.verdict == "passed"), None)
            if same:
                same.count += 1
            else:
                out.append(replace(rule))
        return out


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
    target: dict[str, str] = field(default_factory=dict)  # its run's system (a report from history)
    defects: list[str] = field(default_factory=list)  # seeded defects of its run
    later_failures: list[dict[str, Any]] = field(default_factory=list)  # later runs of it that did not complete

    @property
    def completed_codes(self) -> list[str]:
        """Dossier codes to submit as 'completed testing': only for services that completed."""
        return list(self.dossier_codes) if self.completed else []

    def note(self, language: str = "vi") -> str:
        """The summary table's note: one short sentence on why the service did not complete, or what to know."""
        parts = [] if self.completed else self._failure_reasons(language)
        if self.later_failures:  # a regression after the run submitted is the first thing to know
            parts.insert(0, labels.text("later_failure", language, run=self.later_failures[0]["run_id"]).capitalize())
        parts += self._exceptions(language) + self._warnings(language)
        if not parts and self.notes:
            parts.append(wording.note_text(self.notes, language))
        parts = [p for p in parts if p]
        if not parts:
            return ""
        more = len(parts) - 1
        text = parts[0].rstrip(".")
        if more:
            text += labels.text("and_more", language, n=more)
        return wording.shorten(text, MAX_NOTE_CHARS) + ("" if text.endswith("…") else ".")

    def details(self, language: str = "vi") -> list[str]:
        """Every reason in full, for the annex."""
        parts = [] if self.completed else self._failure_reasons(language, full=True)
        parts += self._exceptions(language) + self._warnings(language)
        parts += [labels.text("later_failure_full", language, run=f["run_id"], at=f["finished"])
                  for f in self.later_failures]
        return [p for p in parts if p]

    def _failure_reasons(self, language: str, full: bool = False) -> list[str]:
        failing = [c for c in self.ordered_checks() if c.verdict in NOT_COMPLETE]
        reasons = []
        for c in failing:
            rule = next((r for r in c.rules if r.verdict in FAILING), None)
            what = (rule.sentence(language, verdict=False) if full else rule.name(language)) if rule else c.reason_text(language)
            reasons.append(f"{labels.check_name(c.name, language)} {labels.verdict_word(c.verdict, language).lower()}"
                           f"{': ' + what if what else ''}")
        if self.claimed_completed and failing:
            reasons.insert(0, labels.text("reason_inconsistent", language))
        if not reasons:  # nothing failed, but a check was not evaluated or never run
            reasons = [self._not_run_reason(c, language) for c in self.ordered_checks() if c.not_run]
        return reasons

    @staticmethod
    def _not_run_reason(check: Check, language: str) -> str:
        if check.verdict is None:
            return labels.text("reason_not_tested", language, check=labels.check_name(check.name, language))
        reason = check.reason_text(language)
        return (f"{labels.check_name(check.name, language)}: {labels.verdict_word(check.shown_verdict, language).lower()}"
                f"{' — ' + reason if reason else ''}")

    def _exceptions(self, language: str) -> list[str]:
        return [f"{labels.check_name(c.name, language)}: {labels.text('not_verified', language)} "
                f"{'; '.join(dict.fromkeys(r.short_name(language) for r in c.exceptions))}"
                for c in self.ordered_checks() if c.shown_verdict == "passed_with_exceptions"]

    def _warnings(self, language: str) -> list[str]:
        out = []
        for c in self.ordered_checks():
            if c.verdict == "warning":
                rule = next((r for r in c.rules if r.verdict == "warning"), None)
                out.append(f"{labels.check_name(c.name, language)}: {labels.verdict_word('warning', language).lower()}"
                           f" — {rule.name(language) if rule else c.reason_text(language)}")
        return out

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
    if not run.journal_counts:  # a merged run: the journals stay in its source runs' folders
        for folder in sorted({s.run_dir for s in run.services if s.run_dir and s.run_dir != Path(run_dir)}):
            for role, n in read_journal_counts(folder / "journal.jsonl").items():
                run.journal_counts[role] = run.journal_counts.get(role, 0) + n
        run.journal_counts = dict(sorted(run.journal_counts.items()))
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
    failing = any(c.verdict in NOT_COMPLETE for c in checks.values())
    return Service(
        id=data["id"], MaTTHC=clean(data["MaTTHC"]), TenTTHC=clean(data["TenTTHC"]),
        MaDVC=clean(data["MaDVC"]), TenDVC=clean(data["TenDVC"]), level=data["level"],
        dossier_codes=[clean(c) for c in data["dossier_codes"]],
        checks=checks,
        completed=bool(data["completed"]) and not failing,
        claimed_completed=bool(data["completed"]),
        notes=_one_line(clean(data.get("notes") or ""), MAX_REASON_CHARS),
        run_id=data.get("_run_id") or run_id,
        # a merged run names its services' folders relative to itself; a report from history, absolutely
        run_dir=Path(run_dir) / data["_run_dir"] if data.get("_run_dir") else run_dir,
        target={k: clean(v) for k, v in (data.get("_target") or {}).items()},
        defects=list(data.get("_defects") or []),
        later_failures=list(data.get("_later_failures") or []),
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
        unverified=[clean(u if isinstance(u, str) else u.get("rule_id", "")) for u in data.get("unverified") or []],
    )


def rule_from_summary(data: dict[str, Any]) -> Rule:
    return Rule(
        rule_id=clean(data["rule_id"]), clause=clean(data["clause"]), title=clean(data["title"]),
        verdict=data["verdict"], severity=data.get("severity"),
        expected=format_value(data.get("expected")), actual=format_value(data.get("actual")),
        where=clean(data.get("where") or ""), note=_one_line(clean(data.get("note") or ""), MAX_VALUE_CHARS),
        variant=clean(data.get("variant") or ""), variant_title=clean(data.get("variant_title") or ""),
        evidence=[clean(p) for p in _as_list(data.get("evidence"))],
        raw_expected=data.get("expected"), raw_actual=data.get("actual"),
    )


def _as_list(value: Any) -> list[str]:
    """Evidence of a rule as a list of paths, whether the summary gives one path, a list, or a mapping."""
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return [v if isinstance(v, str) else v.get("path", "") for v in value if isinstance(v, (str, dict))]


def format_value(value: Any) -> str:
    """An expected/actual value as short words ('MaLoi = 00, MoTaLoi = …'), secrets masked."""
    return wording.format_value(value, "vi", MAX_VALUE_CHARS)


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


def _json_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def _one_line(text: str, limit: int) -> str:
    return wording.shorten(text, limit)
