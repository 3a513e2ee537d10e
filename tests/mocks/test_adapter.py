"""Adapter: session, schema and business-rule rejections (field + rule, vi + en), look-ups, bad input."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.mocks.conftest import PASSWORD, USER
from tests.mocks.helpers import (AGENCY, TECHID_AN, dossier, dossier_code, now_vn, progress_item, stamp,
                                 sync_message)

H = {"dstcode": AGENCY}


def send(portal, session, items, updating=False, path="/adapter/integration", **over):
    msg = {**sync_message(session, items, updating), **over}
    return portal.post(path, json=msg, headers=H)


def rules_of(r: httpx.Response) -> set[str]:
    return {e["rule"] for e in r.json().get("errors", [])}


def test_auth_requires_password_and_dstcode(portal, control):
    assert portal.post("/adapter/auth", json={"username": USER, "password": "sai"}, headers=H).status_code == 401
    assert portal.post("/adapter/auth", json={"username": USER, "password": PASSWORD},
                       headers={"dstcode": "000.00.00.G13"}).status_code == 401
    r = portal.post("/adapter/auth", json={"username": USER, "password": PASSWORD})
    assert r.status_code == 400 and r.json()["error_code"] != 0
    entry = control.get("/_mock/journal", params={"service": "auth"}).json()["entries"][-1]
    assert PASSWORD not in str(entry)


def test_sync_create_update_status_history_and_results(portal, control, session):
    code = dossier_code(1)
    assert send(portal, session, [dossier(code, "1")]).json()["error_code"] == 0
    assert send(portal, session, [dossier(code, "2")], updating=True).status_code == 200
    r = portal.post("/adapter/integration", headers=H, json={"session": session, "madonvi": AGENCY,
                    "service": "CapNhatTienDoHoSoMC", "data": [progress_item(code)]})
    assert r.status_code == 200, r.text
    assert send(portal, session, [dossier(code, "4")], updating=True).status_code == 200
    assert send(portal, session, [dossier(code, "9")], updating=True).status_code == 200
    result = {"TenGiayTo": "Phiếu lý lịch tư pháp số 1", "MaThanhPhanHoSo": "KQ", "GiayToId": "77",
              "DuongDanTepTinKetQua": "http://127.0.0.1:8801/ket-qua/77.pdf", "MaGiayToKetQua": "KQ.G15.000007"}
    r = send(portal, session, [dossier(code, "10", NgayTra=stamp(), DanhSachGiayToKetQua=[result])], updating=True)
    assert r.status_code == 200, r.text
    view = control.get(f"/_mock/dossiers/{code}").json()
    assert [h["status"] for h in view["status_history"]] == ["1", "2", "4", "9", "10"]
    assert view["progress"][0]["NoiDungXuLy"] == "Tiếp nhận hồ sơ"
    assert view["results"][0]["MaGiayToKetQua"] == "KQ.G15.000007"
    # the result is now in the citizen's Kho DL
    kdl = portal.post("/khodl/GetKetQuaGiayTo", json={
        "SoDinhDanhChuSoHuu": "001090012345", "HoTenNguoiYeuCau": "Nguyễn Văn An", "KenhThucHien": "2",
        "SoDinhDanhNguoiYeuCau": "001090012345", "MaThuTuc": "2.001417",
        "DanhSachDanhMucKetQua": [{"MaKetQua": "KQ.G15.000007"}]}).json()
    assert kdl["result"]["DanhSachGiayToKetQua"][0]["DanhSachTepDinhKem"][0]["DuongDan"].endswith("77.pdf")
    # TraCuuHoSo sees the same
    r = portal.post("/adapter/share", headers=H, json={"session": session, "madonvi": AGENCY, "service": "TraCuuHoSo",
                                                        "mahoso": code})
    assert r.json()["result"][0]["TrangThaiHoSo"] == "10"


@pytest.mark.parametrize("change, field, rule", [
    ({"TrangThaiHoSo": "11"}, "data[0].TrangThaiHoSo", "enum"),
    ({"NgayNopHoSo": "2024-01-01 10:00"}, "data[0].NgayNopHoSo", "date_format"),
    ({"ChuHoSo": ""}, "data[0].ChuHoSo", "not_empty"),
    ({"KenhThucHien": 2}, "data[0].KenhThucHien", "type"),
])
def test_schema_rejections_name_field_and_rule(portal, session, change, field, rule):
    r = send(portal, session, [dossier(dossier_code(2), **change)])
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] == 4 and body["result"] == []
    err = next(e for e in body["errors"] if e["field"] == field)
    assert err["rule"] == rule and err["vi"] and err["en"]
    assert "|" in body["message"]


def test_missing_required_field_is_named(portal, session):
    item = dossier(dossier_code(3))
    del item["MaTTHC"]
    r = send(portal, session, [item])
    assert {"field": "data[0].MaTTHC", "rule": "required"}.items() <= r.json()["errors"][0].items()


@pytest.mark.parametrize("code, rule", [
    (f"{AGENCY}-{now_vn():%y%m%d}-12345", "dossier_code_format"),      # random 5-digit suffix
    (f"000.00.00.G13-{now_vn():%y%m%d}-0001", "dossier_code_agency"),  # another agency's code
    (f"{AGENCY}-991332-0001", "dossier_code_date"),
    (f"{AGENCY}-{now_vn(2 * 86400):%y%m%d}-0001", "dossier_code_date"),  # dated the day after tomorrow
])
def test_dossier_code_rules(portal, session, code, rule):
    r = send(portal, session, [dossier(code)])
    assert r.status_code == 422 and rule in rules_of(r)


def test_dossier_code_rules_judge_each_code(portal, session):
    """The rules remember the last code and day they parsed: a bad code right after a good one of the same day, and
    a good one right after a bad one, are each judged on their own."""
    day = f"{now_vn():%y%m%d}"
    assert send(portal, session, [dossier(f"{AGENCY}-{day}-0101")]).status_code == 200
    assert "dossier_code_agency" in rules_of(send(portal, session, [dossier(f"000.00.00.G13-{day}-0102")]))
    assert "dossier_code_date" in rules_of(send(portal, session, [dossier(f"{AGENCY}-{now_vn(2 * 86400):%y%m%d}-0103")]))
    assert send(portal, session, [dossier(f"{AGENCY}-{day}-0104")]).status_code == 200


def test_business_rules(portal, control, session):
    code = dossier_code(4)
    assert rule_hit(send(portal, session, [dossier(code, NgayNopHoSo=stamp(3600))]), "date_not_future")
    assert rule_hit(send(portal, session, [dossier(code, NgayNopHoSo="20250230101010")]), "date_valid")
    assert rule_hit(send(portal, session, [dossier(code, "10", NgayTra=stamp())]), "status_transition")
    assert rule_hit(send(portal, session, [dossier(code, "3")]), "status_requires_date")
    assert rule_hit(send(portal, session, [dossier(code, MaTTHC="9.999999")]), "procedure_published")
    assert rule_hit(send(portal, session, [dossier(code, MaDoiTuong="user-42")]), "online_owner_techid")
    assert rule_hit(send(portal, session, [dossier(code)], updating=True), "update_needs_existing")
    assert rule_hit(send(portal, session, [dossier(code), dossier(code)]), "unique_in_batch")
    assert send(portal, session, [dossier(code)]).status_code == 200
    assert send(portal, session, [dossier(code)]).status_code == 200          # identical retry tolerated
    assert rule_hit(send(portal, session, [dossier(code, GhiChu="khác")]), "create_needs_new_code")
    # nothing of the rejected messages reached the portal's view
    assert len(control.get(f"/_mock/dossiers/{code}").json()["status_history"]) == 1


def rule_hit(r: httpx.Response, rule: str) -> bool:
    assert r.status_code == 422, r.text
    assert r.json()["error_code"] == 5
    return rule in rules_of(r)


def test_progress_only_for_a_known_dossier_and_in_batches_of_ten(portal, session):
    msg = {"session": session, "madonvi": AGENCY, "service": "CapNhatTienDoHoSoMC"}
    r = portal.post("/adapter/integration", headers=H, json={**msg, "data": [progress_item(dossier_code(5))]})
    assert r.status_code == 422 and "dossier_exists" in rules_of(r)
    code = dossier_code(6)
    send(portal, session, [dossier(code)])
    r = portal.post("/adapter/integration", headers=H, json={**msg, "data": [progress_item(code)] * 11})
    assert r.status_code == 400 and "maxItems" in rules_of(r)


def test_session_service_and_envelope_errors(portal, session):
    code = dossier_code(7)
    assert portal.post("/adapter/integration", json=sync_message("sai", [dossier(code)]), headers=H).status_code == 401
    assert portal.post("/adapter/integration", headers={"dstcode": "000.00.00.G13"},
                       json=sync_message(session, [dossier(code)])).status_code == 403
    r = send(portal, session, [dossier(code)], service="DongBoHoSoXYZ")
    assert r.status_code == 400 and r.json()["error_code"] == 3 and "DongBoHoSoXYZ" in r.json()["message"]
    r = send(portal, session, [dossier(code)], path="/adapter/share")
    assert r.status_code == 400 and "service_endpoint" in rules_of(r)
    r = send(portal, session, [dossier(code)], madonvi="000.00.00.G01")
    assert r.status_code == 403 and "madonvi_matches_account" in rules_of(r)


def test_malformed_and_huge_bodies_get_4xx(portal, session):
    r = portal.post("/adapter/integration", content=b'{"session": "x", ', headers={**H, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == 7
    r = portal.post("/adapter/integration", content=b"[1, 2]", headers=H)
    assert r.status_code == 400
    r = portal.post("/adapter/integration", content=b"", headers=H)
    assert r.status_code == 400
    r = portal.post("/adapter/integration", content=b"\xff\xfe\x00", headers=H)
    assert r.status_code == 400
    huge = b'{"session": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    r = portal.post("/adapter/integration", content=huge, headers=H)
    assert r.status_code == 413 and r.json()["error_code"] == 8

    def chunks():
        yield b'{"session": "'
        for _ in range(40):
            yield b"b" * 65536
        yield b'"}'
    r = portal.post("/adapter/integration", content=chunks(), headers=H)
    assert r.status_code == 413
    r = portal.post("/paymentplatform/init", content=huge)
    assert r.status_code == 413


def test_lookups(portal, session):
    share = lambda **m: portal.post("/adapter/share", headers=H, json={"session": session, "madonvi": AGENCY, **m})  # noqa: E731
    proc = share(service="LayThuTuc", maTTHC="2.001417").json()["result"][0]
    assert proc["TenMucDo"] == "Toàn trình" and proc["ThanhToanTrucTuyen"] is True
    assert {d["MaThanhPhanHoSo"] for d in proc["ThanhPhanHoSo"]} == {"TP-LLTP-01", "TP-LLTP-02"}
    assert share(service="LayThuTuc", maTTHC="2.001417.000.00.00.G15").status_code == 200
    assert share(service="LayThuTuc", maTTHC="0.000000").status_code == 404
    assert len(share(service="LayDanhSachTTHC").json()["result"]) >= 3
    assert share(service="TraCuuTechID", SoDinhDanh="001090012345").json()["result"][0]["TechID"] == TECHID_AN
    assert share(service="TraCuuHoSo", mahoso=dossier_code(8)).status_code == 404


def test_kho_dl_citizen_id_card_and_owner_only(portal):
    req = {"SoDinhDanhChuSoHuu": "001090012345", "HoTenNguoiYeuCau": "Nguyễn Văn An", "KenhThucHien": "2",
           "SoDinhDanhNguoiYeuCau": "001090012345", "MaThuTuc": "2.001417",
           "DanhSachDanhMucKetQua": [{"MaKetQua": "KQ.G01.000023"}]}
    docs = portal.post("/khodl/GetKetQuaGiayTo", json=req).json()["result"]["DanhSachGiayToKetQua"]
    assert docs[0]["MaKetQua"] == "KQ.G01.000023" and docs[0]["TenGiayTo"] == "Thẻ căn cước công dân"
    pdf = portal.get(docs[0]["DanhSachTepDinhKem"][0]["DuongDan"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert portal.post("/khodl/GetKetQuaGiayTo", json={**req, "SoDinhDanhNguoiYeuCau": "079185006789"}).status_code == 403


def test_200_parallel_syncs_of_distinct_dossiers_are_all_journalled(portal, control, session, portal_server):
    codes = [dossier_code(1000 + i) for i in range(200)]

    async def all_at_once():
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=portal_server.url, trust_env=False, timeout=30, limits=limits) as c:
            replies = await asyncio.gather(*(c.post("/adapter/integration", headers=H,
                                                    json=sync_message(session, [dossier(code)])) for code in codes))
        return [r.status_code for r in replies]

    assert asyncio.run(all_at_once()) == [200] * 200
    entries = control.get("/_mock/journal", params={"service": "DongBoHoSoMC", "limit": 1000}).json()["entries"]
    assert {c for e in entries if e["status_code"] == 200 for c in e["dossier_codes"]} == set(codes)
    assert len(control.get("/_mock/dossiers").json()["dossiers"]) == 200


def test_status_sync_and_ratings_for_known_dossiers(portal, control, session):
    code = dossier_code(9)
    msg = {"session": session, "madonvi": AGENCY}
    r = portal.post("/adapter/integration", headers=H, json={**msg, "service": "DongBoTrangThaiHoSo",
                                                              "data": [{"MaHoSo": code, "TrangThaiHoSo": "2"}]})
    assert r.status_code == 422 and "dossier_exists" in rules_of(r)
    send(portal, session, [dossier(code, "1")])
    r = portal.post("/adapter/integration", headers=H, json={**msg, "service": "DongBoTrangThaiHoSo",
                                                              "data": [{"MaHoSo": code, "TrangThaiHoSo": "10", "NgayTra": stamp()}]})
    assert r.status_code == 422 and "status_transition" in rules_of(r)
    r = portal.post("/adapter/integration", headers=H, json={**msg, "service": "DongBoTrangThaiHoSo",
                                                              "data": [{"MaHoSo": code, "TrangThaiHoSo": "2", "NgayCapNhat": stamp()}]})
    assert r.status_code == 200, r.text
    view = control.get(f"/_mock/dossiers/{code}").json()
    assert view["TrangThaiHoSo"] == "2" and [h["service"] for h in view["status_history"]] == ["DongBoHoSoMC", "DongBoTrangThaiHoSo"]
    r = portal.post("/adapter/integration", headers=H, json={**msg, "service": "DongBoDanhGia",
                                                              "data": [{"MaHoSo": code, "DiemDanhGia": "5"}]})
    assert r.status_code == 200 and control.get(f"/_mock/dossiers/{code}").json()["ratings"][0]["DiemDanhGia"] == "5"
