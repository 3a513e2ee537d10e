"""The Government Office's admin system in the mock portal (QT-VPB-16 Bước 3–6; draft portal rules Điều 27).

"Trong thời hạn 05 ngày làm việc, bộ, ngành, địa phương thực hiện kiểm thử các dịch vụ công đã được công khai. Kết
quả kiểm thử ... gồm: Tên thủ tục hành chính; tên dịch vụ công; mã số hồ sơ dịch vụ công trực tuyến đã hoàn thành
kiểm thử." — "Đối với các dịch vụ công chưa hoàn thành kiểm thử, Văn phòng Chính phủ bỏ công khai."
Every dossier code is judged against the portal's own records: synced by that agency for that procedure, at status
10, paid when the procedure charges a fee, with an e-result carrying the result-type code and a file link.
"""

from __future__ import annotations

import httpx
import pytest

from kiemthu.runtime import free_port
from kiemthu.workdays import add_working_days
from mocks.clock import today_vn
from mocks.settings import AdapterAccount
from schemas import validator
from tests.mocks.conftest import PARTNER, PASSWORD, PAY_SECRET, USER, make_settings
from tests.mocks.helpers import AGENCY, ThreadServer, dossier, dossier_code, init_message, stamp, sync_message

OTHER, OTHER_USER, OTHER_PASSWORD = "000.00.01.H22", "h22", "other-adapter-password"
LLTP = {"MaTTHC": "2.001417", "TenTTHC": "Cấp Phiếu lý lịch tư pháp", "MaDVC": "2.001417.01",
        "TenDVC": "Cấp Phiếu lý lịch tư pháp trực tuyến"}
KHAI_SINH = {"MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "MaDVC": "1.001193.01",
             "TenDVC": "Đăng ký khai sinh trực tuyến"}
SUBMIT, SERVICES = "/quantri/kiemthu/ket-qua", "/quantri/kiemthu/dich-vu"


@pytest.fixture(scope="module")
def server(agency):
    port = free_port()
    settings = make_settings(f"http://127.0.0.1:{port}", agency.url)
    settings.adapter_accounts.append(AdapterAccount(OTHER_USER, OTHER_PASSWORD, OTHER))
    s = ThreadServer.mock_portal(settings).start()
    yield s
    s.stop()


@pytest.fixture
def control(server):
    """The mock's control plane (publications, journal, reset), the state reset."""
    with httpx.Client(base_url=server.control_url, headers=server.control_headers, timeout=30,
                      trust_env=False) as client:
        assert client.post("/_mock/reset").status_code == 200
        yield client


@pytest.fixture
def portal(server, control):
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        yield client


def sessions(portal) -> dict[str, str]:
    out = {}
    for code, user, password in ((AGENCY, USER, PASSWORD), (OTHER, OTHER_USER, OTHER_PASSWORD)):
        r = portal.post("/adapter/auth", json={"username": user, "password": password}, headers={"dstcode": code})
        assert r.status_code == 200, r.text
        out[code] = r.json()["session"]
    return out


def sync(portal, session: str, code: str, statuses: list[str], agency: str = AGENCY, matthc: dict | None = None,
         result_code: str | None = "KQ.G15.000007", link: str = "http://127.0.0.1:8801/ket-qua/1.pdf") -> None:
    """The dossier's life as an agency syncs it: each status in turn, the e-result with the last one (10)."""
    for i, status in enumerate(statuses):
        extra = dict(matthc or {})
        if status == "10":
            extra["NgayTra"] = stamp()
        if status == "10" and result_code:
            extra.update(DanhSachGiayToKetQua=[{
                "TenGiayTo": "Kết quả", "MaThanhPhanHoSo": "KQ", "GiayToId": "1", "DuongDanTepTinKetQua": link,
                "MaGiayToKetQua": result_code}])
        r = portal.post("/adapter/integration", headers={"dstcode": agency},
                        json=sync_message(session, [dossier(code, status, **extra)], updating=i > 0, madonvi=agency))
        assert r.status_code == 200 and r.json()["error_code"] == 0, r.text


def pay(portal, code: str, ref: str) -> None:
    r = portal.post("/paymentplatform/init", json=init_message(PARTNER, PAY_SECRET, ref, code))
    assert r.status_code == 200, r.text
    back = portal.post(r.json()["UrlThanhToan"], data={"bank": "VCB", "outcome": "success"})
    assert back.status_code == 303


def publish(control, day, services=None) -> httpx.Response:
    body = {"NgayCongKhai": day.isoformat(), **({"DanhSachMaDVC": services} if services else {})}
    return control.post("/_mock/publications", json=body)


def submission(*services: tuple[dict, list[str]]) -> dict:
    return {"MaDonVi": AGENCY, "TenDonVi": "Bộ Tư pháp", "NgayGui": stamp(),
            "DanhSachDichVu": [{**svc, "DanhSachMaHoSo": codes} for svc, codes in services]}


