"""Playwright traces are scrubbed of every credential the browser exchanged and still open in the trace viewer:
"Secrets (client secrets, payment keys, tokens, passwords, cookies) never appear in logs, reports or evidence."

A real Chromium is traced through a small login served on loopback: the portal's login form with a hidden session
key and a cookie, the redirect back with an authorization code, the system's session cookie, and a logout link
carrying a signed ID token. The recorded trace holds all of them; after `scrub_zip` none is left in any member,
while the cookie names, the `state` and the page text remain, and Playwright's own trace viewer still lists the
actions and the network requests."""

from __future__ import annotations

import functools
import http.server
import json
import secrets
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import playwright
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from conformance.evidence import scrub_zip
from kiemthu.runtime import CHROMIUM_ARGS, chromium_path, wait_until

pytestmark = [pytest.mark.browser]
VIEWER = Path(playwright.__file__).parent / "driver" / "package" / "lib" / "vite" / "traceViewer"


def issued_values() -> dict[str, str]:
    key = RSAKey.generate_key(2048)
    id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, {"sub": "citizen-1", "aud": "motcua", "iat": int(time.time())}, key)
    return {"session_key": secrets.token_urlsafe(16), "portal_cookie": secrets.token_urlsafe(24),
            "code": secrets.token_urlsafe(32), "session_cookie": secrets.token_urlsafe(32), "id_token": id_token,
            "typed_password": "Mat-khau-" + secrets.token_hex(6)}


class LoginSite(http.server.BaseHTTPRequestHandler):
    """Portal login → redirect with a code → the system's session → a logout link with id_token_hint."""

    values: dict[str, str] = {}

    def log_message(self, *args):
        pass

    def page(self, body: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
        raw = f"<!doctype html><html><body>{body}</body></html>".encode()
        self.send_response(status)
        for k, v in {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(raw)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def redirect(self, location: str, cookie: str | None = None) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        v, url = self.values, urlsplit(self.path)
        if url.path == "/login":
            self.page(f'<h1>Đăng nhập</h1><form method="post" action="/login">'
                      f'<input type="hidden" name="sessionDataKey" value="{v["session_key"]}">'
                      f'<input type="password" name="password" aria-label="Mật khẩu">'
                      f'<button>Đăng nhập</button></form>',
                      headers={"Set-Cookie": f"commonAuthId={v['portal_cookie']}; HttpOnly; Path=/"})
        elif url.path == "/callback":
            query = parse_qs(url.query)
            assert query["code"] == [v["code"]]
            self.redirect("/home", f"phien={v['session_cookie']}; HttpOnly; Path=/")
        elif url.path == "/home":
            self.page(f'<p>Xin chào, An</p><a href="/logout?id_token_hint={v["id_token"]}&amp;state=keep-this-state">'
                      f'Đăng xuất</a>')
        else:
            self.page("<p>Đã đăng xuất</p>")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        assert form["sessionDataKey"] == [self.values["session_key"]]
        self.redirect(f"/callback?code={self.values['code']}&state=keep-this-state")


@pytest.fixture
def site():
    values = issued_values()
    handler = type("Site", (LoginSite,), {"values": values})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", values
    server.shutdown()
    server.server_close()


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS)
        yield b
        b.close()


def record_login(browser, base: str, path: Path, password: str) -> None:
    ctx = browser.new_context()
    ctx.tracing.start(snapshots=True, screenshots=False, sources=False)
    page = ctx.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Mật khẩu").fill(password)  # never registered: masked because the field is a password
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_text("Xin chào, An").wait_for()
    page.get_by_role("link", name="Đăng xuất").click()
    page.get_by_text("Đã đăng xuất").wait_for()
    ctx.tracing.stop(path=str(path))
    ctx.close()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def holding(path: Path, values: dict[str, str]) -> set[str]:
    blobs = members(path).values()
    return {name for name, v in values.items() if any(v.encode() in b for b in blobs)}


def test_a_recorded_login_trace_loses_every_credential_and_keeps_its_shape(tmp_path, site, chromium):
    base, values = site
    trace = tmp_path / "trace.zip"
    record_login(chromium, base, trace, values["typed_password"])
    issued = values
    assert holding(trace, issued) == set(issued)  # the browser did see every one of them
    before = members(trace)

    assert scrub_zip(trace, []) > 0
    after = members(trace)
    assert holding(trace, issued) == set()
    assert list(after) == list(before)  # same members, same order: resources are still found by name
    text = b"".join(after.values())
    assert b"commonAuthId=***" in text and b"phien=***" in text and b"keep-this-state" in text
    assert "Xin chào, An".encode() in text
    for name in ("trace.trace", "trace.network"):
        for line in after[name].decode("utf-8").splitlines():
            json.loads(line)


def test_a_trace_without_credentials_is_left_as_it_is(tmp_path):
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as z:
        z.writestr("trace.trace", '{"type":"before","params":{"url":"http://sut/dvc?MaDVC=2.001417.01"}}\n')
        z.writestr("resources/a.png", b"\x89PNG\r\n\x1a\n")
    before = trace.read_bytes()
    assert scrub_zip(trace, []) == 0 and trace.read_bytes() == before


class Viewer(http.server.SimpleHTTPRequestHandler):
    trace: bytes = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/trace.zip"):
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(self.trace)))
            self.end_headers()
            self.wfile.write(self.trace)
        else:
            super().do_GET()


def test_the_scrubbed_trace_opens_in_the_playwright_trace_viewer(tmp_path, site, chromium):
    base, values = site
    trace = tmp_path / "trace.zip"
    record_login(chromium, base, trace, values["typed_password"])
    scrub_zip(trace, [])
    assert VIEWER.joinpath("index.html").is_file(), "Playwright's trace viewer is not installed"
    handler = functools.partial(type("V", (Viewer,), {"trace": trace.read_bytes()}), directory=str(VIEWER))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        page = chromium.new_page()
        page.goto(f"{origin}/index.html?trace={origin}/trace.zip")
        page.locator(".action-title").first.wait_for(timeout=20_000)
        titles = page.locator(".action-title").all_inner_texts()
        assert any(t.startswith("Navigate") for t in titles) and any(t.startswith("Click") for t in titles), titles
        page.get_by_role("tab", name="Network").click()
        wait_until(lambda: "callback?code=***" in page.locator("body").inner_text(), 10, interval=0.1,
                   what="the network list of the trace viewer")
        shown = page.locator("body").inner_text()
        assert values["code"] not in shown and "logout?id_token_hint=***" in shown
        page.close()
    finally:
        server.shutdown()
        server.server_close()
