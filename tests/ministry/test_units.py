"""The reference ministry system piece by piece: codes, checksums, outbox, validation, SSO failures, payment edge
cases, officer pages, configuration, logging."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest

from examples.ministry import dossiers, outbox
from examples.ministry.config import load_settings
from examples.ministry.db import Database
from examples.ministry.defects import Defects
from examples.ministry.payment import IPN_FIELDS, checksum, checksum_ok
from examples.ministry.timeutil import VN_TZ, add_working_days, payment_time, sync_date
from tests.ministry.fakeportal import query_of

REQUIRED_DEFECTS = {
    "ipn-checksum-not-verified", "thoigiangd-12h-clock", "dossier-code-random-suffix", "status-out-of-range",
    "progress-before-dossier", "payment-ref-truncated", "outbox-no-retry", "sso-state-not-verified",
    "id-token-signature-not-verified", "id-token-issuer-not-verified", "id-token-audience-not-verified",
    "id-token-nonce-not-verified", "asks-second-login", "missing-required-document", "extra-document-demanded",
    "fee-mismatch", "payment-checksum-wrong", "duplicate-ipn-processed", "status-skipped",
    "result-without-file-link", "result-without-type-code", "wrong-kenh-thuc-hien", "wrong-ma-doi-tuong",
    "dates-wrong-timezone",
}


# --- command line and configuration ---------------------------------------------------------------------
def test_list_defects_json():
    out = subprocess.run([sys.executable, "-m", "examples.ministry", "--list-defects", "--json"],
                         capture_output=True, text=True, check=True).stdout
    catalogue = json.loads(out)
    assert REQUIRED_DEFECTS <= {d["name"] for d in catalogue}
    assert len(catalogue) >= 24
    for d in catalogue:
        assert set(d) == {"name", "check", "rule", "description"}
        assert d["check"] in {"sso", "submission", "payment", "processing", "security"}


def test_unknown_defect_is_refused():
    r = subprocess.run([sys.executable, "-m", "examples.ministry", "--defect", "khong-co", "--port", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "khong-co" in r.stderr


def test_settings_from_file_then_environment(tmp_path):
    conf = tmp_path / "ministry.yaml"
    conf.write_text("portal_url: http://a.test/\nagency_code: 000.00.01.H22\ndefects: [fee-mismatch]\n", "utf-8")
    s = load_settings(conf, env={"MINISTRY_AGENCY_CODE": "000.00.00.G15", "MINISTRY_DB": str(tmp_path / "x.db")})
    assert s.portal_url == "http://a.test" and s.agency_code == "000.00.00.G15" and s.defects == ["fee-mismatch"]
    assert s.issuer == "http://a.test/oauth2/token"
    s = load_settings(env={"MINISTRY_DEFECTS": "a, b", "MINISTRY_DB": str(tmp_path / "x.db")})
    assert s.defects == ["a", "b"]
    conf.write_text("khong_biet: 1\n", "utf-8")
    with pytest.raises(ValueError, match="khong_biet"):
        load_settings(conf, env={})


# --- codes, dates, checksums ---------------------------------------------------------------------------
def test_dossier_codes_are_unique_and_sequential_under_concurrency(tmp_path):
    db = Database(tmp_path / "codes.db")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
    codes: list[str] = []
    lock = threading.Lock()

    def take():
        with db.transaction() as conn:
            code = dossiers.allocate_code(conn, "000.00.00.G15", now, Defects())
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=take) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [f"000.00.00.G15-260302-{i:04d}" for i in range(1, 25)]
    with db.transaction() as conn:
        assert dossiers.allocate_code(conn, "000.00.00.G15", now.replace(day=3), Defects()).endswith("-260303-0001")


def test_working_days_skip_weekends_and_tet():
    friday_before_tet = datetime(2026, 2, 13, 10, 0, tzinfo=VN_TZ)
    assert add_working_days(friday_before_tet, 1).date().isoformat() == "2026-02-23"


def test_dates_are_vietnam_time_24h():
    afternoon = datetime(2026, 5, 4, 15, 7, 9, tzinfo=VN_TZ)
    assert sync_date(afternoon, Defects()) == "20260504150709"
    assert sync_date(afternoon.isoformat(), Defects()) == "20260504150709"
    assert sync_date(None, Defects()) == ""
    assert payment_time(afternoon, Defects()) == "20260504150709"
    assert payment_time(afternoon, Defects(["thoigiangd-12h-clock"])) == "20260504030709"
    assert sync_date(afternoon, Defects(["dates-wrong-timezone"])) == "20260504080709"


def test_checksum_is_sha256_of_fields_then_secret():
    msg = {"LoaiBanTin": "IPN", "MaLoi": "00", "SoTien": 200000}
    expected = hashlib.sha256("IPN|00|200000|bi-mat".encode()).hexdigest()
    assert checksum(msg, ["LoaiBanTin", "MaLoi", "SoTien"], "bi-mat") == expected
    full = {f: "x" for f in IPN_FIELDS}
    full["MaXacThuc"] = checksum(full, IPN_FIELDS, "s").upper()
    assert checksum_ok(full, IPN_FIELDS, "s")
    assert not checksum_ok({**full, "SoTien": "y"}, IPN_FIELDS, "s")


# --- outbox ----------------------------------------------------------------------------------------------
def test_progress_is_batched_by_ten_and_waits_for_its_dossier(ministry):
    m = ministry
    code = m.submit("khai-sinh")
    with m.ctx.db.transaction() as conn:
        for i in range(11):
            item = {"MaHoSo": code, "NguoiXuLy": "A", "ThoiDiemXuLy": "20260101000000", "NoiDungXuLy": f"b{i}"}
            outbox.enqueue(conn, code, outbox.PROGRESS, {"data": [item]}, f"b{i}")
    m.drain()
    progress = m.portal.sent("CapNhatTienDoHoSoMC")
    assert m.portal.calls[0].service == "DongBoHoSoMC"
    assert [len(c.body["data"]) for c in progress] == [10, 2]
    texts = [i["NoiDungXuLy"] for c in progress for i in c.body["data"]]
    assert texts == ["Nộp hồ sơ trực tuyến"] + [f"b{i}" for i in range(11)]


def test_transient_failures_retry_until_delivered_in_order(ministry):
    m = ministry
    code = m.submit("khai-sinh")
    m.portal.outage = True
    m.drain()
    row = m.ctx.db.one("SELECT attempts, status, next_attempt_at FROM outbox ORDER BY id LIMIT 1")
    assert row["status"] == "pending" and row["attempts"] >= 1
    m.officer_login()
    m.act(code, "tiep-nhan")
    m.drain()
    assert m.portal.sent() == []
    m.portal.outage = False
    m.drain()
    assert m.portal.statuses(code) == ["1", "2"]
    assert [c.service for c in m.portal.sent()] == ["DongBoHoSoMC", "CapNhatTienDoHoSoMC"] * 2
    assert m.client.get("/van-hanh/outbox.json").json()["counts"] == {"pending": 0, "sent": 4, "failed": 0}
    assert "Đã gửi" in m.client.get("/van-hanh/outbox").text


def test_business_rejection_is_retried_a_few_times_then_marked_failed(ministry):
    m = ministry
    code = m.submit("khai-sinh")
    m.drain()
    m.portal.known.pop(code)        # the portal "forgets" the dossier: progress is rejected (422)
    with m.ctx.db.transaction() as conn:
        item = {"MaHoSo": code, "NguoiXuLy": "A", "ThoiDiemXuLy": "20260101000000", "NoiDungXuLy": "x"}
        outbox.enqueue(conn, code, outbox.PROGRESS, {"data": [item]}, "x")
    box = outbox.Outbox(m.ctx)
    for _ in range(m.ctx.settings.outbox_business_retries + 2):
        box.deliver_ready(now=time.time() + 3600)
    row = m.ctx.db.one("SELECT * FROM outbox ORDER BY id DESC LIMIT 1")
    assert row["status"] == "failed" and row["attempts"] == m.ctx.settings.outbox_business_retries


# --- submission ------------------------------------------------------------------------------------------
def test_step1_requires_every_field(ministry):
    m = ministry
    m.login("lltp-cap-phieu")
    r = m.step1("lltp-cap-phieu", {"MucDich": "", "SoLuongBan": " "})
    assert r.status_code == 400
    assert "Vui lòng nhập “Mục đích sử dụng Phiếu”." in r.text and "Vui lòng nhập “Số lượng bản”." in r.text


def test_deep_link_prefills_identity_fields(ministry):
    m = ministry
    r = m.login("lltp-cap-phieu")
    page = m.client.get(r.headers["location"]).text
    assert "Bước 1: Thông tin người nộp" in page and "Xin chào, Nguyễn Văn An" in page
    assert 'value="001090001234"' in page and 'value="Nguyễn Văn An"' in page


@pytest.mark.parametrize("upload, message", [
    (("to-khai.exe", b"MZ....", "application/octet-stream"), "chỉ chấp nhận tệp PDF, JPG hoặc PNG"),
    (("to-khai.pdf", b"<html>not a pdf</html>", "application/pdf"), "chỉ chấp nhận tệp PDF, JPG hoặc PNG"),
    (("to-khai.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024), "application/pdf"), "vượt quá dung lượng cho phép (tối đa 5 MB)"),
])
def test_step2_checks_file_type_and_size(ministry, upload, message):
    m = ministry
    m.login("khai-sinh")
    draft = query_of(m.step1("khai-sinh").headers["location"])["ho_so_nhap"]
    files = m.all_files("khai-sinh")
    files["tp_TP-KS-01"] = upload
    r = m.step2(draft, files)
    assert r.status_code == 400 and message in r.text
    assert m.ctx.db.one("SELECT COUNT(*) AS n FROM dossiers")["n"] == 0


def test_step2_requires_documents_and_consent(ministry):
    m = ministry
    m.login("khai-sinh")
    draft = query_of(m.step1("khai-sinh").headers["location"])["ho_so_nhap"]
    r = m.step2(draft, {}, consent=False)
    assert r.status_code == 400
    assert "Vui lòng đính kèm “Tờ khai đăng ký khai sinh”." in r.text
    assert "Vui lòng đính kèm “Giấy chứng sinh”." in r.text
    assert "Vui lòng đánh dấu “Tôi xin cam đoan những thông tin khai trên là đúng sự thật”." in r.text


def test_step2_labels_and_khodl_checkbox(ministry):
    m = ministry
    m.login("lltp-cap-phieu")
    draft = query_of(m.step1("lltp-cap-phieu").headers["location"])["ho_so_nhap"]
    page = m.client.get(f"/dvc/nop-ho-so/buoc-2?ho_so_nhap={draft}").text
    assert ">Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp</label>" in page
    assert ">Bản chụp Căn cước công dân</label>" in page
    assert ">Lấy từ Kho dữ liệu: Bản chụp Căn cước công dân</label>" in page
    assert page.count("Lấy từ Kho dữ liệu:") == 1


def test_receipt_of_a_free_service_offers_no_payment(ministry):
    m = ministry
    code = m.submit("ket-hon")
    page = m.client.get(f"/ho-so/{code}").text
    assert f'Mã số hồ sơ: <strong id="ma-ho-so">{code}</strong>' in page
    assert "Đăng ký kết hôn trực tuyến" in page and "Thanh toán trực tuyến" not in page
    assert "Không thu phí" in m.client.get("/ho-so-cua-toi").text


# --- SSO failures ----------------------------------------------------------------------------------------
def test_portal_error_and_replayed_state_show_failure_without_session(ministry):
    m = ministry
    authorize = m.start_login(m.deep_link("khai-sinh"))
    state = query_of(authorize)["state"]
    r = m.client.get(f"/sso/callback?error=access_denied&state={state}")
    assert r.status_code == 401 and "Đăng nhập không thành công" in r.text
    assert "btp_phien" not in m.client.cookies
    code, state = m.portal.issue_code(m.start_login(m.deep_link("khai-sinh")))
    assert m.client.get(f"/sso/callback?code={code}&state={state}", follow_redirects=False).status_code == 303
    m.client.cookies.set("btp_sso", state)
    code2, _ = m.portal.issue_code(authorize)
    r = m.client.get(f"/sso/callback?code={code2}&state={state}")
    assert r.status_code == 401 and "đã dùng" in r.text


def test_step_up_when_a_service_needs_a_higher_level(ministry):
    m = ministry
    authorize = m.start_login("/ho-so-cua-toi")
    assert query_of(authorize)["acr_values"] == "LoA1"
    code, state = m.portal.issue_code(authorize)
    assert m.client.get(f"/sso/callback?code={code}&state={state}", follow_redirects=False).status_code == 303
    again = m.client.get(m.deep_link("lltp-cap-phieu"), follow_redirects=False)
    assert again.status_code == 303 and query_of(again.headers["location"])["acr_values"] == "LoA2"
    code, state = m.portal.issue_code(again.headers["location"])
    m.portal.token_claims = {"acr": "LoA1"}       # the portal could not raise the level
    r = m.client.get(f"/sso/callback?code={code}&state={state}")
    assert r.status_code == 401 and "mức độ xác thực LoA2" in r.text


def test_logout_ends_session_and_goes_to_portal(ministry):
    m = ministry
    m.login("khai-sinh")
    r = m.client.post("/dang-xuat", follow_redirects=False)
    q = query_of(r.headers["location"])
    assert r.headers["location"].startswith("http://portal.test/oidc/logout?")
    assert q["post_logout_redirect_uri"] == "http://testserver/" and q["id_token_hint"].count(".") == 2
    assert m.client.get("/ho-so-cua-toi", follow_redirects=False).headers["location"].startswith("http://portal.test")


# --- payment ---------------------------------------------------------------------------------------------
def test_ipn_unknown_reference_and_failed_payment(ministry):
    m = ministry
    code = m.submit("lltp-cap-phieu")
    ref = m.start_payment(code)
    unknown = m.portal.callback(ref)
    unknown["MaThamChieu"] = "KHONG-CO"
    unknown["MaXacThuc"] = checksum(unknown, IPN_FIELDS, m.portal.payment_secret)
    assert m.ipn(unknown)["MaLoi"] == "99"
    assert m.ipn(m.portal.callback(ref, ma_loi="24"))["MaLoi"] == "00"
    assert m.ctx.db.one("SELECT status FROM payments WHERE ref=?", ref)["status"] == "failed"
    r = m.client.get("/thanh-toan/ket-qua", params=m.portal.callback(ref, ma_loi="24"))
    assert "Thanh toán không thành công" in r.text
    assert "Chưa thanh toán" in m.client.get("/ho-so-cua-toi").text


def test_init_message_carries_fee_reference_and_receipt(ministry):
    m = ministry
    code = m.submit("lltp-cap-phieu")
    init = m.portal.inits[m.start_payment(code)]
    assert init["SoTien"] == "200000" and init["MaThamChieu"] == code
    assert init["ThongTinBienLai"]["MaHoSo"] == code
    assert init["ThongTinBienLai"]["PhiLePhi"] == [
        {"LoaiPhiLePhi": "2", "MaPhiLePhi": "LP-LLTP", "TenPhiLePhi": "Lệ phí cấp Phiếu lý lịch tư pháp",
         "SoTien": "200000"}]
    assert not m.portal.schema_errors


def test_late_ipn_is_replaced_by_query(ministry):
    m = ministry
    code = m.submit("lltp-cap-phieu")
    ref = m.start_payment(code)
    m.portal.query_paid = True
    r = m.client.get("/thanh-toan/ket-qua", params=m.portal.callback(ref))
    assert "Thanh toán thành công" in r.text
    m.drain()
    assert any("thanh toán" in i["NoiDungXuLy"] for c in m.portal.sent("CapNhatTienDoHoSoMC") for i in c.body["data"])
    assert m.ipn(m.portal.callback(ref))["MaLoi"] == "00"      # the IPN arriving afterwards changes nothing
    m.drain()
    assert sum("thanh toán" in i["NoiDungXuLy"] for c in m.portal.sent("CapNhatTienDoHoSoMC")
               for i in c.body["data"]) == 1


def test_return_page_rejects_a_forged_success(ministry):
    m = ministry
    code = m.submit("lltp-cap-phieu")
    ref = m.start_payment(code)
    r = m.client.get("/thanh-toan/ket-qua", params=m.portal.callback(ref, secret="gia-mao"))
    assert "Thanh toán không thành công" in r.text and "sai mã xác thực" in r.text
    assert m.ctx.db.one("SELECT paid FROM dossiers WHERE code=?", code)["paid"] == 0


# --- officer ---------------------------------------------------------------------------------------------
def test_officer_pages_need_login_and_show_only_valid_actions(ministry):
    m = ministry
    code = m.submit("khai-sinh")
    assert m.client.get("/can-bo/ho-so", follow_redirects=False).headers["location"] == "/can-bo/dang-nhap"
    r = m.client.post("/can-bo/dang-nhap", data={"ten_dang_nhap": "canbo", "mat_khau": "sai"})
    assert r.status_code == 401 and "không đúng" in r.text
    m.officer_login()
    page = m.client.get("/can-bo/ho-so").text
    row = page[page.index(f"<td>{code}</td>"):]
    row = row[:row.index("</tr>")]
    assert ">Tiếp nhận</button>" in row and ">Phê duyệt</button>" not in row and ">Trả kết quả</button>" not in row
    r = m.client.post(f"/can-bo/ho-so/{code}/phe-duyet", follow_redirects=True)
    assert "Không thể" in r.text
    m.process(code)
    page = m.client.get("/can-bo/ho-so").text
    row = page[page.index(f"<td>{code}</td>"):]
    assert "<button" not in row[:row.index("</tr>")]


def test_result_pdf_carries_the_result_type_code(ministry):
    from pypdf import PdfReader

    m = ministry
    code = m.submit("khai-sinh")
    m.officer_login()
    m.process(code, through="phe-duyet")
    path = m.ctx.db.one("SELECT result_path FROM dossiers WHERE code=?", code)["result_path"]
    text = PdfReader(path).pages[0].extract_text()
    assert "KQ.G15.000031" in text and code in text and "GIẤY KHAI SINH" in text


# --- logging ---------------------------------------------------------------------------------------------
def test_no_secret_reaches_the_logs(ministry, caplog):
    m = ministry
    caplog.set_level(logging.DEBUG)
    code = m.submit("lltp-cap-phieu")
    ref = m.start_payment(code)
    m.ipn(m.portal.callback(ref, secret="sai"))
    m.ipn(m.portal.callback(ref))
    m.portal.outage = True
    m.drain()
    m.portal.outage = False
    m.drain()
    text = caplog.text
    for secret in (m.portal.client_secret, m.portal.payment_secret, m.portal.adapter_password, "officer-secret-test"):
        assert secret not in text
    assert "eyJ" not in text     # no token either


def test_second_click_on_pay_reuses_the_open_payment(ministry):
    m = ministry
    code = m.submit("lltp-cap-phieu")
    first = m.start_payment(code)
    assert m.start_payment(code) == first
    m.ipn(m.portal.callback(first, ma_loi="24"))          # that attempt failed: the next click is a new one
    assert m.start_payment(code) == f"{code}-02"


def test_double_submit_creates_one_dossier(ministry):
    m = ministry
    m.login("khai-sinh")
    draft = query_of(m.step1("khai-sinh").headers["location"])["ho_so_nhap"]
    assert m.step2(draft, m.all_files("khai-sinh")).headers["location"].startswith("/ho-so/")
    assert m.step2(draft, m.all_files("khai-sinh")).status_code in (303, 404)
    assert m.ctx.db.one("SELECT COUNT(*) AS n FROM dossiers")["n"] == 1


def test_overdue_payment_is_queried_in_the_background(ministry):
    from examples.ministry import billing

    m = ministry
    code = m.submit("lltp-cap-phieu")
    ref = m.start_payment(code)
    m.portal.query_paid = True
    billing.query_late_payments(m.ctx)              # not overdue yet: nothing asked
    assert m.ctx.db.one("SELECT status FROM payments WHERE ref=?", ref)["status"] == "initiated"
    m.ctx.db.run("UPDATE payments SET created_at = created_at - 3600 WHERE ref=?", ref)
    billing.query_late_payments(m.ctx)
    assert m.ctx.db.one("SELECT status FROM payments WHERE ref=?", ref)["status"] == "paid"
