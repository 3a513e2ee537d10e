"""Citizen and officer journeys at HTTP level, as a browser would drive them, one named Locust step per request.

Redirects are followed by hand so each hop gets its own step name (and its own p95 in the gate). Pages are
read with loadtest.forms; field names come from the pages themselves and the scenario files, not from code.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urljoin, urlparse

from kiemthu.control import discover
from loadtest.forms import Form, Page, parse_page
from loadtest.recorder import Recorder, new_sid

REDIRECTS = (301, 302, 303, 307, 308)


class JourneyFailed(Exception):
    """A step did not do what the journey needs; the step itself is already marked failed in Locust."""


def check_failed(client, step: str, message: str) -> JourneyFailed:
    """A page lacking what the journey needs: a failed step in Locust's statistics (type CHECK), so a journey
    that cannot complete counts in the error rate even when every HTTP status was fine."""
    client.request_event.fire(request_type="CHECK", name=step, response_time=0, response_length=0,
                              exception=JourneyFailed(message), context={}, response=None, url=None,
                              start_time=time.time())
    return JourneyFailed(message)


class Browser:
    """A thin browser over a Locust FastHttpSession: named steps, manual redirects, page parsing."""

    def __init__(self, client, base_url: str):
        self.client, self.base = client, base_url.rstrip("/")
        self.url = self.base

    def request(self, method: str, url: str, name: str, *, ok=(200,), expect_text: str | None = None,
                **kw: Any):
        url = urljoin(self.url + "/" if self.url == self.base else self.url, url)
        problem = None
        with self.client.request(method, url, name=name, catch_response=True, allow_redirects=False, **kw) as resp:
            status = resp.status_code
            if status not in ok:
                detail = ""
                if status >= 400 and resp.text:
                    # the page title only: stable across users, so Locust groups the failures
                    detail = " — " + parse_page(resp.text).title[:120]
                problem = f"{name}: HTTP {status} (expected {'/'.join(map(str, ok))}){detail}"
            elif expect_text and expect_text not in (resp.text or ""):
                problem = f"{name}: page lacks '{expect_text}'"
            if problem:
                resp.failure(problem)
            else:
                resp.success()
        if problem:
            raise JourneyFailed(problem)
        if status not in REDIRECTS:
            self.url = url
        resp.final_url = url
        return resp

    def location(self, resp) -> str:
        loc = resp.headers.get("location") or resp.headers.get("Location")
        if not loc:
            raise JourneyFailed("redirect without Location")
        return urljoin(resp.final_url, loc)

    def follow(self, resp, names: list[str], *, ok_final=(200,)):
        """Follow redirects from `resp`, naming hop i with names[i] (the last name repeats)."""
        hop = 0
        while resp.status_code in REDIRECTS:
            if hop > 10:
                raise JourneyFailed("too many redirects")
            name = names[min(hop, len(names) - 1)]
            resp = self.request("GET", self.location(resp), name, ok=(*REDIRECTS, *ok_final))
            hop += 1
        return resp


def _status_codes(profile: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, code) of every TrangThaiHoSo, longest names first so 'Đã xử lý xong' wins over 'xử lý'."""
    names = profile.get("dossier_status", {})
    return sorted(((str(n), str(c)) for c, n in names.items()), key=lambda x: -len(x[0]))


def status_after(text: str, label: str, profile: dict[str, Any]) -> str | None:
    """The status code whose name follows `label` in a page's text (e.g. 'Trạng thái Mới đăng ký')."""
    i = text.find(label)
    if i < 0:
        return None
    window = text[i + len(label): i + len(label) + 60].casefold()
    for name, code in _status_codes(profile):
        if window.lstrip(" :").startswith(name.casefold()):
            return code
    return None


def status_named_in(text: str, profile: dict[str, Any]) -> str | None:
    low = text.casefold()
    for name, code in _status_codes(profile):
        if name.casefold() in low:
            return code
    return None


# --- identities --------------------------------------------------------------------------------------------
_identities: list[dict[str, Any]] | None = None
_identities_lock = threading.Lock()


