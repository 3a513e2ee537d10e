"""Go-live gate: Locust's statistics (the `_stats.csv` file) checked against the thresholds of `load.gate`.

Pure functions: they read a CSV file or rows and return verdicts; nothing here talks to a server.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

AGGREGATED = "Aggregated"


@dataclass
class StepStats:
    """One row of Locust's statistics: a step name (one method) or the aggregate."""

    method: str
    name: str
    requests: int
    failures: int
    median_ms: float | None
    avg_ms: float | None
    max_ms: float | None
    rps: float
    p95_ms: float | None
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass
class Threshold:
    """The verdict of one gate threshold. `name` is how the user names it, e.g. `p95_ms[sso: callback]`."""

    name: str
    limit: float | bool
    actual: float | int | None
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _num(value: str | None) -> float | None:
    if value in (None, "", "N/A"):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def parse_stats_rows(rows: Iterable[dict[str, str]]) -> list[StepStats]:
    """Rows of Locust's `_stats.csv` (as csv.DictReader yields them) as StepStats."""
    out = []
    for row in rows:
        out.append(StepStats(
            method=row.get("Type", ""),
            name=row.get("Name", ""),
            requests=int(_num(row.get("Request Count")) or 0),
            failures=int(_num(row.get("Failure Count")) or 0),
            median_ms=_num(row.get("Median Response Time")),
            avg_ms=_num(row.get("Average Response Time")),
            max_ms=_num(row.get("Max Response Time")),
            rps=_num(row.get("Requests/s")) or 0.0,
            p95_ms=_num(row.get("95%")),
            p99_ms=_num(row.get("99%")),
        ))
    return out


def read_stats_csv(path: str | Path) -> list[StepStats]:
    """Parse `<prefix>_stats.csv` written by `locust --csv <prefix>`."""
    with open(path, newline="", encoding="utf-8") as fh:
        return parse_stats_rows(csv.DictReader(fh))


def aggregate(stats: list[StepStats]) -> StepStats:
    """The aggregate row (Locust writes it last, named `Aggregated`); an empty one when absent."""
    for s in stats:
        if s.name == AGGREGATED and not s.method:
            return s
    return StepStats("", AGGREGATED, 0, 0, None, None, None, 0.0, None, None)


def steps(stats: list[StepStats]) -> dict[str, StepStats]:
    """Per step name (methods merged: the worst p95, summed counts)."""
    out: dict[str, StepStats] = {}
    for s in stats:
        if s.name == AGGREGATED and not s.method:
            continue
        if s.name not in out:
            out[s.name] = StepStats(**asdict(s))
            continue
        m = out[s.name]
        m.requests += s.requests
        m.failures += s.failures
        m.rps += s.rps
        m.p95_ms = max(x for x in (m.p95_ms, s.p95_ms, -1.0) if x is not None)
        m.p99_ms = max(x for x in (m.p99_ms, s.p99_ms, -1.0) if x is not None)
        m.max_ms = max(x for x in (m.max_ms, s.max_ms, -1.0) if x is not None)
        m.method = "/".join(sorted({*m.method.split("/"), s.method}))
    return out


def evaluate_gate(gate: dict[str, Any], stats: list[StepStats], *, journeys_per_min: float | None = None,
                  reconciliation: dict[str, Any] | None = None) -> list[Threshold]:
    """One Threshold per configured limit. A p95 limit on a step that never ran fails (nothing was measured)."""
    out: list[Threshold] = []
    total = aggregate(stats)
    by_step = steps(stats)

    for step, limit in (gate.get("p95_ms") or {}).items():
        name = f"p95_ms[{step}]"
        row = total if step == AGGREGATED else by_step.get(step)
        if row is None or not row.requests or row.p95_ms is None:
            out.append(Threshold(name, limit, None, False, f"{name}: no requests recorded for step '{step}' "
                                 f"(limit {limit:g} ms)"))
            continue
        ok = row.p95_ms <= limit
        out.append(Threshold(name, limit, row.p95_ms, ok,
                             f"{name}: p95 {row.p95_ms:g} ms {'≤' if ok else '>'} limit {limit:g} ms"))

    if "max_error_rate" in gate:
        limit = float(gate["max_error_rate"])
        if not total.requests:
            out.append(Threshold("max_error_rate", limit, None, False, "max_error_rate: no requests were made"))
        else:
            rate = total.error_rate
            ok = rate <= limit
            out.append(Threshold("max_error_rate", limit, round(rate, 6), ok,
                                 f"max_error_rate: {total.failures}/{total.requests} failed = {rate:.2%} "
                                 f"{'≤' if ok else '>'} limit {limit:.2%}"))

    if "min_rps" in gate:
        limit = float(gate["min_rps"])
        ok = total.rps >= limit
        out.append(Threshold("min_rps", limit, round(total.rps, 2), ok,
                             f"min_rps: {total.rps:.1f} req/s {'≥' if ok else '<'} minimum {limit:g} req/s"))

    if "min_journeys_per_min" in gate:
        limit = float(gate["min_journeys_per_min"])
        actual = journeys_per_min or 0.0
        ok = actual >= limit
        out.append(Threshold("min_journeys_per_min", limit, round(actual, 2), ok,
                             f"min_journeys_per_min: {actual:.1f}/min {'≥' if ok else '<'} minimum {limit:g}/min"))

    if gate.get("reconciliation", True) and reconciliation is not None:
        counts = {k: reconciliation.get(k, 0) for k in ("lost", "duplicated", "inconsistent")}
        if reconciliation.get("error"):
            out.append(Threshold("reconciliation", True, None, False,
                                 f"reconciliation: could not complete — {reconciliation['error']}"))
        else:
            ok = not any(counts.values())
            detail = ", ".join(f"{v} {k}" for k, v in counts.items())
            out.append(Threshold("reconciliation", True, sum(counts.values()), ok,
                                 f"reconciliation: {detail} (of {reconciliation.get('checked_dossiers', 0)} dossiers, "
                                 f"{reconciliation.get('checked_payments', 0)} payments)"))
    return out


def gate_passed(thresholds: list[Threshold]) -> bool:
    return all(t.passed for t in thresholds)


def failed_names(thresholds: list[Threshold]) -> list[str]:
    return [t.name for t in thresholds if not t.passed]
