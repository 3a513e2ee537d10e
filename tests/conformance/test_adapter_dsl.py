"""The adapter DSL against a tiny local site (served by Playwright routing, no server): wizards, uploads by
label, consent, capture, popups, row-scoped actions, waiting with reload, inventory; and its validation."""

from __future__ import annotations

import pytest
import yaml

from conformance.adapter import Executor, PageSet, Variables, load_adapter, validate_adapter
from conformance.adapter.dsl import AdapterError
from kiemthu.runtime import REPO_ROOT

BASE = "http://sut.test"
CODE = "000.00.00.G15-261123-0007"
PAGES = {
    "/": """<h1>Trang chủ</h1><form action="/"><button>Đăng xuất</button></form>""",
    "/form": """<h1>Bước 1</h1><form action="/step2"><label for="a">Họ và tên *</label><input id="a" name="a" required value="Nguyễn Văn An">
        <label for="b">Mục đích</label><input id="b" name="b" required><button>Tiếp tục</button></form>""",
    "/step2": """<title>Nộp hồ sơ – Bước 2</title><h1>Bước 2</h1><form action="/receipt"><label for="f1">Tờ khai</label><input type="file" id="f1" aria-required="true">
        <label for="f2">Căn cước</label><input type="file" id="f2"><input type="checkbox" id="k2"><label for="k2">Lấy từ Kho dữ liệu: Căn cước</label>
        <input type="checkbox" id="c"><label for="c">Tôi cam đoan</label><button>Nộp hồ sơ</button></form>""",
    "/receipt": f"""<p>Mã số hồ sơ: <strong id="ma-ho-so">{CODE}</strong></p><a href="/pay" target="_blank">Thanh toán trực tuyến</a>""",
    "/pay": """<label><input type="radio" name="bank">Vietcombank</label><form action="/ok"><button>Xác nhận</button></form>""",
    "/ok": "<h1>Thanh toán thành công</h1>",
    "/list": f"""<table><tr><th>Mã</th><th>Trạng thái</th><th></th></tr>
        <tr><td>000.00.00.G15-261123-0001</td><td class="s">Mới</td><td><button onclick="this.closest('tr').querySelector('.s').textContent='Đã tiếp nhận'">Tiếp nhận</button></td></tr>
        <tr><td>{CODE}</td><td class="s">Mới</td><td><button onclick="this.closest('tr').querySelector('.s').textContent='Đã tiếp nhận'">Tiếp nhận</button></td></tr></table>""",
}
SCENARIO = {
    "_file": str(REPO_ROOT / "scenarios" / "x.yaml"),
    "fields": [{"name": "HoVaTen", "label": "Họ và tên", "required": True, "from_identity": "HoVaTen"},
               {"name": "MucDich", "label": "Mục đích", "required": True, "sample": "Xin việc"}],
    "documents": [{"MaThanhPhanHoSo": "TP-1", "TenThanhPhanHoSo": "Tờ khai", "required": True, "sample_file": "files/to-khai.pdf"},
                  {"MaThanhPhanHoSo": "TP-2", "TenThanhPhanHoSo": "Căn cước", "required": True, "sample_file": "files/can-cuoc.pdf",
                   "khodl_result_code": "KQ.G01.000023"}],
}

pytestmark = pytest.mark.browser


class Hooks:
    def __init__(self):
        self.shots, self.marks, self.status = [], [], {}

    def screenshot(self, page, flow, label):
        self.shots.append(label)
        return None

    def portal_status(self, code):
        return self.status.get(code)

    def before_step(self, flow, step):
        pass

    def after_step(self, flow, step):
        if step.get("marks_status"):
            self.marks.append(step["marks_status"])


@pytest.fixture
def site(browser):
    ctx = browser.new_context()
    ctx.set_default_timeout(3000)
    loads = {"n": 0}

    def handle(route):
        path = route.request.url[len(BASE):].split("?")[0]
        if path == "/slow":
            loads["n"] += 1
            body = "<p>Đã xử lý</p>" if loads["n"] >= 3 else "<p>Đang xử lý</p>"
        else:
            body = PAGES.get(path)
        if body is None:
            return route.fulfill(status=404, body="not found")
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=f"<!doctype html><html><body>{body}</body></html>")

    ctx.route(f"{BASE}/**", handle)
    yield PageSet(ctx.new_page())
    ctx.close()


