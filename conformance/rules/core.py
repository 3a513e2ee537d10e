"""Rule machinery: one small named function per clause, raising `RuleViolation(expected, actual, where)`.

A rule never decides how bad a violation is; the check that calls it chooses `failure` or `warning`
(`Checker.require` / `Checker.advise`) and the outcome lands in summary.json with the clause it enforces.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

VERDICTS = ("passed", "failed", "warning", "not_applicable", "not_evaluated", "error")
# a check's verdict, worst first: a finding beats a case that could not be performed, which beats a warning
CHECK_VERDICTS = ("failed", "inconclusive", "warning", "passed_with_exceptions", "passed", "not_applicable")


class RuleViolation(AssertionError):
    """A rule did not hold. `expected`/`actual` are short, JSON-friendly; `where` says where to look."""

    def __init__(self, expected: Any, actual: Any, where: str | None = None, note: str | None = None):
        self.expected, self.actual, self.where, self.note = expected, actual, where, note
        super().__init__(f"expected {expected!r}, actual {actual!r}" + (f" ({note})" if note else ""))


class RuleNotEvaluated(Exception):
    """A rule could not be evaluated: what it reads is missing (an earlier rule failed, a negative case was not
    performed, the hour of the run hides what it checks). Never a pass: a required rule not evaluated leaves its
    check inconclusive, an advisory one is listed as not verified."""


RuleSkipped = RuleNotEvaluated  # the earlier name


class RuleNotApplicable(Exception):
    """The rule does not apply to this service or run (the reason says why); neither a pass nor a gap."""


CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """rule id → {source, article, title_vi, citation_vi} (conformance/rules/catalogue.yaml)."""
    if not CATALOGUE_FILE.is_file():
        return {}
    return yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8")) or {}


def legal_source(rule_id: str) -> dict[str, str]:
    """The rule's source, Vietnamese citation and title; a `complete_<flow>` finding falls back to complete_flow.
    {} when the catalogue has no entry (the English title and clause then stand alone)."""
    book = catalogue()
    entry = book.get(rule_id) or (book.get("complete_flow") if rule_id.startswith("complete_") else None) or {}
    return {k: str(entry[k]) for k in ("source", "citation_vi", "title_vi") if entry.get(k)}


def rule(clause: str, title: str) -> Callable:
    """Mark a function as a rule enforcing `clause` (the citation, English form); the function name is the rule id.
    Its Vietnamese title and citation come from the catalogue."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            return fn(*args, **kwargs)

        inner.rule_id, inner.clause, inner.title = fn.__name__, clause, title
        inner.legal = legal_source(fn.__name__)
        inner.is_rule = True
        return inner

    return wrap


@dataclass
class RuleResult:
    rule_id: str
    clause: str
    title: str
    verdict: str
    severity: str = "failure"
    expected: Any = None
    actual: Any = None
    where: str | None = None
    note: str | None = None
    source: str | None = None       # id in the sources table of docs/domain/
    citation_vi: str | None = None
    title_vi: str | None = None
    variant: str | None = None  # the attack of a negative case, so each case is its own named row
    evidence: list[str] = field(default_factory=list)  # files that prove the verdict (the exchange, the page)

    def __post_init__(self) -> None:
        legal = legal_source(self.rule_id)
        self.source = self.source or legal.get("source")
        self.citation_vi = self.citation_vi or legal.get("citation_vi")
        self.title_vi = self.title_vi or legal.get("title_vi")

    @property
    def key(self) -> tuple[str, str | None]:
        return self.rule_id, self.variant

    @property
    def name(self) -> str:
        return f"{self.rule_id}[{self.variant}]" if self.variant else self.rule_id

    def as_dict(self) -> dict[str, Any]:
        from conformance.rules.variants import variant_info

        out = {"rule_id": self.rule_id, "clause": self.clause, "title": self.title, "verdict": self.verdict,
               "severity": self.severity}
        out.update({k: v for k, v in (("source", self.source), ("citation_vi", self.citation_vi),
                                      ("title_vi", self.title_vi)) if v})
        if self.variant:
            info = variant_info(self.rule_id, self.variant)
            out["variant"] = self.variant
            out.update({k: v for k, v in (("variant_title", info.get("title_vi")), ("attack", info.get("attack"))) if v})
        if self.verdict in ("failed", "warning", "error"):
            out.update(expected=_jsonable(self.expected), actual=_jsonable(self.actual))
        if self.where:
            out["where"] = self.where
        if self.evidence:
            out["evidence"] = list(self.evidence)
        if self.note:
            out["note"] = self.note
        return out

    def sentence(self) -> str:
        """One line for the report: rule, clause, expected, actual, where."""
        if self.verdict == "not_evaluated":
            return f"{self.name} [{self.clause}]: not evaluated — {self.note or 'no reason given'}"
        text = f"{self.name} [{self.clause}]: expected {_short(self.expected)}, actual {_short(self.actual)}"
        if self.note:
            text += f" — {self.note}"
        if self.where:
            text += f" (see {self.where})"
        return text


