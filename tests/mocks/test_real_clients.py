"""Messages shaped as two real one-stop systems send them: one serialises every unset optional field as JSON
null, the other sends lean dossiers (and lean updates) without KenhThucHien or NgayNopHoSo. The portal accepts
both; what it truly requires on create and on update is read from the contract profile."""

from __future__ import annotations

import httpx

from schemas import load_profile, message_schema, validator
from tests.mocks.helpers import AGENCY, LLTP, dossier, dossier_code, progress_item, stamp, sync_message

H = {"dstcode": AGENCY}
PROFILE = "dvcqg-1.0"


def send(portal, session, items, updating=False) -> httpx.Response:
    return portal.post("/adapter/integration", json=sync_message(session, items, updating), headers=H)


def rules_of(r: httpx.Response) -> set[str]:
    return {e["rule"] for e in r.json().get("errors", [])}


def fields_of(r: httpx.Response) -> set[str]:
    return {e["field"] for e in r.json().get("errors", [])}


def null_client_dossier(code: str, status: str = "1") -> dict:
    """A dossier as the null-serialising client sends it: every field it did not set is null."""
    item = dossier(code, status, Email=None, SoDienThoai=None, GhiChu=None, NgayTiepNhan=None, NgayTra=None,
                   NgayTuChoi=None, DanhSachHoSoBoSung=None, DanhSachGiayToKetQua=None, HinhThuc=None)
    item["TaiLieuNop"][0]["MaKetQuaThayThe"] = None
    item["TaiLieuNop"][0]["TepDinhKemId"] = None
    return item


def lean_dossier(code: str, status: str = "1") -> dict:
    """A dossier as the lean client sends it: no KenhThucHien, no NgayNopHoSo, only what it fills in."""
    return {"MaHoSo": code, **LLTP, "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": "1", "TrangThaiHoSo": status}


def test_null_for_optional_fields_accepted_on_create_and_update(portal, session, control):
    """Rule: an optional field sent as JSON null counts as absent (MaKetQuaThayThe, DanhSachHoSoBoSung,
    DanhSachGiayToKetQua, NgayTuChoi ...), on create and on update."""
    code = dossier_code(301)
    r = send(portal, session, [null_client_dossier(code)])
    assert r.status_code == 200, r.text
    update = null_client_dossier(code, "2")
    update["NgayTiepNhan"], update["SoGiayToChuHoSo"] = stamp(-30), None
    r = send(portal, session, [update], updating=True)
    assert r.status_code == 200, r.text
    view = control.get(f"/_mock/dossiers/{code}").json()
    assert view["TrangThaiHoSo"] == "2" and view["fields"]["SoGiayToChuHoSo"] == "001090012345"  # null kept it


def test_null_in_a_required_field_refused_naming_it(portal, session):
    """Rule: null is tolerated only where the field is optional; a required field that is null is refused."""
    item = null_client_dossier(dossier_code(302))
    item["MaTTHC"] = None
    r = send(portal, session, [item])
    assert r.status_code == 400 and "data[0].MaTTHC" in fields_of(r) and "type" in rules_of(r)


def test_null_in_an_enumerated_optional_field_accepted_and_a_wrong_value_not(portal, session):
    """Rule: null is not a value of an enumeration, it is its absence; any other value still has to be listed."""
    item = null_client_dossier(dossier_code(303))
    item["DanhSachLePhi"][0]["LoaiPhiLePhi"] = None
    assert send(portal, session, [item]).status_code == 200
    item = null_client_dossier(dossier_code(304))
    item["DanhSachLePhi"][0]["LoaiPhiLePhi"] = "9"
    r = send(portal, session, [item])
    assert r.status_code == 400 and "enum" in rules_of(r)


def test_lean_dossier_created_then_updated(portal, session, control):
    """Rule: on create the portal requires the profile's `create` fields (KenhThucHien and NgayNopHoSo are not
    among them); a lean update (isUpdating "True") carries the `update` fields and keeps the stored others."""
    code = dossier_code(305)
    r = send(portal, session, [lean_dossier(code)])
    assert r.status_code == 200, r.text
    r = send(portal, session, [{"MaHoSo": code, "MaTTHC": LLTP["MaTTHC"], "TrangThaiHoSo": "2",
                                "NgayTiepNhan": stamp(-10)}], updating=True)
    assert r.status_code == 200, r.text
    view = control.get(f"/_mock/dossiers/{code}").json()
    assert view["TrangThaiHoSo"] == "2" and view["fields"]["ChuHoSo"] == "Nguyễn Văn An"
    assert [h["status"] for h in view["status_history"]] == ["1", "2"]


def test_lean_create_missing_a_create_field_refused(portal, session):
    """Rule: a create without one of the profile's `create` fields is refused naming the field."""
    item = lean_dossier(dossier_code(306))
    del item["TenTTHC"]
    r = send(portal, session, [item])
    assert r.status_code == 400 and "data[0].TenTTHC" in fields_of(r) and "required" in rules_of(r)


def test_lean_update_missing_an_update_field_refused(portal, session):
    code = dossier_code(307)
    assert send(portal, session, [lean_dossier(code)]).status_code == 200
    r = send(portal, session, [{"MaHoSo": code, "MaTTHC": LLTP["MaTTHC"]}], updating=True)
    assert r.status_code == 400 and "data[0].TrangThaiHoSo" in fields_of(r)


def test_requirements_come_from_the_profile():
    """Rule: the contract profile says which fields are required on create and on update; the schema the portal
    and the harness apply carries exactly those lists."""
    wanted = load_profile(PROFILE)["required_fields"]["DongBoHoSoMC"]
    schema = message_schema("DongBoHoSoMC", PROFILE)
    assert schema["properties"]["data"]["items"]["required"] == wanted["update"]
    assert schema["allOf"][-1]["then"]["properties"]["data"]["items"]["required"] == wanted["create"]
    # the harness's own validator (journal messages) judges the same way as the portal
    lean = sync_message("s", [lean_dossier(dossier_code(308))])
    lean["madonvi"] = AGENCY
    assert not list(validator("DongBoHoSoMC", PROFILE).iter_errors(lean))
    assert not list(validator("DongBoHoSoMC", PROFILE).iter_errors(sync_message("s", [null_client_dossier(dossier_code(309))])))


def test_progress_status_outside_the_dossier_statuses_refused(portal, session):
    """Rule: a progress step's TrangThai is one of the dossier statuses of the profile (1..10): "11" is refused
    as TrangThaiHoSo "11" is; a listed one is accepted."""
    code = dossier_code(310)
    assert send(portal, session, [dossier(code)]).status_code == 200
    msg = {"session": session, "madonvi": AGENCY, "service": "CapNhatTienDoHoSoMC"}
    r = portal.post("/adapter/integration", headers=H, json={**msg, "data": [progress_item(code, TrangThai="11")]})
    assert r.status_code == 422 and "progress_status_known" in rules_of(r) and "data[0].TrangThai" in fields_of(r)
    r = portal.post("/adapter/integration", headers=H, json={**msg, "data": [progress_item(code, TrangThai="4")]})
    assert r.status_code == 200, r.text
