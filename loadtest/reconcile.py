"""Reconciliation: what the load test saw the system do, against what reached the portal.

Records (one JSON object per line, written by the journeys):
- `{"type": "submission", "sid", "code", "service", "status"?, "t"}` — a dossier the system confirmed to a citizen
- `{"type": "status", "code", "status", "action"?, "t"}` — an officer action the system confirmed
- `{"type": "payment", "ref", "code", "amount", "outcome", "t"}` — a payment the citizen completed on the portal
- `{"type": "journey", "kind", "ok", "t", "duration_s"}` — one finished journey (for journeys/min)

`reconcile()` is pure: it takes those records and the portal's view, and classifies every item as
- lost: the portal never got it (dossier missing, a later status never arrived, a paid IPN not acknowledged `00`);
- duplicated: one code/reference used for two different submissions or payments, or stored twice on the portal;
- inconsistent: the portal holds it with a status or amount the system never reported.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

PAID = "success"


@dataclass
class Finding:
    kind: str          # dossier | payment
    key: str           # dossier code or payment reference
    category: str      # lost | duplicated | inconsistent
    reason: str
    expected: Any = None
    actual: Any = None


@dataclass
class Reconciliation:
    checked_dossiers: int = 0
    checked_payments: int = 0
    lost: int = 0
    duplicated: int = 0
    inconsistent: int = 0
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not (self.lost or self.duplicated or self.inconsistent)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        setattr(self, finding.category, getattr(self, finding.category) + 1)

    def to_dict(self, max_findings: int = 200) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "findings"}
        out["passed"] = self.passed
        out["findings"] = [asdict(f) for f in self.findings[:max_findings]]
        out["findings_total"] = len(self.findings)
        return out


def read_records(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """All records of the given JSONL files (missing files are skipped; a torn last line is ignored)."""
    out = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            continue
        for line in p.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def dossier_codes(records: list[dict[str, Any]]) -> list[str]:
    return sorted({r["code"] for r in records if r.get("type") in ("submission", "status") and r.get("code")})


def paid_refs(records: list[dict[str, Any]]) -> list[str]:
    return sorted({r["ref"] for r in records if r.get("type") == "payment" and r.get("outcome") == PAID and r.get("ref")})


def expected_dossiers(records: list[dict[str, Any]], submitted_status: list[str]) -> dict[str, dict[str, Any]]:
    """Per dossier code: the statuses it was seen in (in time order) and the statuses acceptable now."""
    by_code: dict[str, dict[str, Any]] = {}
    for r in sorted((r for r in records if r.get("type") in ("submission", "status") and r.get("code")),
                    key=lambda r: r.get("t", 0)):
        d = by_code.setdefault(r["code"], {"sids": set(), "seen": [], "acceptable": list(submitted_status)})
        if r["type"] == "submission":
            d["sids"].add(r.get("sid") or id(r))
            status = r.get("status")
            # the confirmation page may or may not show the status; an officer may have acted since
            if status and not d["seen"]:
                d["seen"].append(str(status))
                d["acceptable"] = [str(status)]
            elif not d["seen"]:
                d["acceptable"] = list(submitted_status)
        else:
            status = str(r["status"])
            d["seen"].append(status)
            d["acceptable"] = [status]
    return by_code


def reconcile(records: list[dict[str, Any]], portal_dossiers: dict[str, dict[str, Any] | None],
              portal_payments: dict[str, list[dict[str, Any]]], *,
              submitted_status: list[str] = ("1", "2"), ok_code: str = "00") -> Reconciliation:
    """Classify every dossier and successful payment of `records` against the portal's view.

    portal_dossiers: code -> None (not on the portal) or {"status": str, "history": [str...], "copies": int}
    portal_payments: ref -> list of {"amount": int|None, "dossier": str|None, "acks": [MaLoi of the agency's
                     replies to the IPN...], "paid": bool}
    """
    result = Reconciliation()
    for code, exp in sorted(expected_dossiers(records, list(submitted_status)).items()):
        result.checked_dossiers += 1
        if len(exp["sids"]) > 1:
            result.add(Finding("dossier", code, "duplicated",
                               f"the system issued this code for {len(exp['sids'])} different submissions",
                               expected=1, actual=len(exp["sids"])))
            continue
        portal = portal_dossiers.get(code)
        if portal is None:
            result.add(Finding("dossier", code, "lost", "dossier not on the portal", expected=exp["acceptable"]))
            continue
        if int(portal.get("copies") or 1) > 1:
            result.add(Finding("dossier", code, "duplicated", "the portal holds this dossier more than once",
                               expected=1, actual=portal["copies"]))
            continue
        status = None if portal.get("status") is None else str(portal["status"])
        if status in exp["acceptable"]:
            continue
        earlier = exp["seen"][:-1] if exp["seen"] else []
        if status in earlier or (status in submitted_status and exp["seen"] and status not in exp["acceptable"]):
            result.add(Finding("dossier", code, "lost", "a later status update never reached the portal",
                               expected=exp["acceptable"], actual=status))
        else:
            result.add(Finding("dossier", code, "inconsistent", "the portal shows a status the system never reported",
                               expected=exp["acceptable"], actual=status))

    payments: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("type") == "payment" and r.get("outcome") == PAID and r.get("ref"):
            payments.setdefault(r["ref"], []).append(r)
    for ref, seen in sorted(payments.items()):
        result.checked_payments += 1
        codes = {r.get("code") for r in seen}
        if len(seen) > 1 and len(codes) > 1:
            result.add(Finding("payment", ref, "duplicated",
                               f"one payment reference used for {len(codes)} dossiers", expected=1,
                               actual=sorted(c for c in codes if c)))
            continue
        on_portal = [p for p in portal_payments.get(ref, []) if p.get("paid", True)]
        if not on_portal:
            result.add(Finding("payment", ref, "lost", "payment not on the portal"))
            continue
        if len(on_portal) > 1:
            result.add(Finding("payment", ref, "duplicated", "the portal holds more than one paid transaction "
                               "for this reference", expected=1, actual=len(on_portal)))
            continue
        p = on_portal[0]
        acks = [str(a) for a in p.get("acks") or []]
        if ok_code not in acks:
            result.add(Finding("payment", ref, "lost", "the IPN for this payment was never acknowledged "
                               f"'{ok_code}' by the system", expected=ok_code, actual=acks or None))
            continue
        mine = seen[0]
        if mine.get("amount") is not None and p.get("amount") is not None and int(mine["amount"]) != int(p["amount"]):
            result.add(Finding("payment", ref, "inconsistent", "amount differs", expected=mine["amount"],
                               actual=p["amount"]))
        elif mine.get("code") and p.get("dossier") and mine["code"] != p["dossier"]:
            result.add(Finding("payment", ref, "inconsistent", "dossier code differs", expected=mine["code"],
                               actual=p["dossier"]))
    return result


def journeys_per_min(records: list[dict[str, Any]], duration_s: float, kind: str = "citizen") -> float:
    done = sum(1 for r in records if r.get("type") == "journey" and r.get("kind") == kind and r.get("ok"))
    return done * 60.0 / duration_s if duration_s > 0 else 0.0
