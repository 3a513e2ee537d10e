"""`kiemthu init`: the files a new system under test needs for its first run, written beside each other.

- the target file (system, portal registration, services, officer, report, an adapter with every flow commented);
- one scenario file per service (a copy of the published procedure when the harness knows it, else a stub);
- `.env.example`: every secret variable the target names, with what to put in it;
- `portal-settings.md`: what the agency enters in its own system (portal URL, client id, redirect URIs, IPN URL,
  adapter account) so that it talks to the portal the run starts.

Questions (interactive) and flags (`--non-interactive`) fill the same `InitSettings`; defaults are the labels and
paths of the reference system (examples/ministry), so each value says what kind of text is expected.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import yaml

from kiemthu.runtime import VN_TZ

# the secret variables a generated target names, in the order .env.example lists them
SSO_SECRET = "KIEMTHU_SSO_CLIENT_SECRET"
PAYMENT_SECRET = "KIEMTHU_PAYMENT_SECRET"
ADAPTER_PASSWORD = "KIEMTHU_ADAPTER_PASSWORD"
OFFICER_PASSWORD = "KIEMTHU_OFFICER_PASSWORD"
AGENCY_CODE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$")
PROCEDURE_CODE = re.compile(r"^[12]\.[0-9]{6}$")
ENV_FILE = ".env.example"
PORTAL_SETTINGS_FILE = "portal-settings.md"


class InitError(ValueError):
    """An answer or flag that cannot make a valid target: names the field, the rule and the value."""


@dataclass
class Journey:
    """The citizen's and the officer's journey on the system's own pages: paths and accessible names."""

    deep_link_path: str = "/dvc/nop-ho-so"
    health_path: str = "/health"
    sso_callback_path: str = "/sso/callback"
    payment_return_path: str = "/thanh-toan/ket-qua"
    payment_ipn_path: str = "/thanh-toan/ipn"
    my_dossiers_path: str = "/ho-so-cua-toi"
    greeting: str = "Xin chào, {identity.HoVaTen}"
    login_button: str = "Đăng nhập"
    logout_button: str = "Đăng xuất"
    form_heading: str = "Bước 1: Thông tin người nộp"
    next_button: str = "Tiếp tục"
    documents_heading: str = "Bước 2: Thành phần hồ sơ"
    pledge_checkbox: str = "Tôi xin cam đoan những thông tin khai trên là đúng sự thật"
    submit_button: str = "Nộp hồ sơ"
    dossier_code_css: str = "#ma-ho-so"
    upload_refused_text: str = "không đúng định dạng"
    pay_link: str = "Thanh toán trực tuyến"
    payment_succeeded_text: str = "Thanh toán thành công"
    paid_text: str = "Đã thanh toán"
    unpaid_text: str = "Chưa thanh toán"
    officer_login_path: str = "/can-bo/dang-nhap"
    officer_dossiers_path: str = "/can-bo/ho-so"
    officer_username_label: str = "Tên đăng nhập"
    officer_password_label: str = "Mật khẩu"


@dataclass
class InitSettings:
    base_url: str
    agency_code: str
    services: list[str]
    agency_name: str = ""
    system_name: str = ""
    portal_url: str = "http://127.0.0.1:8800"
    client_id: str = ""
    payment_partner: str = ""
    adapter_user: str = ""
    officer_mode: str = "automated"
    officer_user: str = "canbo"
    tester: str = ""
    publication_date: str = ""
    journey: Journey = field(default_factory=Journey)
    recording: str = ""  # a `playwright codegen --target python` script of the submission: becomes the submit flow
    skipped_from_recording: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.portal_url = self.portal_url.rstrip("/")
        self.agency_name = self.agency_name or "<tên cơ quan>"
        self.system_name = self.system_name or f"Hệ thống thông tin giải quyết TTHC {self.agency_name}"
        slug = self.agency_code.split(".")[-1].lower() if self.agency_code else "coquan"
        self.client_id = self.client_id or f"{slug}-motcua"
        self.payment_partner = self.payment_partner or slug.upper()
        self.adapter_user = self.adapter_user or slug
        self.tester = self.tester or "<họ tên người kiểm thử>"
        self.publication_date = self.publication_date or today()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def secrets(self) -> list[str]:
        names = [SSO_SECRET, PAYMENT_SECRET, ADAPTER_PASSWORD]
        return names + ([OFFICER_PASSWORD] if self.officer_mode == "automated" else [])


