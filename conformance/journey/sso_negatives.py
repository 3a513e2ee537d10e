"""The SSO negative cases: each adversarial login from a fresh session must leave the citizen logged out."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from kiemthu.logs import get_logger

from conformance.adapter import FlowOutcome, PageSet
from conformance.journey.sso import marker_text, markers
from conformance.journal import forged_exchange, logins_of
from conformance.portal import PortalClient
from conformance.rules.variants import variant_names

if TYPE_CHECKING:
    from conformance.service import ServiceRun

log = get_logger("conformance")

SSO_MODES = tuple(variant_names("ensure_login_refused"))  # conformance/rules/variants.yaml


def sso_negatives(run: ServiceRun) -> dict[str, dict[str, Any]]:
    """Each adversarial login case from a fresh session: the citizen must not end up logged in.

    They test the system's SSO client, not a service, so they run once per run (on the first service) and the
    other services' SSO checks reuse the outcome. The HTTP probes start in the background as soon as the first
    citizen login succeeded; each case is armed for that citizen only and played holding the citizen's login lock,
    so services logging in beside it (as other citizens) get genuine exchanges. A case the HTTP probe cannot post
    is played in the browser here.
    """
    suite = run.suite
    if "sso_negatives" in suite.shared:
        first, results = suite.shared["sso_negatives"]
        return {m: {**r, "journal": [], "note": f"evaluated on {first}"} for m, r in results.items()}
    if suite.negatives_thread is None:
        elsewhere = suite.run_shared.played_elsewhere("sso_negatives", run.id, suite.page_s * (len(SSO_MODES) + 1))
        if elsewhere is not None:  # another worker process ran them (once per run)
            suite.shared["sso_negatives"] = elsewhere
            owner, published = elsewhere
            return {m: {**r, "journal": [], "note": f"evaluated on {owner}"} for m, r in published.items()}
        start_sso_negatives(run)
    suite.negatives_thread.join(suite.page_s * len(SSO_MODES))
    results: dict[str, dict[str, Any]] = dict(suite.negatives_http)
    for mode in SSO_MODES:
        if results.get(mode, {}).get("needs_browser"):
            portal, citizen = suite.portal, run.identity["TechID"]
            with run.login_lock:
                before = portal.journal(role="sso", after_id=suite.journal_cursor)
                cursor = max((int(e["id"]) for e in before), default=suite.journal_cursor)
                armed = portal.arm(mode, citizen=citizen)
                try:
                    seen = _probe_browser(run, mode)
                finally:
                    portal.disarm(armed)
                seen["journal"] = logins_of(portal.journal(after_id=cursor, role="sso"), citizen)
            seen["forged"] = forged_exchange(seen["journal"], mode)
            results[mode] = seen
    log.debug("SSO negatives done")
    suite.shared["sso_negatives"] = (run.id, {m: {k: v for k, v in r.items() if k != "journal"} for m, r in results.items()})
    suite.run_shared.publish("sso_negatives", suite.shared["sso_negatives"][1])
    return results


def start_sso_negatives(run: ServiceRun) -> None:
    """The HTTP probes of the SSO negatives, in a thread with its own portal client."""
    suite = run.suite
    if suite.negatives_thread is not None:
        return
    suite.negatives_thread = threading.Thread(target=_sso_probes, args=(run,), name="sso-negatives", daemon=True)
    suite.negatives_thread.start()


def _sso_probes(run: ServiceRun) -> None:
    from conformance.sso_probe import ProbeUnsupported

    suite = run.suite
    portal = PortalClient(suite.target["portal"]["base_url"])
    started, waited = time.monotonic(), 0.0
    try:
        try:
            available = set(portal.adversarial_modes())
        except Exception:
            available = set()
        logged_in_text = marker_text(run, "logged_in")
        deep_link = (suite.adapter.get("pages") or {}).get("deep_link")
        deep_link = run.vars.expand(deep_link, "adapter.pages.deep_link") if deep_link else None
        cursor = max((int(e["id"]) for e in portal.journal(role="sso")), default=0)
        for mode in SSO_MODES:
            if available and mode not in available:
                suite.negatives_http[mode] = {"not_served": f"the portal does not offer the adversarial mode '{mode}'"}
                continue
            if not (deep_link and logged_in_text):
                suite.negatives_http[mode] = {"needs_browser": True}
                continue
            suite.progress.step(run.id, f"SSO: đăng nhập với thông điệp giả mạo ({mode})", "sso")
            t = time.monotonic()
            with run.login_lock:  # armed for this citizen: services logging in as others get genuine exchanges
                waited += time.monotonic() - t
                # from here on: the round trips of this citizen while the lock is held are the probe's own
                cursor = max((int(e["id"]) for e in portal.journal(role="sso", after_id=cursor)), default=cursor)
                armed = portal.arm(mode, citizen=run.identity["TechID"])
                try:
                    seen = _probe_http(run, deep_link, logged_in_text, mode)
                except ProbeUnsupported:
                    seen = {"needs_browser": True}
                except Exception as exc:  # the system did not answer: that is not a refusal we can vouch for
                    seen = {"logged_in": None, "landing": f"{type(exc).__name__}: {exc}", "via": "http"}
                finally:
                    portal.disarm(armed)
                entries = portal.journal(role="sso", after_id=cursor)  # before the citizen's next login
            cursor = max((int(e["id"]) for e in entries), default=cursor)
            seen["journal"] = entries = logins_of(entries, run.identity["TechID"])
            seen["forged"] = forged_exchange(entries, mode)
            suite.negatives_http[mode] = seen
    finally:
        portal.close()
        log.debug("SSO probes over HTTP took %.1fs (%.1fs waiting for the portal's adversarial switch)",
                  time.monotonic() - started, waited)


def _probe_http(run: ServiceRun, deep_link: str, logged_in_text: str, mode: str) -> dict[str, Any]:
    from conformance.sso_probe import attempt_login

    got = attempt_login(deep_link, run.identity["TechID"], run.scenario.get("acr"), timeout=run.suite.page_s)
    # only the landing page counts: a later visit would ride the portal's own (valid) session
    got["client"].close()
    logged_in = logged_in_text in got["text"]
    where = run.suite.evidence.write_text(run.id, "sso", f"refused-{mode}.html", got["html"])
    return {"logged_in": logged_in, "landing": f"HTTP {got['status']} {got['url']}: {got['text'][:160]}",
            "where": where, "via": "http"}


def _probe_browser(run: ServiceRun, mode: str) -> dict[str, Any]:
    suite = run.suite
    ctx = suite.new_context()
    try:
        pages = PageSet(ctx.new_page())
        attempt = FlowOutcome("citizen_login")
        run.executor.run_flow("citizen_login", pages, attempt)
        seen = markers(run, pages, suite.page_s if attempt.ok else 1.0)
        seen["where"] = suite.evidence.screenshot(pages.current, run.id, "sso", f"refused-{mode}")
        seen["via"] = "browser"
        return seen
    finally:
        ctx.close()