def executor(flows: dict, hooks: Hooks, **extra) -> Executor:
    spec = load_adapter({"flows": {"citizen_login": [{"goto": "{system.base_url}/form"}], "submit": [], **flows},
                         "timeouts": {"step_s": 3}, **extra})
    from scenarios import sample_file

    variables = Variables(system={"base_url": BASE}, identity={"HoVaTen": "Nguyễn Văn An"}, payment={"bank": "Vietcombank"})
    return Executor(spec, variables, scenario=SCENARIO, identity={"HoVaTen": "Nguyễn Văn An"}, base_dir=REPO_ROOT,
                    hooks=hooks, sample_file=lambda d: sample_file(SCENARIO, d))


def test_wizard_with_uploads_consent_capture_and_popup(site):
    hooks = Hooks()
    ex = executor({"submit": [
        {"goto": "{system.base_url}/form"},
        {"inventory": "fields"},
        {"fill": {"fields": "all"}},
        {"click": {"role": "button", "name": "Tiếp tục"}},
        {"expect": {"role": "heading", "name": "Bước 2"}},
        {"inventory": "documents"},
        {"upload": {"documents": "required", "khodl": {"role": "checkbox", "name": "Lấy từ Kho dữ liệu: {document.TenThanhPhanHoSo}"}}},
        {"check": {"role": "checkbox", "name": "Tôi cam đoan"}},
        {"click": {"role": "button", "name": "Nộp hồ sơ"}},
        {"capture": {"name": "dossier_code", "from": {"css": "#ma-ho-so"}, "pattern": r"\S+"}},
        {"popup": {"click": {"role": "link", "name": "Thanh toán trực tuyến"}}},
        {"click": {"role": "radio", "name": "{payment.bank}"}},
        {"click": {"role": "button", "name": "Xác nhận"}},
        {"expect": {"text": "Thanh toán thành công"}},
        {"switch": "main"},
        {"expect": {"css": "#ma-ho-so"}},
    ]}, hooks)
    out = ex.run_flow("submit", site)
    assert out.ok, out.error
    assert ex.vars.lookup("dossier_code") == CODE
    assert out.observations["prefilled"] == {"Họ và tên": "Nguyễn Văn An"}
    assert [f["label"] for f in out.observations["inventory"]["fields"]] == ["Họ và tên *", "Mục đích"]
    assert [f["label"] for f in out.observations["inventory"]["documents"]] == ["Tờ khai", "Căn cước"]
    assert out.observations["uploaded"] == ["TP-1"] and out.observations["khodl"] == ["TP-2"]
    assert site.current is site.main and len(site.context.pages) == 2
    assert hooks.shots  # screenshots after navigating steps


def test_within_row_scopes_actions_to_the_captured_value(site):
    hooks = Hooks()
    ex = executor({"officer_process": [
        {"goto": "{system.base_url}/list"},
        {"within_row": {"value": "{dossier_code}", "steps": [{"click": {"role": "button", "name": "Tiếp nhận"}, "marks_status": "2"},
                                                             {"expect": {"text": "Đã tiếp nhận"}}]}},
    ]}, hooks)
    ex.vars.set("dossier_code", CODE)
    out = ex.run_flow("officer_process", site)
    assert out.ok, out.error
    rows = site.current.get_by_role("row")
    assert "Mới" in rows.nth(1).inner_text() and "Đã tiếp nhận" in rows.nth(2).inner_text()
    assert hooks.marks == ["2"]


def test_wait_until_reloads_until_visible_and_portal_status(site):
    hooks = Hooks()
    hooks.status[CODE] = "10"
    ex = executor({"officer_process": [
        {"goto": "{system.base_url}/slow"},
        {"wait_until": {"visible": {"text": "Đã xử lý"}, "reload": True, "timeout_s": 5, "interval_s": 0.2}},
        {"wait_until": {"portal_status": "10", "timeout_s": 1}},
    ]}, hooks)
    ex.vars.set("dossier_code", CODE)
    out = ex.run_flow("officer_process", site)
    assert out.ok, out.error