def today() -> str:
    """Today in Vietnam: the services are taken as published for testing today unless told otherwise."""
    return datetime.now(VN_TZ).date().isoformat()


# ---- checking answers --------------------------------------------------------------------------------------------

def check_url(name: str, value: str) -> str:
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InitError(f"{name}: rule 'http(s) URL' — got {value!r}; write it as https://host[:port]")
    return value


def check_settings(s: InitSettings) -> None:
    """Every answer that would make an invalid target, told by field, rule and value."""
    check_url("--base-url (system.base_url)", s.base_url)
    check_url("--portal-url (portal.base_url)", s.portal_url)
    if not AGENCY_CODE.match(s.agency_code or ""):
        raise InitError(f"--agency-code (system.agency_code): rule 'mã định danh cơ quan, TT 10/2016/TT-BTTTT' — "
                        f"got {s.agency_code!r}; expected e.g. 000.00.00.G15")
    if not s.services:
        raise InitError("--service (services): rule 'at least one' — give the MaTTHC of each service to test, "
                        "e.g. --service 2.001417")
    for code in s.services:
        if not PROCEDURE_CODE.match(code):
            raise InitError(f"--service (MaTTHC): rule 'mã thủ tục hành chính' — got {code!r}; expected e.g. 2.001417")
    if s.officer_mode not in ("automated", "manual"):
        raise InitError(f"--officer-mode (officer.mode): rule 'automated or manual' — got {s.officer_mode!r}")
    if s.recording and not Path(s.recording).is_file():
        raise InitError(f"--from-recording: rule 'file exists' — not found: {s.recording}")
    try:
        date.fromisoformat(s.publication_date)
    except ValueError:
        raise InitError(f"--publication-date (report.publication_date): rule 'YYYY-MM-DD' — "
                        f"got {s.publication_date!r}") from None


# ---- scenarios ---------------------------------------------------------------------------------------------------

def published_procedure(code: str) -> dict[str, Any] | None:
    """The scenario the harness ships for a procedure code (MaTTHC or MaTTHCDP), or None."""
    from scenarios import load_scenarios

    return next((s for s in load_scenarios() if code in (s["MaTTHC"], s.get("MaTTHCDP"))), None)


def stub_scenario(code: str, s: InitSettings) -> str:
    """A valid scenario for a procedure the harness does not know: every value to copy from CSDL TTHC marked."""
    slug = "tthc-" + code.replace(".", "-")
    return f"""\
# Kịch bản dịch vụ {code}: chép từ thủ tục đã công bố trên CSDL quốc gia về TTHC (xem docs/guides/kich-ban.md).
# Scenario of procedure {code}: copy every value marked TODO from the published procedure.
id: {slug}
MaTTHC: "{code}"
TenTTHC: "TODO: tên thủ tục hành chính như đã công bố"
MaDVC: "{code}.01"                 # TODO: mã dịch vụ công trực tuyến
TenDVC: "TODO: tên dịch vụ công trực tuyến"
MaTTHCDP: "{code}.{s.agency_code}"  # TODO: mã thủ tục địa phương (tham số MaTTHCDP của đường dẫn)
level: toan_trinh                  # toan_trinh | mot_phan
agency_code: "{s.agency_code}"
agency_name: "{s.agency_name}"
processing_days: 10                # TODO: thời hạn giải quyết (ngày làm việc)
acr: LoA2                          # mức độ xác thực định danh mà dịch vụ yêu cầu
fee:
  amount: 0                        # TODO: tổng phí, lệ phí (VND); >0 with online_payment: true tests payment
  online_payment: false
documents:                         # thành phần hồ sơ: TenThanhPhanHoSo is also the label of its file input
  - {{MaThanhPhanHoSo: "TP-01", TenThanhPhanHoSo: "TODO: tên thành phần hồ sơ", required: true, sample_file: files/mau.pdf}}
fields:                            # trường thông tin: label is the form's label, sample the value typed
  - {{name: HoVaTen, label: "Họ và tên", required: true, from_identity: HoVaTen}}
result: {{MaGiayToKetQua: KQ.G00.000000, TenGiayTo: "TODO: tên giấy tờ kết quả"}}
"""


MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")


def scenario_name(code: str) -> str:
    """The file name of a service's scenario: the shipped one's, or tthc-<code>.yaml for a stub."""
    known = published_procedure(code)
    return Path(known["_file"]).name if known else f"tthc-{code.replace('.', '-')}.yaml"


def write_scenarios(s: InitSettings, folder: Path) -> list[str]:
    """One scenario file per service beside the target (with the sample files it uploads); their names."""
    names = []
    for code in s.services:
        known = published_procedure(code)
        name = scenario_name(code)
        if known is None:
            (folder / name).write_text(stub_scenario(code, s), encoding="utf-8")
            sample = folder / "files" / "mau.pdf"
            sample.parent.mkdir(exist_ok=True)
            if not sample.exists():
                sample.write_bytes(MINIMAL_PDF)
        else:
            source = Path(known["_file"])
            shutil.copyfile(source, folder / name)
            for doc in known.get("documents", []):
                if doc.get("sample_file"):
                    dest = folder / doc["sample_file"]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source.parent / doc["sample_file"], dest)
        names.append(name)
    return names


# ---- the target file ---------------------------------------------------------------------------------------------

def q(value: str) -> str:
    """A YAML double-quoted scalar."""
    return yaml.safe_dump(value, allow_unicode=True, default_style='"', width=10_000).strip()


def render_target(s: InitSettings, scenario_names: list[str], recorded: list[dict[str, Any]] | None = None) -> str:
    j = s.journey
    services = "\n".join(f"  - scenario: {name}" for name in scenario_names)
    if s.officer_mode == "automated":
        officer = f"""\
officer:                                        # the officer's steps are played by the suite (flows officer_*)
  mode: automated
  username: {q(s.officer_user)}                  # a test officer account of YOUR system
  password: {{env: {OFFICER_PASSWORD}}}"""
    else:
        officer = """\
officer:
  # CHÚ Ý: manual = mỗi hồ sơ, bộ kiểm thử DỪNG và chờ một cán bộ tự xử lý trong hệ thống của bạn (tối đa 900 s).
  # NOTE: manual = for every dossier the suite STOPS and waits for a person to process it in your back office.
  mode: manual
  manual_deadline_s: 900"""
    return f"""\
# Tệp cấu hình hệ thống cần kiểm thử (target) — written by `kiemthu init`; checked before anything runs.
# Secrets are never written here: each is the NAME of an environment variable, {{env: NAME}} (see {ENV_FILE}).
# `kiemthu run` does not start your system: start it first, configured as {PORTAL_SETTINGS_FILE} says.
version: 1
system:
  name: {q(s.system_name)}
  base_url: {q(s.base_url)}                      # the system's address, as the browser reaches it
  agency_code: {q(s.agency_code)}                # mã định danh cơ quan (TT 10/2016/TT-BTTTT)
  agency_name: {q(s.agency_name)}
  health_path: {j.health_path}                   # answered with 2xx when the system is up
portal:
  mode: mock                                    # kiemthu run starts the mock portal at base_url
  base_url: {q(s.portal_url)}                    # your system must be configured with this portal address
  profile: dvcqg-1.0
  sso_client:                                   # single sign-on registration (your system is the client)
    client_id: {q(s.client_id)}
    client_secret: {{env: {SSO_SECRET}}}
    redirect_uris: [{q(s.url(j.sso_callback_path))}]
    post_logout_redirect_uris: [{q(s.url("/"))}]
  payment_partner:                              # payment platform partner (MaDoiTac)
    code: {q(s.payment_partner)}
    secret: {{env: {PAYMENT_SECRET}}}
    return_url: {q(s.url(j.payment_return_path))}
    callback_url: {q(s.url(j.payment_ipn_path))}   # IPN: the portal calls it server to server
  adapter_account:                              # dossier sync account (dstcode = agency code)
    username: {q(s.adapter_user)}
    password: {{env: {ADAPTER_PASSWORD}}}
    dstcode: {q(s.agency_code)}
services:                                       # one scenario file per service, beside this file
{services}
{officer}
report:
  tester: {q(s.tester)}
  publication_date: {q(s.publication_date)}      # ngày VPCP công khai dịch vụ để kiểm thử: the 5-working-day clock
{render_adapter(s, recorded)}"""


