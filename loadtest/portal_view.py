"""Reading the portal's side after a run (over HTTP): the system's outbox, then dossiers and payments as the
mock portal holds them. Every wait has a deadline."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from kiemthu.control import ControlAccess
from kiemthu.runtime import DeadlineExceeded, wait_until


# --- the system's outbox ---------------------------------------------------------------------------------
def outbox_pending(data: Any) -> int | None:
    """Messages still waiting in an outbox document: `pending` at the top or under `counts`, else items with
    status pending/retry. None when the document says nothing about it."""
    if isinstance(data, dict):
        for holder in (data, data.get("counts") or {}, data.get("summary") or {}):
            if isinstance(holder, dict) and isinstance(holder.get("pending"), int):
                return holder["pending"]
        items = data.get("items") or data.get("messages")
        if isinstance(items, list):
            return sum(1 for i in items if isinstance(i, dict) and i.get("status") in ("pending", "retry"))
    if isinstance(data, list):
        return sum(1 for i in data if isinstance(i, dict) and i.get("status") in ("pending", "retry"))
    return None


def outbox_counts(data: Any) -> dict[str, int]:
    if isinstance(data, dict):
        counts = data.get("counts")
        if isinstance(counts, dict):
            return {k: v for k, v in counts.items() if isinstance(v, int)}
        return {k: v for k, v in data.items() if isinstance(v, int)}
    return {}


def wait_outbox_drained(url: str, timeout: float, *, auth: tuple[str, str] | None = None) -> dict[str, Any]:
    """Poll the outbox until nothing is pending or the deadline passes. Returns what happened."""
    started = time.monotonic()
    last: dict[str, Any] = {}

    def drained() -> bool:
        resp = httpx.get(url, timeout=5.0, auth=auth)
        if resp.status_code == 404:
            last["missing"] = True
            return True
        resp.raise_for_status()
        data = resp.json()
        last["counts"] = outbox_counts(data)
        last["pending"] = outbox_pending(data)
        return last["pending"] in (0, None)

    try:
        wait_until(drained, timeout, interval=0.25, what=f"outbox {url} drained")
        ok = not last.get("missing")
        note = "outbox not found (404): nothing to wait for" if last.get("missing") else "drained"
    except DeadlineExceeded as exc:
        ok, note = False, str(exc)
    return {"url": url, "drained": ok, "waited_s": round(time.monotonic() - started, 2),
            "pending": last.get("pending"), "counts": last.get("counts", {}), "note": note}


# --- the mock's view of dossiers and payments ------------------------------------------------------------
def normalise_dossier(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The mock's `/_mock/dossiers/{code}` answer as {status, history, copies} for reconcile()."""
    if data is None:
        return None
    d = data.get("dossier", data)
    fields = d.get("fields") or d.get("data") or {}
    status = d.get("status") or d.get("TrangThaiHoSo") or fields.get("TrangThaiHoSo")
    history = [str(h.get("status") if isinstance(h, dict) else h) for h in (d.get("status_history") or d.get("history") or [])]
    if status is None and history:
        status = history[-1]
    copies = d.get("copies") or d.get("create_count") or 1
    return {"status": None if status is None else str(status), "history": history, "copies": copies}


def normalise_payments(data: Any, ok_code: str = "00") -> list[dict[str, Any]]:
    """The mock's `/_mock/payments?ref=` answer as [{amount, dossier, acks, paid}] for reconcile().

    An IPN attempt counts as acknowledged when the mock says it was accepted (2xx and MaLoi ok); attempts the
    mock forged on purpose (adversarial modes) are left out."""
    items = data.get("payments", []) if isinstance(data, dict) else (data or [])
    out = []
    for p in items:
        acks = []
        for dlv in p.get("ipn_attempts") or p.get("ipn_deliveries") or []:
            if dlv.get("adversarial"):
                continue
            reply = dlv.get("reply") if isinstance(dlv.get("reply"), dict) else {}
            if "accepted" in dlv:
                acks.append(ok_code if dlv["accepted"] else str(reply.get("MaLoi", dlv.get("status_code") or "none")))
            elif reply.get("MaLoi") is not None:
                acks.append(str(reply["MaLoi"]))
        ma_loi = p.get("MaLoi")
        status = str(p.get("TrangThaiGD") or p.get("status") or "")
        paid = str(ma_loi) == ok_code if ma_loi not in (None, "") else status.lower() in ("paid", "success", "1")
        out.append({"amount": p.get("SoTien", p.get("amount")), "dossier": p.get("MaHoSo", p.get("dossier_code")),
                    "acks": acks, "paid": paid, "raw_status": status})
    return out


def fetch_portal_view(control: ControlAccess | None, codes: list[str], refs: list[str], *, timeout: float = 120.0,
                      workers: int = 8, ok_code: str = "00") -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Dossiers and payments as the portal holds them, read on the mock's control plane. Look-ups that fail are
    reported, not guessed."""
    if control is None:
        return {}, {}, ["no control access to the mock portal: its view of dossiers and payments cannot be read"]
    deadline = time.monotonic() + timeout
    errors: list[str] = []
    client = control.client(timeout=10.0, limits=httpx.Limits(max_connections=workers))

    def dossier(code: str):
        if time.monotonic() > deadline:
            errors.append(f"dossier {code}: look-up deadline passed")
            return code, "error"
        try:
            r = client.get(f"/_mock/dossiers/{code}")
            if r.status_code == 404:
                return code, None
            r.raise_for_status()
            return code, normalise_dossier(r.json())
        except (httpx.HTTPError, ValueError) as exc:
            errors.append(f"dossier {code}: {type(exc).__name__}: {exc}")
            return code, "error"

    def payment(ref: str):
        if time.monotonic() > deadline:
            errors.append(f"payment {ref}: look-up deadline passed")
            return ref, "error"
        try:
            r = client.get("/_mock/payments", params={"ref": ref})
            if r.status_code == 404:
                return ref, []
            r.raise_for_status()
            return ref, normalise_payments(r.json(), ok_code)
        except (httpx.HTTPError, ValueError) as exc:
            errors.append(f"payment {ref}: {type(exc).__name__}: {exc}")
            return ref, "error"

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            dossiers = dict(pool.map(dossier, codes))
            payments = dict(pool.map(payment, refs))
    finally:
        client.close()
    dossiers = {k: v for k, v in dossiers.items() if v != "error"}
    payments = {k: v for k, v in payments.items() if v != "error"}
    return dossiers, payments, errors