def test_a_missing_label_fails_the_step_naming_it(site):
    ex = executor({"submit": [{"goto": "{system.base_url}/step2"}, {"upload": {"label": "Sổ hộ khẩu", "file": "scenarios/files/to-khai.pdf"}, "timeout_s": 0.5}]}, Hooks())
    out = ex.run_flow("submit", site)
    assert not out.ok and out.error.index == "2" and "Sổ hộ khẩu" in out.error.description


def test_deadline_on_wait_until(site):
    ex = executor({"officer_process": [{"goto": "{system.base_url}/ok"},
                                       {"wait_until": {"visible": {"text": "never"}, "timeout_s": 0.5, "interval_s": 0.1}}]}, Hooks())
    out = ex.run_flow("officer_process", site)
    assert not out.ok and "within" in out.error.error


def test_example_target_adapter_is_valid():
    data = yaml.safe_load((REPO_ROOT / "examples" / "ministry" / "target.yaml").read_text(encoding="utf-8"))
    assert validate_adapter(data["adapter"]) == []


@pytest.mark.parametrize("spec, expected", [
    ({"flows": {"citizen_login": [{"clik": {"text": "x"}}], "submit": []}}, "adapter.flows.citizen_login[0]: rule 'step kind'"),
    ({"flows": {"citizen_login": [{"goto": "x", "click": {"text": "x"}}], "submit": []}}, "one action per step"),
    ({"flows": {"citizen_login": [{"click": {"rol": "button"}}], "submit": []}}, "adapter.flows.citizen_login[0].click"),
    ({"flows": {"submit": []}}, "'citizen_login' is a required property"),
    ({"flows": {"citizen_login": [], "submit": [], "pay_twice": []}}, "unknown key(s) 'pay_twice'"),
])
def test_validation_names_the_field(spec, expected):
    problems = validate_adapter(spec)
    assert any(expected in p for p in problems), problems


def test_unknown_placeholder_is_a_configuration_error():
    v = Variables(system={"base_url": BASE})
    assert v.expand("{system.base_url}/x") == f"{BASE}/x"
    with pytest.raises(AdapterError, match="placeholder {service.MaDVC}"):
        v.expand("{service.MaDVC}", "adapter.pages.deep_link")


# -- why a step failed: the locator, the page, the nearest accessible names ------------------------------------
def test_a_partial_name_fails_naming_the_locator_the_page_and_the_whole_name_found(site):
    """A role locator matches the whole accessible name: a prefix of it fails, and the failure names the locator,
    the page (URL and title) and the page's nearest names, the whole one first — not Playwright's bare timeout."""
    ex = executor({"submit": [{"goto": "{system.base_url}/step2"},
                              {"check": {"role": "checkbox", "name": "Tôi cam"}, "timeout_s": 0.5}]}, Hooks())
    out = ex.run_flow("submit", site)
    assert not out.ok and out.error.flow == "submit" and out.error.index == "2"
    message = str(out.error)
    assert "submit step 2" in message and "no checkbox named 'Tôi cam'" in message
    assert f"{BASE}/step2 (title 'Nộp hồ sơ – Bước 2')" in message
    assert 'nearest accessible names on the page: checkbox "Tôi cam đoan"' in message
    assert "exact: false" in message and "Timeout" not in message


def test_a_part_of_the_name_matches_with_exact_false(site):
    """`exact: false` matches part of the accessible name (Playwright's substring match)."""
    ex = executor({"submit": [{"goto": "{system.base_url}/step2"},
                              {"check": {"role": "checkbox", "name": "Tôi cam", "exact": False}}]}, Hooks())
    out = ex.run_flow("submit", site)
    assert out.ok, out.error


def test_a_missing_published_field_lists_the_labels_on_the_page(site):
    """A published field without its input names the field and lists the nearest input labels of the page."""
    ex = executor({"submit": [{"goto": "{system.base_url}/form"}, {"fill": {"fields": "all"}, "timeout_s": 0.5}]}, Hooks())
    ex.scenario = {**SCENARIO, "fields": [{"name": "HoTen", "label": "Họ tên", "required": True, "sample": "A"}]}
    out = ex.run_flow("submit", site)
    message = str(out.error)
    assert "no label named 'Họ tên' (published field HoTen)" in message, message
    assert '"Họ và tên *"' in message and f"{BASE}/form" in message