def render_adapter(s: InitSettings, recorded: list[dict[str, Any]] | None = None) -> str:
    """The adapter section: every page, marker and flow, each commented with where it begins and what to change.
    Language reference: docs/guides/adapter.md. `recorded`: steps converted from a recording, for the submit flow."""
    j = s.journey
    submit = render_recorded_submit(s, recorded) if recorded else default_submit(s)
    return f"""\
# adapter: how the suite drives YOUR pages (reference: docs/guides/adapter.md). Locators use accessible names:
# a role and its whole visible name ({{role: button, name: "Nộp hồ sơ"}}), a label, a text, or css as a last resort.
# Every value below is the reference system's: replace each with what your pages show.
adapter:
  pages:                                        # addresses the flows go to; {{...}} are filled at run time
    deep_link: "{{system.base_url}}{j.deep_link_path}?MaTTHCDP={{service.MaTTHCDP}}&MaCoQuanThucHien={{service.agency_code}}&vnconnect=1&MaDVC={{service.MaDVC}}"
    my_dossiers: "{{system.base_url}}{j.my_dossiers_path}"
    officer_login: "{{system.base_url}}{j.officer_login_path}"
    officer_dossiers: "{{system.base_url}}{j.officer_dossiers_path}"
  markers:                                      # what tells the suite where it is
    logged_in: {{text: {q(j.greeting)}}}          # shown once the citizen is back from the portal's SSO
    logged_out: {{role: button, name: {q(j.login_button)}}}
    login_failed: {{role: heading, name: "Đăng nhập không thành công"}}
    service_form: {{role: heading, name: {q(j.form_heading)}}}
    payment_offered: {{role: link, name: {q(j.pay_link)}}}
    payment_succeeded: {{text: {q(j.payment_succeeded_text)}}}
    paid: {{page: my_dossiers, row: "{{dossier_code}}", text: {q(j.paid_text)}}}
    unpaid: {{page: my_dossiers, row: "{{dossier_code}}", text: {q(j.unpaid_text)}}}
    upload_refused: {{text: {q(j.upload_refused_text)}}}   # your refusal of a disallowed file type
  timeouts: {{step_s: 10}}
  evidence: {{screenshots: steps}}
  probes: {{disallowed_upload: true}}             # submit once more with a program in place of each document
  flows:
    # citizen_login — begins on a fresh page: the deep link sends the citizen to the portal's SSO; the radio,
    # select and button below are the MOCK PORTAL's login page (keep them), then the portal sends the citizen back.
    citizen_login:
      - goto: "{{pages.deep_link}}"
      - click: {{role: radio, name: "{{identity.HoVaTen}} ({{identity.SoDinhDanh}})"}}
      - select: {{label: "Mức độ xác thực", value: "{{service.acr}}"}}
      - click: {{role: button, name: "Đăng nhập"}}
    # open_service — begins where citizen_login ended (back on your system): the service's form must show.
    open_service:
      - expect: {{role: heading, name: {q(j.form_heading)}}}
{submit}    # pay — begins on the page submit ended on (the receipt, with the payment link); the radios and the button
    # are the MOCK PORTAL's payment page (keep them).
    pay:
      - popup: {{click: {{role: link, name: {q(j.pay_link)}}}}}
      - click: {{role: radio, name: "{{payment.bank}}"}}
      - click: {{role: radio, name: "{{payment.outcome}}"}}
      - click: {{role: button, name: "Xác nhận thanh toán"}}
    # logout — begins on any page of your system where the citizen is logged in.
    logout:
      - click: {{role: button, name: {q(j.logout_button)}}}
    # officer_login — begins on a fresh page (a browser context of its own).
    officer_login:
      - goto: "{{pages.officer_login}}"
      - fill: {{label: {q(j.officer_username_label)}, value: "{{officer.username}}"}}
      - fill: {{label: {q(j.officer_password_label)}, value: "{{officer.password}}", sensitive: true}}
      - click: {{role: button, name: "Đăng nhập"}}
    # officer_process — begins where officer_login ended: each step acts on the dossier's row and says which
    # status (TrangThaiHoSo) it moves the dossier to, so the suite checks the portal is told.
    officer_process:
      - goto: "{{pages.officer_dossiers}}"
      - within_row:
          value: "{{dossier_code}}"
          steps: [{{click: {{role: button, name: "Tiếp nhận"}}, marks_status: "2"}}]
      - within_row:
          value: "{{dossier_code}}"
          steps: [{{click: {{role: button, name: "Xử lý"}}, marks_status: "4"}}]
      - within_row:
          value: "{{dossier_code}}"
          steps: [{{click: {{role: button, name: "Phê duyệt"}}, marks_status: "9"}}]
      - within_row:
          value: "{{dossier_code}}"
          steps: [{{click: {{role: button, name: "Trả kết quả"}}, marks_status: "10"}}]
      - within_row:
          value: "{{dossier_code}}"
          steps: [{{expect: {{role: link, name: "Xem kết quả"}}}}]
"""