def submit(portal, msg: dict, dstcode: str = AGENCY) -> httpx.Response:
    return portal.post(SUBMIT, json=msg, headers={"dstcode": dstcode})


def by_service(reply: httpx.Response) -> dict[str, dict]:
    return {s["MaDVC"]: s for s in reply.json()["result"]["DanhSachDichVu"]}


def reason_codes(service: dict) -> list[str]:
    return [r["code"] for r in service["LyDo"]]


FULL = ["1", "2", "4", "9", "10"]


def test_a_complete_dossier_per_service_is_confirmed_and_the_service_stays_published(portal, control):
    """A paid LLTP dossier and a free birth-registration dossier, both at status 10 with their e-result."""
    s = sessions(portal)
    lltp, ks = dossier_code(1), dossier_code(2)
    sync(portal, s[AGENCY], lltp, FULL)
    pay(portal, lltp, "REF-ADMIN-1")
    sync(portal, s[AGENCY], ks, FULL, matthc={"MaTTHC": "1.001193", "TenTTHC": KHAI_SINH["TenTTHC"]},
         result_code="KQ.G15.000031")
    assert publish(control, today_vn()).status_code == 201
    r = submit(portal, submission((LLTP, [lltp]), (KHAI_SINH, [ks])))
    assert r.status_code == 200 and r.json()["error_code"] == 0, r.text
    assert not list(validator("KetQuaKiemThuReply", "dvcqg-1.0").iter_errors(r.json()))
    answers = by_service(r)
    for madvc in (LLTP["MaDVC"], KHAI_SINH["MaDVC"]):
        assert answers[madvc]["KetQua"] == "confirmed", answers[madvc]
        assert answers[madvc]["LyDo"] == [] and all(h["Dat"] for h in answers[madvc]["HoSo"])
    listing = {p["MaDVC"]: p for p in portal.get(SERVICES, headers={"dstcode": AGENCY}).json()["result"]}
    assert listing[LLTP["MaDVC"]]["TrangThaiCongKhai"] == "confirmed"
    # journalled like every other role
    entry = control.get("/_mock/journal", params={"role": "admin", "service": "KetQuaKiemThu"}).json()["entries"][-1]
    assert entry["client"] == AGENCY and set(entry["dossier_codes"]) == {lltp, ks} and entry["status_code"] == 200


@pytest.mark.parametrize("case, reason", [
    ("unknown", ["unknown_dossier"]), ("other_agency", ["other_agency"]),
    ("stuck_at_4", ["not_returned", "no_e_result"]),  # a dossier never returned has no e-result either
    ("unpaid", ["unpaid"]), ("no_result", ["no_e_result"]), ("wrong_result_type", ["no_e_result"]),
    ("other_procedure", ["other_procedure"]),
])
def test_a_dossier_that_proves_nothing_returns_the_service_naming_the_reason(portal, control, case, reason):
    """Only dossiers that completed testing count: each shortfall is named, and the service loses its publication."""
    s = sessions(portal)
    code = dossier_code(7)
    if case == "other_agency":
        code = dossier_code(7, agency=OTHER)
        sync(portal, s[OTHER], code, FULL, agency=OTHER)
        pay(portal, code, "REF-ADMIN-OTHER")
    elif case == "stuck_at_4":
        sync(portal, s[AGENCY], code, ["1", "2", "4"])
        pay(portal, code, "REF-ADMIN-4")
    elif case == "unpaid":
        sync(portal, s[AGENCY], code, FULL)
    elif case == "no_result":
        sync(portal, s[AGENCY], code, FULL, result_code=None)
        pay(portal, code, "REF-ADMIN-L")
    elif case == "other_procedure":  # a birth-registration dossier offered as proof for the LLTP service
        sync(portal, s[AGENCY], code, FULL, matthc={"MaTTHC": "1.001193", "TenTTHC": KHAI_SINH["TenTTHC"]})
        pay(portal, code, "REF-ADMIN-P")
    elif case == "wrong_result_type":
        sync(portal, s[AGENCY], code, FULL, result_code="KQ.G15.000008")
        pay(portal, code, "REF-ADMIN-T")
    publish(control, today_vn(), [LLTP["MaDVC"]])
    r = submit(portal, submission((LLTP, [code])))
    assert r.status_code == 200, r.text
    answer = by_service(r)[LLTP["MaDVC"]]
    assert answer["KetQua"] == "returned" and reason_codes(answer) == reason, answer
    assert answer["HoSo"] == [{"MaHoSo": code, "Dat": False, "LyDo": answer["HoSo"][0]["LyDo"]}]
    assert answer["LyDo"][0]["vi"] and answer["LyDo"][0]["en"] and code in answer["LyDo"][0]["detail"]
    listing = {p["MaDVC"]: p for p in portal.get(SERVICES, headers={"dstcode": AGENCY}).json()["result"]}
    assert listing[LLTP["MaDVC"]]["TrangThaiCongKhai"] == "returned"


