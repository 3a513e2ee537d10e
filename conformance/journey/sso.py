"""The citizen's SSO journey: login from the portal, opening the service, logout."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import parse_qsl, urlsplit

from kiemthu.runtime import VN_TZ

from conformance.adapter import FlowOutcome, PageSet
from conformance.journal import authorize_key

if TYPE_CHECKING:
    from conformance.service import ServiceRun


def markers(run: ServiceRun, pages: PageSet, timeout: float) -> dict[str, Any]:
    landing = run.executor.first_marker(["logged_in", "login_failed"], pages, timeout)
    return {"logged_in": landing == "logged_in", "refused_page": landing == "login_failed",
            "landing": pages.current.url if landing is None else landing}


def citizen_login(run: ServiceRun, pages: PageSet, out: FlowOutcome) -> None:
    base = run.suite.target["system"]["base_url"].rstrip("/")
    set_cookies: list[str] = []

    def collect(response) -> None:  # the system's own cookies (the portal may share its host)
        if response.url.startswith(base):
            set_cookies.extend(h["value"] for h in response.headers_array() if h["name"].lower() == "set-cookie")

    pages.context.on("response", collect)
    try:
        run.executor.run_flow("citizen_login", pages, out)
    finally:
        pages.context.remove_listener("response", collect)
    out.observations["set_cookies"] = set_cookies
    seen = markers(run, pages, run.suite.page_s if out.ok else 2)
    seen["where"] = run.suite.evidence.screenshot(pages.current, run.id, "sso", "citizen_login-landing")
    out.observations.update(seen)
    if out.ok and not seen["logged_in"]:
        from conformance.adapter import StepFailed

        out.ok = False
        out.error = StepFailed("citizen_login", "landing", "the logged-in marker after the portal login",
                               f"not logged in; landed on {seen['landing']}", seen["where"])


def open_service(run: ServiceRun, pages: PageSet, out: FlowOutcome) -> None:
    if run.executor.has_flow("open_service"):
        run.executor.run_flow("open_service", pages, out)
    else:
        out.ok = True
        out.started = out.finished = datetime.now(VN_TZ)
    landed = run.executor.marker("service_form", pages, timeout_s=2 if out.ok else 0.5)
    out.observations["landed_on_service"] = bool(landed) if landed is not None else out.ok


def logout(run: ServiceRun, pages: PageSet, out: FlowOutcome) -> None:
    pages.current = pages.main
    run.executor.run_flow("logout", pages, out)
    if out.ok:
        check = pages.context.new_page()
        try:
            url = run.vars.expand((run.suite.adapter.get("pages") or {}).get("my_dossiers", "{system.base_url}/"))
            check.goto(url)
            probe = PageSet(check)
            # a page may render late: wait for a sign either way (only the logged-in one without a logged_out marker)
            seen = run.executor.first_marker(["logged_in", "logged_out"], probe, 1.5)
            out.observations["logged_in_after_logout"] = seen == "logged_in"
            out.observations["where"] = run.suite.evidence.screenshot(check, run.id, "sso", "after-logout")
        finally:
            check.close()


def marker_text(run: ServiceRun, name: str) -> str | None:
    spec = (run.suite.adapter.get("markers") or {}).get(name) or {}
    text = spec.get("text") or spec.get("name")
    return run.vars.expand(text, f"adapter.markers.{name}") if text else None


@contextlib.contextmanager
def authorize_sent(run: ServiceRun, pages: PageSet, out: FlowOutcome) -> Iterator[None]:
    """Note the state and nonce of each authorize request the citizen's browser sends during the flow: the SSO check
    tells its own round trips from those of services logging in beside it by them (`journal.logins_of`)."""
    path = run.suite.profile["sso"]["paths"]["authorize"].rstrip("/")
    sent = out.observations.setdefault("authorize_sent", [])

    def seen(request) -> None:
        parts = urlsplit(request.url)
        if parts.path.rstrip("/") == path:
            sent.append(list(authorize_key(dict(parse_qsl(parts.query)))))

    pages.context.on("request", seen)
    try:
        yield
    finally:
        pages.context.remove_listener("request", seen)
