"""The citizen pays the fee: the lower-amount callback, the forged callback before the genuine one, the replay."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiemthu.runtime import VN_TZ

from conformance.adapter import FlowOutcome, PageSet
from conformance.journal import forged_exchange

if TYPE_CHECKING:
    from conformance.service import ServiceRun

IPN_NEGATIVE_MODES = ("ipn_bad_checksum", "ipn_lower_amount")


def pay(run: ServiceRun, pages: PageSet, out: FlowOutcome) -> None:
    """Pay the fee. With the payment check selected, first a callback reporting a lower amount (the dossier must
    stay unpaid and the next try must work), then the genuine payment preceded by a forged callback (which must
    be refused)."""
    out.started = datetime.now(VN_TZ)
    pages.current = pages.main
    offered = run.executor.marker("payment_offered", pages, timeout_s=2)
    out.observations["offered"] = bool(offered) if offered is not None else True
    if offered is False:
        out.skipped = "the system offers no online payment"
        out.finished = datetime.now(VN_TZ)
        return
    checking = "payment" in run.checks
    start = pages.main.url  # every attempt begins here (the adapter's start page, or the submission's receipt)
    # like the SSO negatives, the lower amount tests the system's callback handler, not the service: once per run
    shared = run.suite.shared.get("lower_amount")
    if not shared and checking:  # played by another worker process, when it was there first
        shared = run.suite.run_shared.played_elsewhere("lower_amount", run.id, run.suite.sync_s + 2 * run.suite.page_s)
        if shared:
            run.suite.shared["lower_amount"] = shared
    lower = None
    if shared:
        out.observations["negatives"] = [{**shared[1], "note": f"evaluated on {shared[0]}"}]
    elif checking:
        lower = pay_attempt(run, pages, "ipn_lower_amount")
        lower["dossier_code"] = run.dossier_code
        out.observations["negatives"] = [lower]
        run.suite.shared["lower_amount"] = (run.id, lower)
        run.suite.run_shared.publish("lower_amount", {k: v for k, v in lower.items() if k != "error"})
    else:
        out.observations["negatives"] = []
    if lower is not None and (lower.get("shown_paid") or lower.get("portal_paid")):
        # the system took the lower amount as payment: the dossier cannot be paid again, and its flow goes on
        final = {**lower, "mode": None, "returned": lower["flow_ok"], "first_attempt": True,
                 "note": "the dossier was marked paid by the callback reporting a lower amount" if lower.get("forged")
                 else "the lower-amount callback was never sent: the first attempt paid the dossier genuinely"}
    elif lower is not None and not lower["flow_ok"]:
        # the flow stopped at a step: played again, it would stop there again (one failure, told once)
        final = {**lower, "mode": None, "returned": False, "first_attempt": True,
                 "note": f"the payment flow stopped at a step of its first attempt ({lower['error']}): not played again"}
    else:
        back_to_start(run, pages, start)
        final = pay_attempt(run, pages, "ipn_bad_checksum" if checking else None)
        if checking and final["flow_ok"]:
            # replayed at once (before the dossier list is read), so a duplicate sync has had time to show by
            # the time the payment check reads it
            out.observations["replay"] = replay_genuine(run, final)
        final["shown_paid"] = paid_shown(run) if final["flow_ok"] else None
    out.observations["final"] = final
    # every attempt's steps, the lower-amount one first (the timeline and the report tell the whole payment)
    out.steps = ([] if lower is None or final.get("first_attempt") else lower.get("steps", [])) + final.get("steps", [])
    out.ok = final["flow_ok"] and final["returned"]
    out.error = final.get("error")
    out.finished = datetime.now(VN_TZ)


def back_to_start(run: ServiceRun, pages: PageSet, start: str) -> None:
    """The second attempt begins where the first did, whatever page the first one's callbacks left."""
    pages.current = pages.main
    if pages.main.url != start:
        pages.main.goto(start, timeout=run.suite.page_s * 1000)


