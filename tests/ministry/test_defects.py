"""Each seeded defect changes only the behaviour it names.

One standard journey (SSO probes, submission with a Kho DL document, payment with hostile callbacks, officer
processing through a short portal outage, security probes) is reduced to a trace of observations. With no
defect the trace is the correct behaviour; with one defect on, exactly the observations it names differ.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from examples.ministry.defects import CATALOGUE, CHECKS
from examples.ministry.payment import INIT_FIELDS, checksum
from examples.ministry.timeutil import VN_TZ
from tests.ministry.fakeportal import IDENTITY, PORTAL, query_of, rsa_key

CODE_RX = re.compile(r"^000\.00\.00\.G15-\d{6}-\d{4}$")
PAYMENT = {"payment_link", "init_accepted", "init_amount", "init_checksum_ok", "init_time_24h", "init_ref_is_code",
           "ipn_bad_checksum", "ipn_wrong_amount", "new_ref_after_wrong_amount", "payment_syncs", "paid_shown", "portal_statuses"}

# defect -> observations it is allowed (and expected) to change
CHANGES: dict[str, set[str]] = {
    "sso-state-not-verified": {"sso_tampered_state"},
    "id-token-signature-not-verified": {"sso_forged_signature"},
    "id-token-issuer-not-verified": {"sso_wrong_issuer"},
    "id-token-audience-not-verified": {"sso_wrong_audience"},
    "id-token-nonce-not-verified": {"sso_wrong_nonce", "authorize_has_nonce"},
    "id-token-expiry-not-verified": {"sso_expired"},
    "asks-second-login": {"after_sso"},
    "logout-not-propagated": {"logout"},
    "missing-required-document": {"form_documents", "synced_documents"},
    "extra-document-demanded": {"form_documents", "synced_documents"},
    "dossier-code-random-suffix": {"code_format_ok", "schema_errors"},
    "wrong-kenh-thuc-hien": {"kenh"},
    "wrong-ma-doi-tuong": {"ma_doi_tuong_is_techid"},
    "dates-wrong-timezone": {"sync_dates_vn"},
    "khodl-reuse-not-marked": {"khodl_flags"},
    "fee-mismatch": {"init_amount", "fee_items"},
    "payment-checksum-wrong": {"init_checksum_ok", "init_accepted"},
    "thoigiangd-12h-clock": {"init_time_24h"},
    "payment-ref-truncated": {"init_ref_is_code", "new_ref_after_wrong_amount"},
    # a callback wrongly taken as payment leaves nothing to retry
    "ipn-checksum-not-verified": {"ipn_bad_checksum", "new_ref_after_wrong_amount"},
    "ipn-amount-not-checked": {"ipn_wrong_amount", "new_ref_after_wrong_amount"},
    "duplicate-ipn-processed": {"payment_syncs", "portal_statuses"},
    "no-online-payment": PAYMENT | {"fee_items"},
    "payment-status-not-synced": {"payment_syncs", "portal_statuses"},
    "status-out-of-range": {"portal_statuses", "schema_errors"},
    "status-skipped": {"portal_statuses"},
    "status-out-of-order": {"portal_statuses"},
    "progress-before-dossier": {"first_sync"},
    "result-without-file-link": {"result_link", "schema_errors"},
    "result-without-type-code": {"result_code"},
    "outbox-no-retry": {"portal_statuses", "outbox_failed"},
    "upload-type-not-checked": {"bad_upload_accepted"},
    "officer-pages-unauthenticated": {"officer_list_anonymous"},
    "session-cookie-not-httponly": {"cookie_httponly"},
}


def sso_probe(m, *, state: str | None = None, claims: dict | None = None, forged: bool = False) -> bool:
    """Does a login with one thing wrong create a session?"""
    client = TestClient(m.app)
    r = client.get(m.deep_link("khai-sinh"), follow_redirects=False)
    code, real_state = m.portal.issue_code(r.headers["location"])
    m.portal.token_claims = claims or {}
    m.portal.sign_with = rsa_key("attacker") if forged else None
    try:
        cb = client.get(f"/sso/callback?code={code}&state={state or real_state}", follow_redirects=False)
    finally:
        m.portal.token_claims, m.portal.sign_with = {}, None
    created = "btp_phien" in cb.cookies
    assert created == (cb.status_code == 303)
    if not created:
        assert "Đăng nhập không thành công" in cb.text
    return created


def trace(m) -> dict:
    t: dict = {}
    ctx = m.ctx
    today = datetime.now(VN_TZ).date()
    ctx.clock.fixed = datetime(today.year, today.month, today.day, 15, 30, 5, tzinfo=VN_TZ)

    # --- SSO ---------------------------------------------------------------------------------------
    now = int(datetime.now().timestamp())
    t["sso_tampered_state"] = sso_probe(m, state="trang-thai-gia-mao")
    t["sso_forged_signature"] = sso_probe(m, forged=True)
    t["sso_wrong_issuer"] = sso_probe(m, claims={"iss": "http://evil.test/oauth2/token"})
    t["sso_wrong_audience"] = sso_probe(m, claims={"aud": "client-khac"})
    t["sso_wrong_nonce"] = sso_probe(m, claims={"nonce": "nonce-khac"})
    t["sso_expired"] = sso_probe(m, claims={"exp": now - 3600, "iat": now - 7200})
    authorize = m.start_login(m.deep_link("lltp-cap-phieu"))
    t["authorize_has_nonce"] = "nonce" in query_of(authorize)
    code, state = m.portal.issue_code(authorize)
    cb = m.client.get(f"/sso/callback?code={code}&state={state}", follow_redirects=False)
    t["after_sso"] = cb.headers["location"].split("?")[0]
    t["cookie_httponly"] = "httponly" in cb.headers["set-cookie"].lower()
    if t["after_sso"] == "/dang-nhap":
        m.client.post("/dang-nhap", data={"ten_dang_nhap": "a", "mat_khau": "b", "next": "/"})

    # --- submission (lltp, ID card reused from Kho DL) -----------------------------------------------------
    r = m.step1("lltp-cap-phieu")
    draft = query_of(r.headers["location"])["ho_so_nhap"]
    page = m.client.get(f"/dvc/nop-ho-so/buoc-2?ho_so_nhap={draft}").text
    t["form_documents"] = re.findall(r'name="tp_([^"]+)"', page)
    files = m.all_files("lltp-cap-phieu")
    files.pop("tp_TP-LLTP-02", None)
    r = m.step2(draft, files, data={"khodl_TP-LLTP-02": "1"})
    assert r.status_code == 303, r.text
    dossier = r.headers["location"].rsplit("/", 1)[1]
    t["code_format_ok"] = bool(CODE_RX.match(dossier))
    m.drain()
    first = next(c for c in m.portal.calls if any(i["MaHoSo"] == dossier for i in c.body.get("data", [])))
    t["first_sync"] = first.service
    item = next(c for c in m.portal.sent("DongBoHoSoMC"))
    item = item.body["data"][0]
    t["kenh"] = item["KenhThucHien"]
    t["ma_doi_tuong_is_techid"] = item["MaDoiTuong"] == IDENTITY["TechID"]
    t["sync_dates_vn"] = item["NgayNopHoSo"] == ctx.clock.fixed.strftime("%Y%m%d%H%M%S")
    t["synced_documents"] = [d["MaThanhPhanHoSo"] for d in item["TaiLieuNop"]]
    kho = [d for d in item["TaiLieuNop"] if d["MaThanhPhanHoSo"] == "TP-LLTP-02"]
    t["khodl_flags"] = (kho[0]["DuocLayTuKhoDMQG"], kho[0]["MaKetQuaThayThe"]) if kho else None
    t["fee_items"] = [(f["MaPhiLePhi"], f["Gia"]) for f in item["DanhSachLePhi"]]

    # --- payment -------------------------------------------------------------------------------------------
    receipt = m.client.get(f"/ho-so/{dossier}").text
    t["payment_link"] = 'target="_blank"' in receipt and "Thanh toán trực tuyến" in receipt
    r = m.client.get(f"/thanh-toan/khoi-tao/{dossier}", follow_redirects=False)
    t["init_accepted"] = r.status_code == 303 and r.headers["location"].startswith(PORTAL)
    inits = [i for i in m.portal.inits.values() if i["ThongTinBienLai"]["MaHoSo"] == dossier]
    if inits:
        init = inits[-1]
        ref = init["MaThamChieu"]
        t["init_amount"] = init["SoTien"]
        t["init_checksum_ok"] = init["MaXacThuc"] == checksum(init, INIT_FIELDS, m.portal.payment_secret)
        t["init_time_24h"] = init["ThoiGianGD"][8:10] == "15"
        t["init_ref_is_code"] = ref == dossier
        bad = m.portal.callback(ref, secret="sai-bi-mat")
        t["ipn_bad_checksum"] = m.ipn(bad)["MaLoi"]
        t["ipn_wrong_amount"] = m.ipn(m.portal.callback(ref, amount=1000))["MaLoi"]
        # the platform closed that reference with a wrong amount: the citizen's next try opens a new one
        m.client.get(f"/thanh-toan/khoi-tao/{dossier}", follow_redirects=False)
        retry = [i for i in m.portal.inits.values() if i["ThongTinBienLai"]["MaHoSo"] == dossier][-1]
        t["new_ref_after_wrong_amount"] = retry["MaThamChieu"] != ref
        ref = retry["MaThamChieu"]
        good = m.portal.callback(ref)
        assert m.ipn(good)["MaLoi"] == "00"
        assert m.ipn(good)["MaLoi"] == "00"      # a repeat is acknowledged
    m.drain()
    t["payment_syncs"] = sum(1 for c in m.portal.sent("CapNhatTienDoHoSoMC") for i in c.body["data"]
                             if "thanh toán" in i["NoiDungXuLy"])
    t["paid_shown"] = "Đã thanh toán" in m.client.get("/ho-so-cua-toi").text

    # --- processing, with the portal down for two steps ---------------------------------------------------------
    m.officer_login()
    m.act(dossier, "tiep-nhan")
    m.drain()
    m.portal.outage = True
    m.act(dossier, "xu-ly")
    m.act(dossier, "phe-duyet")
    m.drain()
    m.portal.outage = False
    m.act(dossier, "tra-ket-qua")
    m.drain()
    t["portal_statuses"] = m.portal.statuses(dossier)
    t["outbox_failed"] = ctx.db.one("SELECT COUNT(*) AS n FROM outbox WHERE status='failed'")["n"] > 0
    results = [r for c in m.portal.sent("DongBoHoSoMC") for i in c.body["data"]
               for r in i["DanhSachGiayToKetQua"]]
    t["result_link"] = bool(results and results[-1]["DuongDanTepTinKetQua"])
    t["result_code"] = results[-1]["MaGiayToKetQua"] if results else None
    if t["result_link"]:
        pdf = m.client.get(results[-1]["DuongDanTepTinKetQua"].removeprefix("http://testserver"))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # --- security -----------------------------------------------------------------------------------------------
    t["officer_list_anonymous"] = TestClient(m.app).get("/can-bo/ho-so", follow_redirects=False).status_code
    r = m.step1("khai-sinh")
    draft = query_of(r.headers["location"])["ho_so_nhap"]
    files = m.all_files("khai-sinh")
    files["tp_TP-KS-02"] = ("giay-chung-sinh.exe", b"MZ\x90\x00 not a document", "application/octet-stream")
    t["bad_upload_accepted"] = m.step2(draft, files).status_code == 303
    t["schema_errors"] = bool(m.portal.schema_errors)

    # --- logout -------------------------------------------------------------------------------------------------
    r = m.client.post("/dang-xuat", follow_redirects=False)
    location = r.headers["location"]
    t["logout"] = location.startswith(f"{PORTAL}/oidc/logout") and "id_token_hint" in query_of(location)
    return t


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    import respx

    from examples.ministry.app import create_app
    from examples.ministry.config import load_settings
    from examples.ministry.defects import Defects
    from tests.ministry.conftest import Harness
    from tests.ministry.fakeportal import FakePortal

    portal = FakePortal()
    env = {**portal.env(), "MINISTRY_PUBLIC_URL": "http://testserver",
           "MINISTRY_DB": str(tmp_path_factory.mktemp("baseline") / "ministry.db")}
    app = create_app(load_settings(env=env), Defects(), run_worker=False)
    with respx.mock(assert_all_called=False) as router, TestClient(app) as client:
        portal.mount(router)
        return trace(Harness(client, portal, app))


def test_baseline_is_correct(baseline):
    assert baseline == {
        "sso_tampered_state": False, "sso_forged_signature": False, "sso_wrong_issuer": False,
        "sso_wrong_audience": False, "sso_wrong_nonce": False, "sso_expired": False, "authorize_has_nonce": True,
        "after_sso": "/dvc/nop-ho-so", "cookie_httponly": True,
        "form_documents": ["TP-LLTP-01", "TP-LLTP-02"], "synced_documents": ["TP-LLTP-01", "TP-LLTP-02"],
        "code_format_ok": True, "first_sync": "DongBoHoSoMC", "kenh": "2", "ma_doi_tuong_is_techid": True,
        "sync_dates_vn": True, "khodl_flags": ("True", "KQ.G01.000023"), "fee_items": [("LP-LLTP", "200000")],
        "payment_link": True, "init_accepted": True, "init_amount": "200000", "init_checksum_ok": True,
        "init_time_24h": True, "init_ref_is_code": True, "ipn_bad_checksum": "99", "ipn_wrong_amount": "99",
        "new_ref_after_wrong_amount": True, "payment_syncs": 1, "paid_shown": True,
        "portal_statuses": ["1", "1", "2", "4", "9", "10"], "outbox_failed": False,
        "result_link": True, "result_code": "KQ.G15.000007",
        "officer_list_anonymous": 303, "bad_upload_accepted": False, "schema_errors": False, "logout": True,
    }


def test_catalogue_covers_every_defect():
    assert set(CHANGES) == {d.name for d in CATALOGUE}
    assert len(CATALOGUE) >= 24
    assert {d.check for d in CATALOGUE} <= set(CHECKS)


@pytest.mark.parametrize("defect", [d.name for d in CATALOGUE])
def test_defect_changes_only_what_it_names(defect, make_ministry, baseline):
    observed = trace(make_ministry(defect))
    changed = {k for k in baseline if observed.get(k) != baseline[k]}
    assert changed, f"{defect} changed nothing"
    assert changed <= CHANGES[defect], f"{defect} also changed {sorted(changed - CHANGES[defect])}"
