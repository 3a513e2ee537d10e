"""Security of the control room: every page and action needs a session, every POST its CSRF token, account and
target management needs an administrator, and the login keeps no secret in a page or cookie."""

from __future__ import annotations

import re
from contextlib import closing

import pytest

from tests.controlroom.room import PASSWORDS, csrf_of, start_room

OPEN_PATHS = {"/suc-khoe", "/dang-nhap", "/ngon-ngu/{lang}", "/tinh"}


@pytest.fixture(scope="module")
def room(tmp_path_factory, signing_key_path):
    r = start_room(tmp_path_factory.mktemp("room-security"), signing_key_path)
    yield r
    r.stop()


def app_routes() -> list[tuple[str, str]]:
    """Every (method, path) the application answers, path parameters filled with a sample value."""
    from controlroom.app import create_app

    class NoEngine:  # only the routes are read: nothing is started
        pass

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="kt-routes-") as folder:
        app = create_app(Path(folder) / "r.sqlite", Path(folder) / "runs", manager=NoEngine())
        out = []
        for route in app.routes:
            path = getattr(route, "path", "")
            if path in OPEN_PATHS or not getattr(route, "methods", None):
                continue
            sample = re.sub(r"\{[^}:]+(:path)?\}", "x1", path)
            out += [(m, sample) for m in route.methods if m in ("GET", "POST")]
    return sorted(out)


ROUTES = app_routes()


def test_routes_found():
    """The list the other tests walk is the application's own (pages and actions alike)."""
    assert ("GET", "/") in ROUTES and ("POST", "/chien-dich/x1/chay") in ROUTES
    assert len([r for r in ROUTES if r[0] == "POST"]) >= 10


@pytest.mark.parametrize("method,path", ROUTES)
def test_anonymous_refused(room, method, path):
    """Without a session a page sends the browser to the login page and an action is refused (401)."""
    with room.client() as c:
        r = c.request(method, path, data={"csrf": "x"} if method == "POST" else None)
    if method == "GET":
        assert r.status_code == 303 and r.headers["location"].startswith("/dang-nhap"), (path, r.status_code)
    else:
        assert r.status_code == 401, (path, r.status_code)
    assert "Đợt kiểm thử" not in r.text


@pytest.mark.parametrize("path", [p for m, p in ROUTES if m == "POST"])
def test_post_without_csrf_refused(room, path):
    """A signed-in administrator's POST without the session's CSRF token (or with another one) is refused."""
    c, token = room.login("admin")
    with closing(c):
        assert c.post(path, data={"name": "x"}).status_code == 403
        assert c.post(path, data={"csrf": token[::-1]}).status_code == 403
        assert c.post(path, headers={"X-CSRF-Token": "nope"}).status_code == 403


def test_login_needs_its_csrf_token(room):
    """The login form too: a cross-site login attempt without the form's token is refused."""
    with room.client() as c:
        r = c.post("/dang-nhap", data={"username": "admin", "password": PASSWORDS["admin"]})
        assert r.status_code == 403
        assert "kt_phien" not in r.headers.get("set-cookie", "")


def test_wrong_password_refused(room):
    with room.client() as c:
        token = csrf_of(c.get("/dang-nhap").text)
        r = c.post("/dang-nhap", data={"csrf": token, "username": "admin", "password": "sai-mat-khau-123"})
        assert r.status_code == 401 and "không đúng" in r.text
        assert c.get("/").status_code == 303


def test_session_cookie_httponly_samesite(room):
    """The session cookie cannot be read by scripts nor sent by another site."""
    with room.client() as c:
        token = csrf_of(c.get("/dang-nhap").text)
        r = c.post("/dang-nhap", data={"csrf": token, "username": "canbo", "password": PASSWORDS["canbo"]})
        cookie = r.headers["set-cookie"].lower()
        assert "kt_phien=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_officer_cannot_manage_accounts_or_targets(room):
    """An officer (cán bộ) is refused the administration pages and actions, even with a valid CSRF token."""
    c, token = room.login("canbo")
    with closing(c):
        for path in ("/quan-tri/tai-khoan", "/quan-tri/he-thong", "/quan-tri/nhat-ky"):
            assert c.get(path).status_code == 403, path
        r = c.post("/quan-tri/tai-khoan", data={"csrf": token, "username": "moi", "password": "mat-khau-dai-12",
                                                "role": "quan_tri"})
        assert r.status_code == 403
        assert c.post("/quan-tri/tai-khoan/admin/trang-thai", data={"csrf": token, "active": "0"}).status_code == 403
        assert "Tài khoản" not in c.get("/").text.split("<main")[0]  # no admin links in the officer's header
    admin, admin_token = room.login("admin")
    with closing(admin):
        assert "moi" not in admin.get("/quan-tri/tai-khoan").text


def test_admin_adds_account_and_bad_input_is_named(room):
    """An administrator adds an officer; a bad value is refused with the field, the rule and the value."""
    c, token = room.login("admin")
    with closing(c):
        bad = c.post("/quan-tri/tai-khoan", data={"csrf": token, "username": "Ten Sai", "password": "ngan",
                                                  "role": "can_bo"})
        assert bad.status_code == 400 and "tên đăng nhập" in bad.text and "Ten Sai" in bad.text
        ok = c.post("/quan-tri/tai-khoan", data={"csrf": token, "username": "canbo2", "password": "mat-khau-dai-12",
                                                 "role": "can_bo", "full_name": "Trần Thị B"})
        assert ok.status_code == 303
        page = c.get("/quan-tri/tai-khoan").text
        assert "canbo2" in page and "Trần Thị B" in page and "mat-khau-dai-12" not in page
        audit = c.get("/quan-tri/nhat-ky").text
        assert "account_added" in audit and "canbo2" in audit and "mat-khau-dai-12" not in audit


def test_a_bad_side_by_side_choice_is_named_and_starts_nothing(room):
    """Starting a run with a worker count the form does not offer is refused with the field and the value."""
    c, token = room.login("canbo")
    with closing(c):
        made = c.post("/chien-dich", data={"csrf": token, "name": "Đợt song song", "target_id": "demo",
                                           "publication_date": "2026-12-01"})
        assert made.status_code == 303, made.text[:300]
        campaign = made.headers["location"]
        r = c.post(f"{campaign}/chay", data={"csrf": token, "service": "khai-sinh", "check": "sso", "workers": "64"},
                   headers={"Accept": "text/html"})
        assert r.status_code == 400 and "workers" in r.text and "'64'" in r.text
        assert "/lan-chay/" not in c.get(campaign).text


def test_audit_log_records_logins_and_refusals(room):
    """Who, when, what: logins (also failed ones) are in the audit log."""
    c, _ = room.login("admin")
    with closing(c):
        page = c.get("/quan-tri/nhat-ky").text
    assert "login" in page and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page)


def test_security_headers(room):
    """No framing, no script from elsewhere, no sniffing: the pages work on an offline network with nothing else."""
    c, _ = room.login("canbo")
    with closing(c):
        r = c.get("/")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r'(src|href)="https?://', r.text)


def test_no_secret_in_pages(room):
    """The reference system's secrets and the passwords appear in no page an officer or administrator sees."""
    for user in ("canbo", "admin"):
        c, _ = room.login(user)
        with closing(c):
            for path in ("/", "/quan-tri/tai-khoan", "/quan-tri/he-thong", "/quan-tri/nhat-ky"):
                text = c.get(path).text
                for value in [*room.secrets.values(), *PASSWORDS.values()]:
                    assert value not in text, (user, path)
