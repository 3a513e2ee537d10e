"""summary.json: per service the dossier codes and per-check verdicts with the rules behind them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from kiemthu import __version__
from kiemthu.logs import redact
from kiemthu.runtime import VN_TZ

# a service is complete ("Hoàn thành") only when no check failed, erred or could not be concluded
OK_VERDICTS = ("passed", "passed_with_exceptions", "warning", "not_applicable")


class Recorder:
    """Verdicts as the tests produce them; written once at the end of the session."""

    def __init__(self):
        self.checks: dict[tuple[str, str], dict[str, Any]] = {}
        self.codes: dict[str, list[str]] = {}
        self.notes: dict[str, list[str]] = {}

    def record(self, service: str, check: str, verdict: str, reason: str, rules: list[dict] = (),
               evidence: list[str] = (), duration_s: float | None = None, unverified: list[dict] = ()) -> None:
        item: dict[str, Any] = {"verdict": verdict, "reason": redact(reason), "rules": list(rules), "evidence": list(evidence)}
        if unverified:
            item["unverified"] = list(unverified)
        if duration_s is not None:
            item["duration_s"] = round(duration_s, 3)
        self.checks[(service, check)] = item

    def add_code(self, service: str, code: str | None) -> None:
        if code and code not in self.codes.setdefault(service, []):
            self.codes[service].append(code)

    def note(self, service: str, text: str) -> None:
        self.notes.setdefault(service, []).append(text)

    def dump(self) -> dict[str, Any]:
        """What a worker process hands its controller (plain JSON types: it crosses a process boundary)."""
        return {"checks": [[s, c, item] for (s, c), item in self.checks.items()], "codes": self.codes,
                "notes": self.notes}

    def merge(self, dumped: dict[str, Any]) -> None:
        """Fold in a worker's verdicts (each service ran on one worker only)."""
        for service, check, item in dumped.get("checks", []):
            self.checks[(service, check)] = item
        for service, codes in dumped.get("codes", {}).items():
            for code in codes:
                self.add_code(service, code)
        for service, notes in dumped.get("notes", {}).items():
            for text in notes:
                if text not in self.notes.get(service, []):
                    self.note(service, text)


def build_summary(suite, recorder: Recorder, finished_at: datetime | None = None) -> dict[str, Any]:
    from conformance.session import CHECKS

    target = suite.target
    services = []
    for entry, scenario in suite.services:
        sid = scenario["id"]
        checks = {}
        for check in CHECKS:
            item = recorder.checks.get((sid, check))
            if item is None:
                selected = check in suite.selected_checks(entry)
                item = {"verdict": "inconclusive",
                        "reason": "not evaluated: the check did not run" if selected else "not selected for this run"}
            checks[check] = item
        svc = {"id": sid, "MaTTHC": scenario["MaTTHC"], "TenTTHC": scenario["TenTTHC"], "MaDVC": scenario["MaDVC"],
               "TenDVC": scenario["TenDVC"], "level": scenario["level"], "dossier_codes": recorder.codes.get(sid, []),
               "checks": checks, "completed": all(c["verdict"] in OK_VERDICTS for c in checks.values())}
        if recorder.notes.get(sid):
            svc["notes"] = " ".join(recorder.notes[sid])
        services.append(svc)
    totals: dict[str, int] = {"services": len(services), "completed": sum(s["completed"] for s in services)}
    for s in services:
        for c in s["checks"].values():
            totals[c["verdict"]] = totals.get(c["verdict"], 0) + 1
    report = target.get("report") or {}
    summary = {
        "schema_version": 1, "run_id": suite.run_id, "harness_version": __version__,
        "profile": suite.profile.get("name", target["portal"].get("profile", "dvcqg-1.0")),
        "target": {"name": target["system"]["name"], "base_url": target["system"]["base_url"],
                   "agency_code": target["system"]["agency_code"], "agency_name": target["system"].get("agency_name", ""),
                   "file": str(target.path) if target.path else "", "portal_url": target["portal"]["base_url"]},
        "tester": report.get("tester"), "publication_date": str(report["publication_date"]) if report.get("publication_date") else None,
        "defects": list(suite.opts.defects),
        "started_at": suite.started_at.isoformat(timespec="seconds"),
        "finished_at": (finished_at or datetime.now(VN_TZ)).isoformat(timespec="seconds"),
        "services": services, "totals": totals,
    }
    shard = getattr(suite.opts, "shard", None)
    if shard is not None:  # `--shard K/N`: this run holds one share of the catalogue (merged by `report --merge`)
        summary["shard"] = shard.as_dict([s["id"] for s in services])
    return summary


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    from schemas import validator

    errors = [e.message for e in validator("summary").iter_errors(summary)]
    if errors:
        raise ValueError("summary.json breaks its schema: " + "; ".join(errors[:5]))
    Path(path).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