def default_submit(s: InitSettings) -> str:
    j = s.journey
    return f"""\
    # submit — begins on the service form: fill every published field, upload every required document, submit,
    # and capture the dossier code (MaHoSo) your system shows.
    submit:
      - inventory: fields                       # which published fields the form shows (recorded as evidence)
      - fill: {{fields: all}}                     # each scenario field by its label: sample, or from the identity
      - click: {{role: button, name: {q(j.next_button)}}}
      - expect: {{role: heading, name: {q(j.documents_heading)}}}
      - inventory: documents
      - upload:
          documents: required                   # each required document, by the input labelled with its name
          khodl: {{role: checkbox, name: "Lấy từ Kho dữ liệu: {{document.TenThanhPhanHoSo}}"}}
      - check: {{role: checkbox, name: {q(j.pledge_checkbox)}}}
      - click: {{role: button, name: {q(j.submit_button)}}}
      - capture: {{name: dossier_code, from: {{css: {q(j.dossier_code_css)}}}, pattern: "\\\\S+"}}
"""


def render_recorded_submit(s: InitSettings, steps: list[dict[str, Any]]) -> str:
    """The submit flow from a recording, one step a line; a capture of the dossier code added when it has none."""
    lines = ["    # submit — recorded with playwright codegen and converted: check each step. It begins on the service",
             "    # form (where open_service ends) and must capture the dossier code (MaHoSo) your system shows.",
             "    submit:"]
    lines += [f"      - {flow_yaml(step)}" for step in steps]
    if not any("capture" in step for step in steps):
        capture = {"capture": {"name": "dossier_code", "from": {"css": s.journey.dossier_code_css}, "pattern": "\\S+"}}
        lines.append(f"      - {flow_yaml(capture)}   # TODO: the element showing the dossier code")
    return "\n".join(lines) + "\n"