def _short(value: Any, limit: int = 240) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class Owned:
    """The rules a check owns: each appears in its result, run or not. `variants` lists the named cases of a rule
    (one row each); a required rule that could not run leaves the check inconclusive."""

    required: tuple[Callable, ...] = ()
    advisory: tuple[Callable, ...] = ()
    variants: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def severity(self, rule_id: str) -> str:
        return "warning" if rule_id in {f.rule_id for f in self.advisory} else "failure"

    def rows(self) -> list[tuple[Callable, str | None, str]]:
        out = []
        for fn in (*self.required, *self.advisory):
            severity = self.severity(fn.rule_id)
            out += [(fn, v, severity) for v in self.variants.get(fn.rule_id, ())] or [(fn, None, severity)]
        return out


def owned(required=(), advisory=(), variants: dict[Callable, tuple[str, ...]] | None = None) -> Owned:
    """`variants`: per rule (a function), its named cases; a rule listed in conformance/rules/variants.yaml gets
    every case listed there unless given here."""
    from conformance.rules.variants import variant_names

    names = {fn.rule_id: tuple(variant_names(fn.rule_id)) for fn in (*required, *advisory) if variant_names(fn.rule_id)}
    names.update({fn.rule_id: tuple(v) for fn, v in (variants or {}).items()})
    return Owned(tuple(required), tuple(advisory), names)


@dataclass
class Checker:
    """Collects rule results for one check of one service; `where` is the default place to look."""

    where: str = ""
    results: list[RuleResult] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def _run(self, severity: str, fn: Callable, *args, variant: str | None = None, evidence: list[str] = (),
             **kwargs) -> Any:
        base = dict(rule_id=fn.rule_id, clause=fn.clause, title=fn.title, severity=severity, variant=variant,
                    evidence=[e for e in evidence if e])
        try:
            value = fn(*args, **kwargs)
        except RuleViolation as v:
            verdict = "failed" if severity == "failure" else "warning"
            self.results.append(RuleResult(**base, verdict=verdict, expected=v.expected, actual=v.actual,
                                            where=v.where or self.where, note=v.note))
            return None
        except RuleNotEvaluated as s:
            self.results.append(RuleResult(**base, verdict="not_evaluated", note=str(s)))
            return None
        except RuleNotApplicable as s:
            self.results.append(RuleResult(**base, verdict="not_applicable", note=str(s)))
            return None
        self.results.append(RuleResult(**base, verdict="passed"))
        return value if value is not None else True

    def require(self, fn: Callable, *args, **kwargs) -> Any:
        """Evaluate a rule whose violation fails the check. Returns the rule's value (or True), None on violation.
        `variant=` names the case (a negative case's attack); `evidence=` lists the files that prove it."""
        return self._run("failure", fn, *args, **kwargs)

    def advise(self, fn: Callable, *args, **kwargs) -> Any:
        """Evaluate a rule whose violation is only a warning."""
        return self._run("warning", fn, *args, **kwargs)

    def not_applicable(self, fn: Callable, reason: str, variant: str | None = None) -> None:
        """The caller knows the rule does not apply here (and says why)."""
        self.results.append(RuleResult(fn.rule_id, fn.clause, fn.title, "not_applicable", "failure", note=reason,
                                       variant=variant))

    def not_evaluated(self, fn: Callable, reason: str, severity: str = "failure", variant: str | None = None) -> None:
        self.results.append(RuleResult(fn.rule_id, fn.clause, fn.title, "not_evaluated", severity, note=reason,
                                       variant=variant))

    def account_for(self, rules: Owned, reason: str, verdict: str = "not_evaluated") -> list[RuleResult]:
        """Every rule the check owns that left no row is added (not evaluated, or `verdict`) with `reason`."""
        seen = {r.key for r in self.results}
        missing = []
        for fn, variant, severity in rules.rows():
            if (fn.rule_id, variant) not in seen:
                missing.append(RuleResult(fn.rule_id, fn.clause, fn.title, verdict, severity, note=reason,
                                          variant=variant))
        self.results += missing
        return missing

    def record_error(self, rule_id: str, clause: str, title: str, expected: Any, actual: Any, where: str = "") -> None:
        """A step of the flow could not be completed: recorded as a failed pseudo-rule naming the step."""
        self.results.append(RuleResult(rule_id, clause, title, "failed", "failure", expected, actual,
                                       where or self.where))

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.verdict == "failed"]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.results if r.verdict == "warning"]

    @property
    def gaps(self) -> list[RuleResult]:
        """Required rules that could not run: the check cannot be concluded."""
        return [r for r in self.results if r.verdict == "not_evaluated" and r.severity == "failure"]

    @property
    def unverified(self) -> list[RuleResult]:
        """Advisory rules that could not run: the check passes, except for these."""
        return [r for r in self.results if r.verdict == "not_evaluated" and r.severity != "failure"]

    def verdict(self) -> str:
        if self.failures:
            return "failed"
        if self.gaps:
            return "inconclusive"
        if self.warnings:
            return "warning"
        if self.unverified:
            return "passed_with_exceptions"
        return "passed"

    def reason(self) -> str:
        # a named rule says more than "a step could not be completed", so it leads
        worst = sorted(self.failures or self.gaps or self.warnings or self.unverified,
                       key=lambda r: r.rule_id.startswith("complete_"))
        if not worst:
            return f"{sum(r.verdict == 'passed' for r in self.results)} rules passed"
        head = worst[0].sentence()
        return head + (f" (+{len(worst) - 1} more)" if len(worst) > 1 else "")