def identities(client, ctx) -> list[dict[str, Any]]:
    """Test identities: those configured, else the mock's list (fetched once per process)."""
    global _identities
    with _identities_lock:
        if _identities is None:
            wanted = ctx.settings.identities
            found: list[dict[str, Any]] = []
            try:
                found = [i for i in mock_identities(client, ctx) if str(i.get("LoaiTaiKhoan", "1")) == "1"]
            except Exception:  # noqa: BLE001 — an external portal has no mock control API
                found = []
            if wanted:
                by_id = {i["TechID"]: i for i in found}
                found = [by_id.get(t, {"TechID": t}) for t in wanted]
            _identities = found
        return _identities


def mock_identities(client, ctx) -> list[dict[str, Any]]:
    """The mock's identities: asked of its control plane when this process holds the access (the master, a local
    run), else, on a worker of a run whose portal is the mock, read from the mock's own identity file."""
    control = discover(ctx.settings.portal_url)
    if control is not None:
        resp = client.request("GET", control.url + "/_mock/identities", name="setup: identities",
                              headers=control.headers())
        return resp.json().get("identities", []) if resp.status_code == 200 else []
    if ctx.settings.portal_mode == "mock":
        from mocks.catalogue import load_identities

        return load_identities()
    return []


def _field_value(field: dict[str, Any], identity: dict[str, Any]) -> str:
    if field.get("from_identity"):
        return str(identity.get(field["from_identity"], "") or field.get("sample", "") or "Thử tải")
    return str(field.get("sample", "") or "Thử tải")


# --- the citizen -------------------------------------------------------------------------------------------
def sso_login(b: Browser, resp, identity: dict[str, Any], acr: str, portal_url: str):
    """From a redirect to the portal's authorize endpoint, through the login page, back to the system."""
    if resp.status_code not in REDIRECTS:
        return resp  # already signed in
    where = b.location(resp)
    if not where.startswith(portal_url):
        raise check_failed(b.client, "open: deep link", f"the system did not send the citizen to the portal's SSO ({urlparse(where).path})")
    page_resp = b.request("GET", where, "sso: authorize", ok=(200, *REDIRECTS))
    page_resp = b.follow(page_resp, ["sso: login page"])
    page = parse_page(page_resp.text)
    form = page.form_with("techid")
    if form is None:
        raise check_failed(b.client, "sso: login page", "no login form with a techid field on the portal page")
    data = form.defaults()
    data["techid"] = identity["TechID"]
    if form.named("acr"):
        data["acr"] = acr
    back = b.request(form.method, form.url(page_resp.final_url), "sso: login", ok=REDIRECTS, data=data)
    where = b.location(back)
    if where.startswith(portal_url):  # a consent or step-up page of the portal: follow it as the browser would
        back = b.follow(back, ["sso: portal redirect"], ok_final=REDIRECTS)
    cb = b.request("GET", b.location(back), "sso: callback", ok=(*REDIRECTS, 200))
    return cb