def flow_yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10_000, sort_keys=False).strip()


# ---- the secrets and the portal-side settings ----------------------------------------------------------------------

def render_env_example(s: InitSettings, target_name: str) -> str:
    what = {
        SSO_SECRET: f"client secret of the SSO client '{s.client_id}' (mật khẩu ứng dụng SSO)",
        PAYMENT_SECRET: f"secret key of payment partner '{s.payment_partner}' (khóa bí mật đối tác thanh toán)",
        ADAPTER_PASSWORD: f"password of adapter account '{s.adapter_user}' (mật khẩu tài khoản đồng bộ)",
        OFFICER_PASSWORD: f"password of the test officer '{s.officer_user}' in your system (mật khẩu cán bộ kiểm thử)",
    }
    lines = [
        f"# Biến bí mật mà {target_name} cần / every secret variable {target_name} needs.",
        "# Copy to .env, fill each value, never commit the filled file; then: set -a; . ./.env; set +a",
        "# The mock portal accepts the values given here: enter the SAME values in your own system",
        f"# (see {PORTAL_SETTINGS_FILE}). Any random string works for a first run, e.g. `openssl rand -hex 16`.",
    ]
    for name in s.secrets:
        lines += [f"# {what[name]}", f"{name}="]
    return "\n".join(lines) + "\n"


def render_portal_settings(s: InitSettings) -> str:
    from schemas import load_profile

    prof = load_profile("dvcqg-1.0")
    sso, pay, adapter = prof["sso"]["paths"], prof["payment"]["paths"], prof["adapter"]["paths"]
    p, j = s.portal_url, s.journey
    officer = (f"- Tài khoản cán bộ kiểm thử / test officer account: `{s.officer_user}`, mật khẩu = `${OFFICER_PASSWORD}`"
               if s.officer_mode == "automated" else
               "- officer.mode is manual: a person of your back office processes each dossier while the suite waits")
    return f"""\
# Cấu hình phía hệ thống của bạn / settings to enter in your own system

`kiemthu run` starts a mock of the National Public Service Portal at **{p}** and checks that your system
({s.base_url}) talks to it as it would to Cổng DVCQG. Enter these values in your system before the run
(the secrets are the values you put in `.env`, see `{ENV_FILE}`). `kiemthu run` does not start your system.

## Địa chỉ Cổng / portal address
- Cổng DVCQG (base URL): `{p}`

## Đăng nhập một lần (SSO, OpenID Connect)
- Authorization endpoint: `{p}{sso["authorize"]}`
- Token endpoint: `{p}{sso["token"]}` · Userinfo: `{p}{sso["userinfo"]}` · JWKS: `{p}{sso["jwks"]}`
- Logout: `{p}{sso["logout"]}` · Discovery: `{p}{sso["discovery"]}`
- client_id: `{s.client_id}` · client_secret = `${SSO_SECRET}`
- Redirect URI (callback): `{s.url(j.sso_callback_path)}`
- Post-logout redirect URI: `{s.url("/")}`

## Thanh toán trực tuyến (nền tảng thanh toán)
- Khởi tạo giao dịch / init: `{p}{pay["init"]}` · Truy vấn / query: `{p}{pay["query"]}`
- Mã đối tác (MaDoiTac): `{s.payment_partner}` · khóa bí mật = `${PAYMENT_SECRET}`
- Return URL (the citizen comes back here): `{s.url(j.payment_return_path)}`
- IPN URL (the portal calls it, server to server): `{s.url(j.payment_ipn_path)}`

## Đồng bộ hồ sơ (adapter)
- Auth: `{p}{adapter["auth"]}` · Integration: `{p}{adapter["integration"]}` · Share: `{p}{adapter["share"]}`
- Tài khoản / account: `{s.adapter_user}`, mật khẩu = `${ADAPTER_PASSWORD}`, dstcode (mã cơ quan): `{s.agency_code}`

## Kiểm thử phía cán bộ / back office
{officer}

A system on another machine must reach the portal address above: see docs/guides/remote-system.md.
"""