def test_a_credential_in_the_failing_page_url_is_masked(site):
    """The page's URL is part of the message: an authorization code in it (an SSO callback) is masked."""
    ex = executor({"submit": [{"goto": "{system.base_url}/form?code=Zx81kQp0authcode&state=s7a9d2f4"},
                              {"click": {"role": "button", "name": "Gửi"}, "timeout_s": 0.3}]}, Hooks())
    message = str(ex.run_flow("submit", site).error)
    assert f"{BASE}/form?" in message and "Zx81kQp0authcode" not in message, message


def test_a_present_but_unusable_element_is_named_with_the_page(site):
    """An element that is found but cannot take the action keeps Playwright's reason, with the locator and page."""
    ex = executor({"submit": [{"goto": "{system.base_url}/step2"},
                              {"expect": {"role": "button", "name": "Nộp hồ sơ", "state": "hidden"}, "timeout_s": 0.3}]}, Hooks())
    out = ex.run_flow("submit", site)
    message = str(out.error)
    assert "button 'Nộp hồ sơ' on " + f"{BASE}/step2" in message and "nearest" not in message, message
    assert "Traceback" not in message and "executor.py" not in message


# -- where each flow begins ---------------------------------------------------------------------------------------
def test_a_flow_after_a_failed_one_begins_at_the_base_url_not_on_the_failure(site):
    """After a flow stopped at a step, the next flow of the same person begins at the system's base URL: the
    logout runs on a page that has the logout button, not on the page the failure left (a second, false failure)."""
    from types import SimpleNamespace

    from conformance.adapter import FlowOutcome
    from conformance.service import ServiceRun

    ex = executor({"submit": [{"goto": "{system.base_url}/step2"}, {"click": {"role": "button", "name": "Gửi"}, "timeout_s": 0.3}],
                   "logout": [{"click": {"role": "button", "name": "Đăng xuất"}, "timeout_s": 0.5}]}, Hooks())
    run = SimpleNamespace(executor=ex, last_flow={})
    submit = FlowOutcome("submit")
    ServiceRun.begin(run, "submit", site, submit)
    ex.run_flow("submit", site, submit)
    assert not submit.ok
    stays = ex.run_flow("logout", site)  # on the page the failure left
    assert not stays.ok and "no button named 'Đăng xuất'" in str(stays.error)

    logout = FlowOutcome("logout")
    ServiceRun.begin(run, "logout", site, logout)
    ex.run_flow("logout", site, logout)
    assert logout.ok, logout.error
    assert logout.observations["start"] == f"{BASE}/"


def test_a_declared_start_page_is_loaded_before_the_flow(site):
    """`adapter.start.<flow>` (a name of `pages` or a URL) is loaded before the flow's first step, even after a
    flow that completed; without it a flow goes on where the previous one left."""
    ex = executor({"pay": [{"expect": {"css": "#ma-ho-so"}}]}, Hooks(),
                  pages={"receipt": "{system.base_url}/receipt"}, start={"pay": "receipt"})
    site.main.goto(f"{BASE}/form")
    assert ex.begin("submit", site) is None and site.main.url == f"{BASE}/form"
    assert ex.begin("pay", site) == f"{BASE}/receipt"
    assert ex.run_flow("pay", site).ok


def test_an_unknown_start_key_names_the_field():
    problems = validate_adapter({"flows": {"citizen_login": [], "submit": []}, "start": {"paying": "x"}})
    assert any("adapter.start" in p and "'paying'" in p for p in problems), problems


# -- --pause-at ---------------------------------------------------------------------------------------------------
OFFICER = {"flows": {"citizen_login": [{"goto": "x"}], "submit": [{"goto": "x"}, {"click": {"text": "a"}}],
                     "officer_process": [{"goto": "x"}, {"within_row": {"value": "v", "steps": [{"click": {"text": "b"}}]}}]}}


