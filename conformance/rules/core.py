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

VERDICTS = ("passed", "failed", "warning", "skipped", "not_applicable", "error")


class RuleViolation(AssertionError):
    """A rule did not hold. `expected`/`actual` are short, JSON-friendly; `where` says where to look."""

    def __init__(self, expected: Any, actual: Any, where: str | None = None, note: str | None = None):
        self.expected, self.actual, self.where, self.note = expected, actual, where, note
        super().__init__(f"expected {expected!r}, actual {actual!r}" + (f" ({note})" if note else ""))


class RuleSkipped(Exception):
    """A rule could not be evaluated because what it reads is missing (an earlier rule already failed)."""


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

    def __post_init__(self) -> None:
        legal = legal_source(self.rule_id)
        self.source = self.source or legal.get("source")
        self.citation_vi = self.citation_vi or legal.get("citation_vi")
        self.title_vi = self.title_vi or legal.get("title_vi")

    def as_dict(self) -> dict[str, Any]:
        out = {"rule_id": self.rule_id, "clause": self.clause, "title": self.title, "verdict": self.verdict,
               "severity": self.severity}
        out.update({k: v for k, v in (("source", self.source), ("citation_vi", self.citation_vi),
                                      ("title_vi", self.title_vi)) if v})
        if self.verdict in ("failed", "warning", "error"):
            out.update(expected=_jsonable(self.expected), actual=_jsonable(self.actual))
        if self.where:
            out["where"] = self.where
        if self.note:
            out["note"] = self.note
        return out

    def sentence(self) -> str:
        """One line for the report: rule, clause, expected, actual, where."""
        text = f"{self.rule_id} [{self.clause}]: expected {_short(self.expected)}, actual {_short(self.actual)}"
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


@dataclass
class Checker:
    """Collects rule results for one check of one service; `where` is the default place to look."""

    where: str = ""
    results: list[RuleResult] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def _run(self, severity: str, fn: Callable, *args, **kwargs) -> Any:
        base = dict(rule_id=fn.rule_id, clause=fn.clause, title=fn.title, severity=severity)
        try:
            value = fn(*args, **kwargs)
        except RuleViolation as v:
            verdict = "failed" if severity == "failure" else "warning"
            self.results.append(RuleResult(**base, verdict=verdict, expected=v.expected, actual=v.actual,
                                            where=v.where or self.where, note=v.note))
            return None
        except RuleSkipped as s:
            self.results.append(RuleResult(**base, verdict="skipped", note=str(s)))
            return None
        self.results.append(RuleResult(**base, verdict="passed"))
        return value if value is not None else True

    def require(self, fn: Callable, *args, **kwargs) -> Any:
        """Evaluate a rule whose violation fails the check. Returns the rule's value (or True), None on violation."""
        return self._run("failure", fn, *args, **kwargs)

    def advise(self, fn: Callable, *args, **kwargs) -> Any:
        """Evaluate a rule whose violation is only a warning."""
        return self._run("warning", fn, *args, **kwargs)

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

    def verdict(self) -> str:
        if self.failures:
            return "failed"
        return "warning" if self.warnings else "passed"

    def reason(self) -> str:
        # a named rule says more than "a step could not be completed", so it leads
        worst = sorted(self.failures or self.warnings, key=lambda r: r.rule_id.startswith("complete_"))
        if not worst:
            return f"{sum(r.verdict == 'passed' for r in self.results)} rules passed"
        head = worst[0].sentence()
        return head + (f" (+{len(worst) - 1} more)" if len(worst) > 1 else "")