def pay_attempt(run: ServiceRun, pages: PageSet, mode: str | None) -> dict[str, Any]:
    portal = run.suite.portal
    before = run.suite.sync_journal()
    moment = datetime.now(VN_TZ)
    attempt = FlowOutcome("pay")
    quiet = mode == "ipn_lower_amount"  # its evidence is the return page and the dossier list
    if quiet:
        run.executor.shots = "failures"
    if mode:
        run.suite.progress.step(run.id, f"Thanh toán: thông báo thanh toán giả mạo ({mode})", "payment")
    try:
        # armed for this dossier's payment: a service paying beside it gets its genuine callback
        armed = portal.arm(mode, run.suite.target["portal"].get("payment_partner", {}).get("code"),
                           run.dossier_code) if mode else None
        try:
            run.executor.run_flow("pay", pages, attempt)
        finally:
            if armed and not attempt.ok:
                portal.disarm(armed)  # never reached the callback: the mode may still be armed
    finally:
        run.executor.shots = (run.suite.adapter.get("evidence") or {}).get("screenshots", "steps")
    if attempt.ok:
        base = run.suite.target["system"]["base_url"].rstrip("/")
        try:  # back on the system's own result page, whatever it says
            pages.current.wait_for_url(lambda url: url.startswith(base), timeout=run.suite.page_s * 1000)
        except Exception:
            pass
    # a refused callback leaves no success page to wait for
    success = None if mode == "ipn_lower_amount" else \
        run.executor.marker("payment_succeeded", pages, timeout_s=3.0 if attempt.ok else 0.2)
    landing = landing_screenshot(run, pages, f"return-{mode or 'genuine'}")
    result = {"mode": mode, "flow_ok": attempt.ok, "error": attempt.error, "returned": bool(success),
              "moment": moment, "where": landing, "journal_after": before, "steps": attempt.steps}
    close_popups(run, pages)
    if mode:
        result["deliveries"] = deliveries(run, before)
        # what the portal really sent: a mode switched off before the callback leaves a genuine payment
        result["forged"] = forged_exchange(run.suite.portal.journal(after_id=before, role="ipn"), mode)
    if mode == "ipn_lower_amount":
        result["shown_paid"] = paid_shown(run)
        result["portal_paid"] = portal_paid(run)
    result["journal_until"] = run.suite.sync_journal()
    return result


def replay_genuine(run: ServiceRun, final: dict[str, Any]) -> dict[str, Any] | None:
    for delivered in final.get("deliveries") or []:
        ref = delivered.get("MaThamChieu")
        record = next(iter(run.suite.portal.payments(ref)), None) if ref else None
        replay = replay_ipn(run, record) if record else None
        if replay is not None:
            return {**replay, "ref": ref, "at": time.monotonic()}
    return None


def replay_ipn(run: ServiceRun, payment: dict[str, Any]) -> dict[str, Any] | None:
    """Send the genuine, accepted callback of a payment to the system once more (a replay)."""
    import httpx

    genuine = [a for a in payment.get("ipn_attempts") or [] if a.get("accepted") and not a.get("adversarial")]
    if not genuine:
        return None
    message = {k: v for k, v in (genuine[-1].get("request") or {}).items() if k != "adversarial"}
    url = genuine[-1].get("url") or run.suite.target["portal"]["payment_partner"]["callback_url"]
    before = run.suite.sync_journal()
    try:
        r = httpx.post(url, json=message, timeout=run.suite.page_s)
        reply = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text[:300]
        return {"status": r.status_code, "reply": reply, "journal_after": before}
    except httpx.HTTPError as exc:
        return {"status": None, "reply": None, "error": str(exc), "journal_after": before}


def deliveries(run: ServiceRun, after: int) -> list[dict[str, Any]]:
    refs = {e.get("payment_ref") for e in run.suite.portal.journal(after_id=after, role="payment") if e.get("payment_ref")}
    out = []
    for ref in refs:
        for p in run.suite.portal.payments(ref):
            out.append(p)
    return out


def paid_shown(run: ServiceRun) -> bool | None:
    """Whether the citizen's list shows the dossier as paid (a separate tab, so the receipt stays open)."""
    markers = run.suite.adapter.get("markers") or {}
    if run.citizen is None or not markers.get("paid"):
        return None
    page = run.citizen.context.new_page()
    try:
        probe = PageSet(page)
        name = markers["paid"].get("page")
        if name:
            page.goto(run.vars.expand((run.suite.adapter.get("pages") or {})[name], "adapter.pages"))
        seen = run.executor.first_marker(["paid", "unpaid"], probe, 2.0, ignore_page=True)
        return seen == "paid"
    finally:
        run.suite.evidence.screenshot(page, run.id, "payment", "dossier-list")
        page.close()


def portal_paid(run: ServiceRun) -> bool:
    view = run.suite.portal.dossier(run.dossier_code or "") or {}
    value = (view.get("fields") or {}).get("DuocThanhToanTrucTuyen")
    return str(value).lower() in ("1", "true")


def close_popups(run: ServiceRun, pages: PageSet) -> None:
    for p in list(pages.context.pages):
        if p is not pages.main and not p.is_closed():
            p.close()
    pages.current = pages.main


def landing_screenshot(run: ServiceRun, pages: PageSet, stem: str) -> str | None:
    """The page the citizen landed on after the callbacks; when it is the very image the flow's last step already
    took, that earlier file is the evidence (two identical files would pass for two moments)."""
    evidence = run.suite.evidence
    before = [p for p in evidence.list(run.id, "payment") if p.endswith(".png")]
    shot = evidence.screenshot(pages.current, run.id, "payment", stem)
    if not shot or not before:
        return shot
    new, old = evidence.run_dir / shot, evidence.run_dir / before[-1]
    try:
        same = new.read_bytes() == old.read_bytes()
    except OSError:
        return shot
    if not same:
        return shot
    new.unlink()
    evidence.files[(run.id, "payment")].remove(shot)
    return before[-1]
