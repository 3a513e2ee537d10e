"""Payment platform: checksum vectors computed here (hashlib, the field order of docs/domain/), the payment page, IPN
with retries and adversarial variants, QUERY, GET_BILL and reconciliation."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader

from kiemthu.runtime import wait_until
from tests.mocks.conftest import PARTNER, PAY_SECRET
from tests.mocks.helpers import (IPN_ORDER, dossier_code, init_message, now_vn, query_message, sha256_fields,
                                 stamp)


def test_checksum_vector_by_hand():
    # INIT checksum exactly as docs/domain/ writes it, independent of any helper
    fields = ["INIT", "1.0.6", "BTP", "REF-1", "200000", "PAY", "1", "1", "vi-VN", "VND", "", "Le phi", "20250101101010",
              "127.0.0.1"]
    expected = hashlib.sha256(("|".join(fields) + "|" + PAY_SECRET).encode()).hexdigest()
    msg = dict(zip(["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan", "MaKenhThanhToan",
                    "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip"], fields))
    from mocks.payment import checksum
    from schemas import load_profile
    assert checksum(load_profile()["payment"]["checksum"]["INIT"], msg, PAY_SECRET) == expected


def test_init_accepts_a_correct_checksum(portal):
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-OK", dossier_code(1)))
    assert r.status_code == 200 and r.json()["MaLoi"] == "00"
    assert "/paymentplatform/pay/" in r.json()["UrlThanhToan"]


@pytest.mark.parametrize("field, value", [("SoTien", "100000"), ("MaThamChieu", "REF-OTHER"), ("ThoiGianGD", None),
                                          ("Ip", "10.0.0.1")])
def test_init_rejects_one_changed_field(portal, field, value):
    msg = init_message(PARTNER, PAY_SECRET, "REF-CHG", dossier_code(2))
    msg[field] = value or stamp(-1)
    r = portal.post("/paymentplatform/init", json=msg)
    assert r.status_code == 401 and r.json()["MaLoi"] == "01"
    assert r.json()["loi"][0]["field"] == "MaXacThuc"


def test_init_rejects_a_wrong_secret(portal):
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, "not-the-secret", "REF-SEC", dossier_code(3)))
    assert r.status_code == 401 and r.json()["MaLoi"] == "01"


def test_init_rules(portal):
    # a 12-hour clock writes 15:00 as 03:00: twelve hours off the platform's clock
    msg = init_message(PARTNER, PAY_SECRET, "REF-HH", dossier_code(4), ThoiGianGD=stamp(-12 * 3600))
    r = portal.post("/paymentplatform/init", json=msg)
    assert r.status_code == 422 and r.json()["MaLoi"] == "06"
    r = portal.post("/paymentplatform/init", json=init_message("KHAC", PAY_SECRET, "REF-P", dossier_code(4)))
    assert r.json()["MaLoi"] == "02"
    msg = init_message(PARTNER, PAY_SECRET, "REF-AMT", dossier_code(4))
    msg["ThongTinBienLai"]["PhiLePhi"][0]["SoTien"] = 150000
    assert portal.post("/paymentplatform/init", json=msg).json()["loi"][0]["rule"] == "amount_matches_fees"
    # a reference reused for another dossier (truncated references collide) is refused
    assert portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-DUP", dossier_code(5))).status_code == 200
    assert portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-DUP", dossier_code(5))).status_code == 200
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-DUP", dossier_code(6)))
    assert r.status_code == 409 and r.json()["MaLoi"] == "04"


def pay(portal, ref: str, code: str, outcome: str = "success", amount: int = 200000):
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, ref, code, amount))
    url = r.json()["UrlThanhToan"]
    page = portal.get(url)
    assert page.status_code == 200 and "Xác nhận thanh toán" in page.text and "Vietcombank" in page.text
    return portal.post(url, data={"bank": "VCB", "outcome": outcome})


def test_payment_page_ipn_and_redirect(portal, agency):
    back = pay(portal, "REF-PAY", dossier_code(10))
    assert back.status_code == 303 and back.headers["location"].startswith(f"{agency.url}/thanh-toan/ket-qua?")
    assert len(agency.ipns) == 1
    ipn = agency.ipns[0]
    assert ipn["MaLoi"] == "00" and ipn["SoTien"] == 200000
    assert ipn["MaXacThuc"] == sha256_fields(ipn, IPN_ORDER, PAY_SECRET)
    q = portal.post("/paymentplatform/query", json=query_message("QUERY", PARTNER, PAY_SECRET, "REF-PAY")).json()
    assert q["TrangThaiGD"] == "1" and q["MaXacThuc"] == sha256_fields(q, IPN_ORDER, PAY_SECRET)
    bad = query_message("QUERY", PARTNER, PAY_SECRET, "REF-PAY")
    bad["MaThamChieu"] = "REF-PAX"
    assert portal.post("/paymentplatform/query", json=bad).json()["MaLoi"] == "01"
    bill = portal.post("/paymentplatform/getbill", json=query_message("GET_BILL", PARTNER, PAY_SECRET, "REF-PAY"))
    assert bill.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(bill.content)).pages[0].extract_text()
    assert "BIÊN LAI" in text and "200.000 VND" in text


def test_cancelled_payment_has_no_receipt(portal, agency):
    back = pay(portal, "REF-CANCEL", dossier_code(11), outcome="cancelled")
    assert "MaLoi=24" in back.headers["location"]
    bill = portal.post("/paymentplatform/getbill", json=query_message("GET_BILL", PARTNER, PAY_SECRET, "REF-CANCEL"))
    assert bill.status_code == 409 and bill.json()["MaLoi"] == "07"


def test_ipn_is_retried_until_the_agency_answers_00(portal, control, agency):
    agency.replies.extend(["99", "99"])
    pay(portal, "REF-RETRY", dossier_code(12))

    def attempts():
        p = control.get("/_mock/payments", params={"ref": "REF-RETRY"}).json()["payments"][0]
        return p["ipn_attempts"] if any(a["accepted"] for a in p["ipn_attempts"]) else None

    tries = wait_until(attempts, 10, what="IPN accepted after retries")
    assert [a["accepted"] for a in tries] == [False, False, True]
    assert tries[0]["reply"]["MaLoi"] == "99"


@pytest.mark.parametrize("mode", ["ipn_bad_checksum", "ipn_lower_amount", "ipn_duplicate"])
def test_adversarial_ipn(portal, control, agency, mode):
    control.post("/_mock/adversarial", json={"mode": mode})
    pay(portal, f"REF-{mode}", dossier_code(13))
    attempts = control.get("/_mock/payments", params={"ref": f"REF-{mode}"}).json()["payments"][0]["ipn_attempts"]
    flagged = [a for a in attempts if a["adversarial"] == mode]
    assert len(flagged) == 1
    ipn = flagged[0]["request"]
    valid = ipn["MaXacThuc"] == sha256_fields(ipn, IPN_ORDER, PAY_SECRET)
    if mode == "ipn_bad_checksum":
        assert not valid and len(agency.ipns) == 2 and agency.ipns[1]["MaXacThuc"] == sha256_fields(agency.ipns[1], IPN_ORDER, PAY_SECRET)
    elif mode == "ipn_lower_amount":
        assert valid and ipn["SoTien"] == 100000
    else:
        assert valid and len(agency.ipns) == 2 and agency.ipns[0] == agency.ipns[1]


def test_drop_callback_fault(portal, control, agency):
    control.post("/_mock/faults", json={"target": "ipn", "kind": "drop_callback", "count": 1})
    pay(portal, "REF-DROP", dossier_code(14))
    assert agency.ipns == []
    attempts = control.get("/_mock/payments", params={"ref": "REF-DROP"}).json()["payments"][0]["ipn_attempts"]
    assert "drop_callback" in attempts[0]["error"]
    pay(portal, "REF-AFTER", dossier_code(15))
    assert len(agency.ipns) == 1


def test_reconciliation_per_partner_and_day(portal, agency):
    pay(portal, "REF-DS1", dossier_code(20))
    pay(portal, "REF-DS2", dossier_code(21), outcome="insufficient_funds")
    day = now_vn().strftime("%Y%m%d")
    msg = {"MaDoiTac": PARTNER, "Ngay": day}
    msg["MaXacThuc"] = hashlib.sha256(f"{PARTNER}|{day}|{PAY_SECRET}".encode()).hexdigest()
    listing = portal.post("/paymentplatform/doisoat", json=msg).json()
    refs = {t["MaThamChieu"]: t for t in listing["DanhSachGiaoDich"]}
    assert refs["REF-DS1"]["TrangThaiGD"] == "1" and refs["REF-DS2"]["MaLoi"] == "51"
    assert listing["TongTienThanhCong"] == 200000 and listing["SoGiaoDichThanhCong"] == 1
    assert portal.get("/paymentplatform/doisoat", params=msg).json()["SoGiaoDich"] == 2
    assert portal.post("/paymentplatform/doisoat", json={**msg, "MaXacThuc": "0" * 64}).json()["MaLoi"] == "01"


def test_query_of_a_pending_payment_uses_a_listed_code(portal):
    """Rule: every MaLoi the platform replies is one the profile lists; a payment without an outcome is
    'not successful yet' with TrangThaiGD 0."""
    from schemas import load_profile
    listed = {str(k) for k in load_profile()["payment"]["error_codes"]}
    assert portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-PEND", dossier_code(21))).json()["MaLoi"] == "00"
    q = portal.post("/paymentplatform/query", json=query_message("QUERY", PARTNER, PAY_SECRET, "REF-PEND"))
    assert q.status_code == 200 and q.json()["MaLoi"] in listed and q.json()["MaLoi"] != "00"
    assert q.json()["TrangThaiGD"] == "0"
    from schemas import validator
    assert not list(validator("PaymentQueryReply", "dvcqg-1.0").iter_errors(q.json()))


def test_query_freshness_checked(portal):
    """Rule: QUERY's ThoiGianGD is close to the platform's clock, as INIT's is (a 12-hour clock shows up here)."""
    portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-QT", dossier_code(22)))
    msg = query_message("QUERY", PARTNER, PAY_SECRET, "REF-QT")
    msg["ThoiGianGD"] = stamp(-12 * 3600)
    msg["MaXacThuc"] = sha256_fields(msg, ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"], PAY_SECRET)
    r = portal.post("/paymentplatform/query", json=msg)
    assert r.status_code == 422 and r.json()["MaLoi"] == "06" and r.json()["loi"][0]["field"] == "ThoiGianGD"


def test_reference_reused_with_another_amount_says_so(portal):
    """Rule: a reference names one payment; reused for the same dossier with another amount, the refusal names
    the amount (not 'already used for this dossier'); reused for another dossier, it names that dossier."""
    code = dossier_code(23)
    assert portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-AMT2", code)).json()["MaLoi"] == "00"
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-AMT2", code, amount=300000))
    assert r.status_code == 409 and r.json()["MaLoi"] == "04"
    en = r.json()["loi"][0]["en"]
    assert "200000" in en and "300000" in en and "dossier " + code not in en
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, "REF-AMT2", dossier_code(24)))
    assert r.status_code == 409 and code in r.json()["loi"][0]["en"]