def test_one_bad_code_among_good_ones_still_returns_the_service(portal, control):
    s = sessions(portal)
    good = dossier_code(3)
    sync(portal, s[AGENCY], good, FULL)
    pay(portal, good, "REF-ADMIN-G")
    publish(control, today_vn(), [LLTP["MaDVC"]])
    answer = by_service(submit(portal, submission((LLTP, [good, dossier_code(99)]))))[LLTP["MaDVC"]]
    assert answer["KetQua"] == "returned" and reason_codes(answer) == ["unknown_dossier"]
    assert [h["Dat"] for h in answer["HoSo"]] == [True, False]


def test_a_summary_naming_another_procedure_for_the_service_is_returned(portal, control):
    s = sessions(portal)
    code = dossier_code(9)
    sync(portal, s[AGENCY], code, FULL)
    pay(portal, code, "REF-ADMIN-M")
    publish(control, today_vn(), [LLTP["MaDVC"]])
    answer = by_service(submit(portal, submission(({**LLTP, "MaTTHC": "1.001193"}, [code]))))[LLTP["MaDVC"]]
    assert answer["KetQua"] == "returned" and reason_codes(answer) == ["procedure_mismatch"]


def test_a_late_submission_is_refused_and_the_untested_service_shows_unpublished(portal, control):
    """Published 6 working days ago: the 5-working-day window has closed."""
    today = today_vn()
    day = today
    while add_working_days(day, 5) >= today:  # the latest publication date whose deadline is already past
        day = day.fromordinal(day.toordinal() - 1)
    assert publish(control, day).status_code == 201
    s = sessions(portal)
    code = dossier_code(4)
    sync(portal, s[AGENCY], code, FULL)
    pay(portal, code, "REF-ADMIN-LATE")
    r = submit(portal, submission((LLTP, [code])))
    assert r.status_code == 422 and r.json()["error_code"] == 5, r.text
    assert not list(validator("KetQuaKiemThuReply", "dvcqg-1.0").iter_errors(r.json()))
    answer = by_service(r)[LLTP["MaDVC"]]
    assert answer["KetQua"] == "refused" and reason_codes(answer) == ["deadline_passed"]
    assert answer["HanNopKetQua"] == add_working_days(day, 5).isoformat()
    reply = portal.get(SERVICES, headers={"dstcode": AGENCY}).json()
    assert not list(validator("DanhSachDichVuKiemThuReply", "dvcqg-1.0").iter_errors(reply))
    listing = {p["MaDVC"]: p for p in reply["result"]}
    assert {p["TrangThaiCongKhai"] for p in listing.values()} == {"unpublished"}


def test_on_the_deadline_day_the_submission_is_still_judged(portal, control):
    today = today_vn()
    day = today
    while add_working_days(day, 5) > today:
        day = day.fromordinal(day.toordinal() - 1)
    publish(control, day, [LLTP["MaDVC"]])
    if add_working_days(day, 5) != today:  # today is a day off: the deadline was the last working day
        pytest.skip("today is not a working day")
    answer = by_service(submit(portal, submission((LLTP, [dossier_code(5)]))))[LLTP["MaDVC"]]
    assert answer["KetQua"] == "returned" and reason_codes(answer) == ["unknown_dossier"]


def test_a_service_never_published_is_refused(portal):
    answer = by_service(submit(portal, submission((LLTP, [dossier_code(6)]))))[LLTP["MaDVC"]]
    assert answer["KetQua"] == "refused" and reason_codes(answer) == ["not_published"]


@pytest.mark.parametrize("change, field, rule", [
    (lambda m: m.pop("DanhSachDichVu"), "DanhSachDichVu", "required"),
    (lambda m: m.update(NgayGui="2026-12-01 10:00"), "NgayGui", "date_format"),
    (lambda m: m["DanhSachDichVu"][0].update(DanhSachMaHoSo="X"), "DanhSachDichVu[0].DanhSachMaHoSo", "type"),
    (lambda m: m.update(MaDonVi=OTHER), "MaDonVi", "matches_dstcode"),
])
def test_a_malformed_submission_names_field_and_rule(portal, change, field, rule):
    msg = submission((LLTP, [dossier_code(1)]))
    change(msg)
    r = submit(portal, msg)
    assert r.status_code == 400 and r.json()["error_code"] == 4
    assert {"field": field, "rule": rule} in [{"field": e["field"], "rule": e["rule"]} for e in r.json()["errors"]]


def test_publication_control_names_bad_input(portal, control):
    r = control.post("/_mock/publications", json={"NgayCongKhai": "01/12/2026"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "NgayCongKhai"
    r = control.post("/_mock/publications", json={"NgayCongKhai": "2026-12-01", "DanhSachMaDVC": ["9.999999.01"]})
    assert r.status_code == 400 and "9.999999.01" in r.json()["message"]
    r = publish(control, today_vn(), [KHAI_SINH["MaDVC"]])
    assert [p["MaDVC"] for p in r.json()["publications"]] == [KHAI_SINH["MaDVC"]]
    assert r.json()["publications"][0]["HanNopKetQua"] == add_working_days(today_vn(), 5).isoformat()