def citizen_journey(user, ctx, recorder: Recorder) -> None:
    """SSO → open the service (deep link) → step 1 → step 2 with files → receipt → pay (INIT, portal page, IPN)."""
    t0 = time.time()
    kind_ok = False
    interrupted = True  # stays True only if the journey was cut short (the run stopped mid-journey)
    svc = random.choice(ctx.services)
    sc = svc.scenario
    try:
        acr = sc.get("acr", "LoA2")
        # only accounts that can reach the service's assurance level: step-up refusals are not load
        people = [p for p in identities(user.client, ctx) if not p.get("loAs") or acr in p["loAs"]]
        if not people:
            raise JourneyFailed(f"no test identity able to log in at {acr} "
                                "(configure load.journeys.citizen.identities)")
        identity = random.choice(people)
        user.client.cookiejar.clear()  # each journey is a fresh citizen visit: full SSO every time
        b = Browser(user.client, ctx.settings.system_url)
        query = urlencode({"MaTTHCDP": sc.get("MaTTHCDP", ""), "MaCoQuanThucHien": ctx.agency_code,
                           "vnconnect": "1", "MaDVC": sc["MaDVC"]})
        resp = b.request("GET", f"/dvc/nop-ho-so?{query}", "open: deep link", ok=(200, *REDIRECTS))
        resp = sso_login(b, resp, identity, acr, ctx.settings.portal_url)
        resp = b.follow(resp, ["open: service"])
        page = parse_page(resp.text)

        # step 1: the applicant's fields (prefilled ones kept, the rest from the scenario's samples)
        form = _wizard_form(b.client, page, [f["name"] for f in sc.get("fields", [])])
        data = form.defaults()
        for f in sc.get("fields", []):
            if form.named(f["name"]) and not data.get(f["name"]):
                data[f["name"]] = _field_value(f, identity)
        resp = b.request(form.method, form.url(b.url), "submit: step 1", ok=(200, *REDIRECTS), data=data)
        resp = b.follow(resp, ["submit: step 2 page"])
        page = parse_page(resp.text)

        # step 2: one file per document input, consent boxes ticked
        form = next((f for f in page.forms if f.file_fields()), None)
        if form is None:
            raise check_failed(b.client, "submit: step 2 page", "no document upload form after step 1")
        data = form.defaults()
        for fld in form.fields:
            if fld.type == "checkbox" and fld.name and not fld.name.startswith("khodl"):
                data[fld.name] = fld.value or "on"
        files = {}
        for fld in form.file_fields():
            ma = next((m for m in svc.files if m in fld.name or m == fld.id.removeprefix("tp-")), None)
            name, content = svc.files[ma] if ma else next(iter(svc.files.values()), ("to-khai.pdf", b"%PDF-1.4\n"))
            files[fld.name] = (name, content, "application/pdf")
        resp = b.request(form.method, form.url(b.url), "submit: step 2", ok=(200, *REDIRECTS), data=data, files=files)
        resp = b.follow(resp, ["submit: receipt"])
        page = parse_page(resp.text)
        m = ctx.code_rx.search(page.text)
        if not m:
            raise check_failed(b.client, "submit: receipt", "the receipt shows no dossier code")
        code = m.group(0)
        SUBMITTED.add(code)
        recorder.add({"type": "submission", "sid": new_sid(), "code": code, "service": svc.id,
                      "status": status_after(page.text, "Trạng thái", ctx.profile)})

        if ctx.settings.pay and svc.pays_online:
            pay(b, page, code, svc, ctx, recorder)
        kind_ok, interrupted = True, False
    except JourneyFailed:
        interrupted = False
    finally:
        recorder.add({"type": "journey", "kind": "citizen", "ok": kind_ok, "service": svc.id,
                      "duration_s": round(time.time() - t0, 3), **({"interrupted": True} if interrupted else {})})


def _wizard_form(client, page: Page, field_names: list[str]) -> Form:
    for f in page.forms:
        if any(f.named(n) for n in field_names):
            return f
    posts = [f for f in page.forms if f.method == "POST"]
    if not posts:
        raise check_failed(client, "open: service", "the service page has no form")
    return posts[0]


def pay(b: Browser, receipt: Page, code: str, svc, ctx, recorder: Recorder) -> None:
    link = next((l for l in receipt.links if code in l.href and ("thanh-toan" in l.href or "pay" in l.href)), None) \
        or receipt.link_matching(r"(?i)thanh toán|thanh-toan|payment")
    if link is None:
        raise check_failed(b.client, "pay: init", "the receipt offers no online payment for a fee-charging service")
    resp = b.request("GET", link.href, "pay: init", ok=REDIRECTS)
    where = b.location(resp)
    if not where.startswith(ctx.settings.portal_url):
        raise check_failed(b.client, "pay: init", "INIT did not send the citizen to the portal's payment page")
    page_resp = b.request("GET", where, "pay: portal page", ok=(200,))
    page = parse_page(page_resp.text)
    form = page.form_with("outcome") or next((f for f in page.forms if f.method == "POST"), None)
    if form is None:
        raise check_failed(b.client, "pay: portal page", "the portal payment page has no form")
    data = form.defaults()
    choice = form.radio_by_label("outcome", ctx.settings.payment_outcome)
    if choice is not None:
        data["outcome"] = choice.value
    outcome = "success" if ctx.settings.payment_outcome.casefold() in ("thành công", "success") else data.get("outcome")
    back = b.request(form.method, form.url(page_resp.final_url), "pay: confirm", ok=REDIRECTS, data=data)
    ret = b.location(back)
    q = {k: v[-1] for k, v in parse_qs(urlparse(ret).query).items()}
    ref = q.get("MaThamChieu")
    paid = q.get("MaLoi") == str(ctx.profile.get("payment", {}).get("ok_code", "00"))
    amount = q.get("SoTien")
    recorder.add({"type": "payment", "ref": ref, "code": code, "service": svc.id,
                  "amount": int(amount) if amount and amount.isdigit() else svc.fee,
                  "outcome": "success" if paid else (outcome or "failed")})
    b.request("GET", ret, "pay: return", ok=(200,))