def test_pause_at_names_a_declared_step():
    from conformance.adapter import pause_step

    assert pause_step(OFFICER, "submit:2") == ("submit", "2")
    assert pause_step(OFFICER, "submit") == ("submit", "1")
    assert pause_step(OFFICER, "officer_process:2.1") == ("officer_process", "2.1")


@pytest.mark.parametrize("wanted", ["submit:3", "pay", "nop-ho-so:1"])
def test_pause_at_an_unknown_step_is_refused_with_the_known_ones(wanted):
    """An unknown `--pause-at` step is a configuration error naming the value, the rule and every known step."""
    from conformance.adapter import pause_step

    with pytest.raises(AdapterError) as err:
        pause_step(OFFICER, wanted)
    message = str(err.value)
    assert f"--pause-at: unknown step '{wanted}'" in message and "FLOW:STEP" in message
    assert "citizen_login:1, submit:1–2, officer_process:1–2" in message and "officer_process:2.1" in message


def test_the_run_refuses_an_unknown_pause_step_before_starting(tmp_path, capsys, monkeypatch):
    """`kiemthu run --pause-at` with a step the target does not declare stops with exit 2 and starts nothing."""
    from conformance.runner import run
    from kiemthu.demo import DEMO_TARGET, SECRET_VARS, demo_environment

    for name in ("KIEMTHU_MOCK_PORT", "KIEMTHU_MINISTRY_PORT", "KIEMTHU_PUBLICATION_DATE", *SECRET_VARS):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    demo_environment()
    code = run(target=DEMO_TARGET, output=tmp_path / "run", services=[], checks=[], headed=False, pause_at=["submit:42"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown step 'submit:42'" in err and "submit:1–9" in err.replace("\n", "")
    assert not (tmp_path / "run").exists()


def test_the_executor_pauses_once_before_the_named_step(site):
    """The pause comes after the previous step and before the named one (the page still shows the form), once."""
    seen = []

    class Pausing(Hooks):
        def pause(self, page, flow, index, what):
            seen.append((flow, index, page.url, what))

    ex = executor({"submit": [{"goto": "{system.base_url}/form"}, {"click": {"role": "button", "name": "Tiếp tục"}}]}, Pausing())
    ex.pause_at = {("submit", "2")}
    assert ex.run_flow("submit", site).ok
    assert seen == [("submit", "2", f"{BASE}/form", "click role='button' name='Tiếp tục'")]
    assert ex.run_flow("submit", site).ok and len(seen) == 1


def test_a_pause_waits_for_enter_on_the_terminal(tmp_path, capsys):
    """Headless, the pause prompts and reads Enter from the terminal; without a terminal it says so and goes on."""
    import contextlib
    import os
    from types import SimpleNamespace

    from conformance.service import pause_before

    suite = SimpleNamespace(uncaptured=contextlib.nullcontext, opts=SimpleNamespace(headed=False))
    page = SimpleNamespace(url=f"{BASE}/form")
    leader, follower = os.openpty()
    try:
        os.write(leader, b"\n")  # the person presses Enter
        pause_before(suite, page, "submit:2", "click", terminal=os.ttyname(follower))
    finally:
        os.close(leader)
        os.close(follower)
    assert "Tạm dừng trước bước submit:2" in capsys.readouterr().out
    pause_before(suite, page, "submit:2", "click", terminal=str(tmp_path / "no-tty"))
    assert "no terminal to wait on" in capsys.readouterr().out


def test_a_start_page_that_does_not_load_fails_the_flow_once(site):
    """A declared start page that cannot be loaded is the flow's failure (step 'start'), before any of its steps."""
    from types import SimpleNamespace

    from conformance.adapter import FlowOutcome
    from conformance.service import ServiceRun
    from kiemthu.runtime import free_port

    ex = executor({"pay": [{"expect": {"css": "#ma-ho-so"}}]}, Hooks(), start={"pay": f"http://127.0.0.1:{free_port()}/"})
    run = SimpleNamespace(executor=ex, last_flow={})
    out = FlowOutcome("pay")
    ServiceRun.begin(run, "pay", site, out)
    assert out.error is not None and out.error.index == "start" and "start page" in str(out.error)
    assert "ERR_CONNECTION_REFUSED" in str(out.error) and run.last_flow["citizen"] is out