# ---- writing -----------------------------------------------------------------------------------------------------

def planned_files(s: InitSettings, target: Path) -> list[Path]:
    """What `write_project` writes (sample files aside: copies that are never edited)."""
    folder = target.parent
    return [target, *(folder / scenario_name(code) for code in s.services), folder / ENV_FILE,
            folder / PORTAL_SETTINGS_FILE]


def write_project(s: InitSettings, target: Path, *, force: bool = False) -> list[Path]:
    """Write the target, its scenarios, .env.example and portal-settings.md; the paths written.
    Refuses (InitError) to overwrite without `force`, and checks the target it wrote against the schema."""
    check_settings(s)
    existing = [str(p) for p in planned_files(s, target) if p.exists()]
    if existing and not force:
        raise InitError(f"{', '.join(existing)}: rule 'no overwrite' — already exists (đã tồn tại); "
                        "use --force to overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    names = write_scenarios(s, target.parent)
    recorded = recorded_steps(s, target.parent / names[0])
    text = align_comments(render_target(s, names, recorded))
    check_rendered(target, text)
    target.write_text(text, encoding="utf-8")
    (target.parent / ENV_FILE).write_text(render_env_example(s, target.name), encoding="utf-8")
    (target.parent / PORTAL_SETTINGS_FILE).write_text(render_portal_settings(s), encoding="utf-8")
    return [target, *(target.parent / n for n in names), target.parent / ENV_FILE, target.parent / PORTAL_SETTINGS_FILE]


def recorded_steps(s: InitSettings, scenario_file: Path) -> list[dict[str, Any]] | None:
    """The submit flow converted from `s.recording`, joined to the first service's fields and documents."""
    if not s.recording:
        return None
    from kiemthu.recording import RecordingError, convert_codegen
    from scenarios import load_scenario

    path = Path(s.recording)
    try:
        converted = convert_codegen(path.read_text(encoding="utf-8"), load_scenario(scenario_file), name=str(path),
                                    base_url=s.base_url)
    except RecordingError as exc:
        raise InitError(str(exc)) from None
    s.skipped_from_recording = converted.skipped
    return converted.steps


def check_rendered(target: Path, text: str) -> None:
    """The target about to be written is valid (an answer the checks let through, a label breaking the YAML...)."""
    from kiemthu.target import TargetError, parse_yaml, validate_target

    try:
        problems = validate_target(parse_yaml(target, text), str(target))
    except TargetError as exc:
        problems = exc.problems
    if problems:
        raise InitError(TargetError(str(target), problems).render())


COMMENT_COLUMN = 48
TRAILING_COMMENT = re.compile(r"^(.*?\S)\s{2,}(# .*)$")


def align_comments(text: str) -> str:
    """Trailing comments lined up in one column (the values before them have the user's lengths)."""
    out = []
    for line in text.splitlines():
        m = TRAILING_COMMENT.match(line)
        out.append(f"{m.group(1):<{COMMENT_COLUMN - 1}} {m.group(2)}" if m else line)
    return "\n".join(out) + "\n"


# ---- questions ---------------------------------------------------------------------------------------------------

QUESTIONS: list[tuple[str, str]] = [
    ("base_url", "Địa chỉ hệ thống của bạn (system URL)"),
    ("agency_code", "Mã định danh cơ quan (agency code, e.g. 000.00.00.G15)"),
    ("agency_name", "Tên cơ quan (agency name)"),
    ("services", "Mã thủ tục (MaTTHC) các dịch vụ cần kiểm thử, cách nhau bởi dấu phẩy"),
    ("portal_url", "Địa chỉ Cổng DVCQG giả lập mà hệ thống của bạn sẽ gọi (mock portal URL)"),
    ("client_id", "client_id SSO đã cấu hình trong hệ thống của bạn"),
    ("payment_partner", "Mã đối tác thanh toán (MaDoiTac)"),
    ("adapter_user", "Tài khoản đồng bộ hồ sơ (adapter username)"),
    ("officer_mode", "Bước của cán bộ: automated (bộ kiểm thử tự làm) hay manual (chờ người làm)"),
    ("officer_user", "Tài khoản cán bộ kiểm thử trong hệ thống của bạn"),
    ("publication_date", "Ngày công khai dịch vụ để kiểm thử (YYYY-MM-DD)"),
    ("tester", "Họ tên người kiểm thử"),
]
JOURNEY_QUESTIONS: list[tuple[str, str]] = [
    ("deep_link_path", "Đường dẫn trang nộp hồ sơ mà Cổng liên kết tới (deep link path)"),
    ("greeting", "Dòng chữ hiện ra khi công dân đã đăng nhập"),
    ("form_heading", "Tiêu đề của biểu mẫu dịch vụ"),
    ("next_button", "Nút chuyển sang bước thành phần hồ sơ"),
    ("documents_heading", "Tiêu đề bước thành phần hồ sơ"),
    ("pledge_checkbox", "Ô cam đoan trước khi nộp"),
    ("submit_button", "Nút nộp hồ sơ"),
    ("dossier_code_css", "Phần tử (CSS) hiển thị mã hồ sơ sau khi nộp"),
    ("pay_link", "Liên kết thanh toán trực tuyến"),
    ("logout_button", "Nút đăng xuất"),
    ("officer_login_path", "Đường dẫn trang đăng nhập cán bộ"),
    ("officer_dossiers_path", "Đường dẫn danh sách hồ sơ của cán bộ"),
]


def ask_settings(ask: Callable[[str, str], str], given: dict[str, Any]) -> InitSettings:
    """Ask each question whose answer was not given as a flag; `ask(question, default)` returns the answer."""
    defaults = {"portal_url": "http://127.0.0.1:8800", "officer_mode": "automated", "officer_user": "canbo",
                "publication_date": today(), "base_url": "https://motcua.example.gov.vn", "agency_code": "",
                "agency_name": "", "services": "", "client_id": "", "payment_partner": "", "adapter_user": "",
                "tester": ""}
    answers: dict[str, Any] = {}
    for key, question in QUESTIONS:
        if given.get(key):
            answers[key] = given[key]
            continue
        if key in ("client_id", "payment_partner", "adapter_user"):
            defaults[key] = getattr(InitSettings("http://x", answers.get("agency_code", ""), ["1.000000"]), key)
        while True:
            value = ask(question, defaults[key]).strip()
            answers[key] = [c.strip() for c in value.split(",") if c.strip()] if key == "services" else value
            try:
                check_one(key, answers[key])
                break
            except InitError as exc:
                ask_error(ask, str(exc))
    journey = Journey()
    for key, question in JOURNEY_QUESTIONS:
        setattr(journey, key, ask(question, getattr(journey, key)).strip() or getattr(journey, key))
    return InitSettings(**answers, journey=journey)


def ask_error(ask: Callable, message: str) -> None:
    sink = getattr(ask, "error", None)
    if sink:
        sink(message)


def check_one(key: str, value: Any) -> None:
    """The check of one answer, so a wrong one is asked again at once."""
    probe = InitSettings("http://127.0.0.1", "000.00.00.G15", ["1.000000"])
    setattr(probe, key, value)
    check_settings(probe)