# --- the officer -------------------------------------------------------------------------------------------
# dossiers the citizens of this process submitted: officers only touch those, never data the run did not create
SUBMITTED: set[str] = set()
_claimed: set[str] = set()
_claimed_lock = threading.Lock()


def officer_journey(user, ctx, recorder: Recorder) -> None:
    """Log in to the back office, open the list, press the next action of one dossier, read the new status."""
    t0 = time.time()
    ok = False
    interrupted = True
    bo = ctx.settings.back_office
    code = None
    try:
        b = Browser(user.client, ctx.settings.system_url)
        if not getattr(user, "officer_logged_in", False):
            user.client.cookiejar.clear()
            page_resp = b.request("GET", bo["login_path"], "officer: login page")
            form = parse_page(page_resp.text).form_with(bo["username_field"], bo["password_field"])
            if form is None:
                raise check_failed(b.client, "officer: login page", "no login form with the configured fields")
            data = form.defaults()
            data[bo["username_field"]] = bo["username"]
            data[bo["password_field"]] = ctx.officer_password() or ""
            resp = b.request(form.method, form.url(b.url), "officer: login", ok=REDIRECTS, data=data)
            if urlparse(b.location(resp)).path == urlparse(form.url(b.url)).path:
                raise check_failed(b.client, "officer: login", "login refused (back to the login page)")
            user.officer_logged_in = True
        resp = b.request("GET", bo["list_path"], "officer: list", ok=(200, *REDIRECTS))
        if resp.status_code in REDIRECTS:
            user.officer_logged_in = False  # session ended: log in again next time
            raise check_failed(b.client, "officer: list", "the list sent the officer to log in again")
        page = parse_page(resp.text)
        candidates = []
        wanted = [a.casefold() for a in bo.get("actions") or []]
        for form in page.forms:
            if form.method != "POST":
                continue
            m = ctx.code_rx.search(unquote_plus(form.action)) or ctx.code_rx.search(" ".join(form.hidden().values()))
            if not m:
                continue
            if bo.get("only_own_dossiers", True) and m.group(0) not in SUBMITTED:
                continue
            label = " ".join(x.label for x in form.buttons()).strip()
            if wanted and label.casefold() not in wanted:
                continue
            candidates.append((m.group(0), form, label))
        random.shuffle(candidates)
        with _claimed_lock:
            # two officers of this process never act on the same dossier at once
            pick = next(((c, f, l) for c, f, l in candidates if c not in _claimed), None)
            if pick:
                _claimed.add(pick[0])
        if pick is None:
            ok, interrupted = True, False  # nothing to do is not a failure
            return
        code, form, label = pick
        resp = b.request(form.method, form.url(b.url), "officer: action", ok=(200, *REDIRECTS), data=form.defaults())
        text = unquote_plus(b.location(resp)) if resp.status_code in REDIRECTS else parse_page(resp.text).text
        done = b.follow(resp, ["officer: list after action"]) if resp.status_code in REDIRECTS else resp
        after = parse_page(done.text).text
        status = None
        for source in (text, after):
            i = source.find(code)
            if i >= 0:
                status = status_named_in(source[i + len(code): i + len(code) + 80], ctx.profile)
                if status:
                    break
        if status and "loi=" not in text.replace(" ", ""):
            recorder.add({"type": "status", "code": code, "status": status, "action": label})
            ok = True
        else:
            ok = True  # the action was refused (someone else moved the dossier first): nothing changed
        interrupted = False
    except JourneyFailed:
        interrupted = False
    finally:
        if code:
            with _claimed_lock:
                _claimed.discard(code)
        recorder.add({"type": "journey", "kind": "officer", "ok": ok, "duration_s": round(time.time() - t0, 3),
                      **({"interrupted": True} if interrupted else {})})
