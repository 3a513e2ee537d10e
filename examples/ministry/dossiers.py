"""Dossiers: codes, reception, officer transitions, and the portal view of a dossier (DongBoHoSoMC)."""

from __future__ import annotations

import logging
import random
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from examples.ministry import outbox
from examples.ministry.adapter import AdapterError
from examples.ministry.catalogue import Service, charged_fee, charged_fee_items, offers_online_payment
from examples.ministry.db import dumps, loads
from examples.ministry.timeutil import add_working_days, sync_date

log = logging.getLogger("ministry.dossiers")

STATUS_NAMES = {
    "1": "Mới đăng ký", "2": "Được tiếp nhận", "3": "Không được tiếp nhận", "4": "Đang xử lý",
    "5": "Yêu cầu bổ sung giấy tờ", "6": "Yêu cầu thực hiện nghĩa vụ tài chính", "7": "Công dân yêu cầu rút hồ sơ",
    "8": "Dừng xử lý", "9": "Đã xử lý xong", "10": "Đã trả kết quả",
}
ONLINE = "2"


# --- dossier code (Thông tư 01/2018/TT-VPCP, điều 19) ----------------------------------------------------
def allocate_code(conn: sqlite3.Connection, agency: str, now: datetime, defects) -> str:
    """`<agency>-<YYMMDD>-<4-digit sequence of the day>`; call inside a write transaction."""
    day = now.strftime("%y%m%d")
    if defects.on("dossier-code-random-suffix"):
        return f"{agency}-{day}-{random.randint(10000, 99999)}"
    conn.execute("INSERT OR IGNORE INTO daily_sequence(agency, day, last) VALUES (?,?,0)", (agency, day))
    conn.execute("UPDATE daily_sequence SET last = last + 1 WHERE agency=? AND day=?", (agency, day))
    seq = conn.execute("SELECT last FROM daily_sequence WHERE agency=? AND day=?", (agency, day)).fetchone()[0]
    if seq > 9999:
        raise RuntimeError("đã hết số thứ tự hồ sơ trong ngày")
    return f"{agency}-{day}-{seq:04d}"


# --- reception ---------------------------------------------------------------------------------------
@dataclass
class NewDocument:
    ma_tp: str
    ten_tp: str
    file_name: str
    stored_path: str = ""
    size: int = 0
    from_khodl: bool = False
    khodl_code: str = ""
    khodl_url: str = ""


class DraftGone(Exception):
    """The draft was already submitted (a double click) or never existed."""


def receive_online(ctx, service: Service, user: sqlite3.Row, fields: dict[str, str],
                   documents: list[NewDocument], draft_id: str) -> str:
    """Record a submitted dossier (status 1) and queue its sync; returns the dossier code."""
    now = ctx.clock.now()
    early_progress = ctx.defects.on("progress-before-dossier")
    with ctx.db.transaction() as conn:
        if conn.execute("DELETE FROM drafts WHERE id=? AND user_id=?", (draft_id, user["id"])).rowcount != 1:
            raise DraftGone(draft_id)
        code = allocate_code(conn, ctx.settings.agency_code, now, ctx.defects)
        due = add_working_days(now, int(service.get("processing_days", 1)))
        conn.execute(
            "INSERT INTO dossiers(code, service_id, user_id, status, fields_json, submitted_at, due_at, fee_amount,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (code, service.id, user["id"], "1", dumps(fields), now.isoformat(), due.isoformat(),
             charged_fee(service, ctx.defects), now.isoformat()))
        for doc in documents:
            conn.execute(
                "INSERT INTO documents(dossier_code, ma_tp, ten_tp, file_name, stored_path, token, size, from_khodl,"
                " khodl_code, khodl_url) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (code, doc.ma_tp, doc.ten_tp, doc.file_name, doc.stored_path, secrets.token_urlsafe(18), doc.size,
                 int(doc.from_khodl), doc.khodl_code, doc.khodl_url))
        add_history(conn, code, "1", "Nộp hồ sơ trực tuyến", user["ho_va_ten"], now)
        if not early_progress:
            queue_sync(ctx, conn, code, "Nộp hồ sơ trực tuyến", actor=citizen_actor(user), when=now)
    if early_progress:
        _send_progress_first(ctx, code, user, now)
    ctx.wake.set()
    return code


def _send_progress_first(ctx, code: str, user: sqlite3.Row, now: datetime) -> None:
    """Seeded defect: the first progress step goes straight to the portal, before the dossier is synced."""
    item = progress_item(ctx, load(ctx, code), "Nộp hồ sơ trực tuyến", citizen_actor(user), now)
    try:
        ctx.adapter.integrate(outbox.PROGRESS, {"data": [item]})
    except AdapterError as exc:
        log.warning("gửi tiến độ trước hồ sơ %s thất bại: %s", code, exc)
    with ctx.db.transaction() as conn:
        queue_dossier(ctx, conn, code, "Nộp hồ sơ trực tuyến")


def citizen_actor(user: sqlite3.Row) -> dict[str, str]:
    return {"NguoiXuLy": user["ho_va_ten"] or "", "ChucDanh": "Công dân", "PhongBanXuLy": "Cổng Dịch vụ công"}


def officer_actor(settings) -> dict[str, str]:
    return {"NguoiXuLy": settings.officer_name, "ChucDanh": settings.officer_title,
            "PhongBanXuLy": settings.officer_department}


def system_actor() -> dict[str, str]:
    return {"NguoiXuLy": "Hệ thống", "ChucDanh": "Hệ thống một cửa điện tử", "PhongBanXuLy": "Bộ phận Một cửa"}


def add_history(conn: sqlite3.Connection, code: str, status: str, action: str, actor: str, when: datetime,
                note: str = "") -> None:
    conn.execute("INSERT INTO history(dossier_code, status, action, actor, at, note) VALUES (?,?,?,?,?,?)",
                 (code, status, action, actor, when.isoformat(), note))


# --- loading -------------------------------------------------------------------------------------------
@dataclass
class Dossier:
    row: sqlite3.Row
    service: Service
    user: sqlite3.Row
    documents: list[sqlite3.Row]

    @property
    def code(self) -> str:
        return self.row["code"]

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def fields(self) -> dict[str, str]:
        return loads(self.row["fields_json"], {})


def load(ctx, code: str, conn: sqlite3.Connection | None = None) -> Dossier | None:
    own = conn is None
    conn = conn or ctx.db.connect()
    try:
        row = conn.execute("SELECT * FROM dossiers WHERE code=?", (code,)).fetchone()
        if row is None:
            return None
        user = conn.execute("SELECT * FROM users WHERE id=?", (row["user_id"],)).fetchone()
        docs = conn.execute("SELECT * FROM documents WHERE dossier_code=? ORDER BY id", (code,)).fetchall()
        return Dossier(row, ctx.catalogue.by_id(row["service_id"]), user, docs)
    finally:
        if own:
            conn.close()


# --- the portal's view ----------------------------------------------------------------------------------
def dossier_payload(ctx, d: Dossier) -> dict[str, Any]:
    """One `data` item of DongBoHoSoMC (the adapter contract of the portal)."""
    s, u, defects, settings = d.service, d.user, ctx.defects, ctx.settings
    online_payment = offers_online_payment(s, defects)
    return {
        "MaHoSo": d.code,
        "MaTTHC": s["MaTTHC"],
        "TenTTHC": s["TenTTHC"],
        "MaDVC": s["MaDVC"],
        "MaLinhVuc": s["MaLinhVuc"],
        "TenLinhVuc": s["TenLinhVuc"],
        "KenhThucHien": "1" if defects.on("wrong-kenh-thuc-hien", s) else ONLINE,
        "ChuHoSo": u["ho_va_ten"] or "",
        "LoaiDoiTuong": u["loai_tai_khoan"] or "1",
        "MaDoiTuong": (u["so_dinh_danh"] or "") if defects.on("wrong-ma-doi-tuong", s) else u["tech_id"],
        "SoGiayToChuHoSo": u["so_dinh_danh"] or "",
        "Email": u["email"] or "",
        "SoDienThoai": u["so_dien_thoai"] or "",
        "TrichYeuHoSo": f"{s['TenDVC']} - {u['ho_va_ten'] or ''}",
        "NgayNopHoSo": sync_date(d.row["submitted_at"], defects),
        "NgayTiepNhan": sync_date(d.row["received_at"], defects),
        "NgayHenTra": sync_date(d.row["due_at"], defects),
        "NgayTra": sync_date(d.row["returned_at"], defects),
        "NgayTuChoi": sync_date(d.row["rejected_at"], defects),
        "TrangThaiHoSo": portal_status(ctx, d.status),
        "HinhThuc": "0",
        "DonViXuLy": settings.agency_name,
        "DuocThanhToanTrucTuyen": "1" if online_payment and d.row["paid"] else "0",
        "TaiKhoanDuocXacThucVoiVNeID": "1",
        "GhiChu": "",
        "TaiLieuNop": [_document_item(ctx, doc) for doc in d.documents],
        "DanhSachLePhi": [_fee_item(i, online_payment) for i in charged_fee_items(s, defects)],
        "DanhSachHoSoBoSung": loads(d.row["supplement_json"], []),
        "DanhSachGiayToKetQua": _results(ctx, d),
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": u["so_dinh_danh"] or ""}],
    }


def portal_status(ctx, status: str) -> str:
    if status == "10" and ctx.defects.on("status-out-of-range"):
        return "11"
    return status


def _document_item(ctx, doc: sqlite3.Row) -> dict[str, Any]:
    reused = bool(doc["from_khodl"]) and not ctx.defects.on("khodl-reuse-not-marked")
    link = doc["khodl_url"] if doc["from_khodl"] else ctx.settings.public(f"/tep/{doc['token']}")
    return {
        "TepDinhKemId": str(doc["id"]),
        "TenTepDinhKem": doc["file_name"],
        "MaThanhPhanHoSo": doc["ma_tp"],
        "DuongDanTaiTepTin": link,
        "IsDeleted": "False",
        "DuocSoHoa": "False",
        "DuocTaiSuDung": "True" if reused else "False",
        "DuocLayTuKhoDMQG": "True" if reused else "False",
        "MaKetQuaThayThe": doc["khodl_code"] if reused else "",
    }


def _fee_item(item: dict[str, Any], online: bool) -> dict[str, Any]:
    return {"TenPhiLePhi": item["TenPhiLePhi"], "MaPhiLePhi": item["MaPhiLePhi"],
            "HinhThucThu": "2" if online else "1", "Gia": str(item["SoTien"]),
            "LoaiPhiLePhi": str(item["LoaiPhiLePhi"])}


def _results(ctx, d: Dossier) -> list[dict[str, Any]]:
    if not d.row["result_token"]:
        return []
    result = d.service.result
    return [{
        "TenGiayTo": result["TenGiayTo"],
        "MaThanhPhanHoSo": "",
        "GiayToId": d.row["result_id"] or "",
        "DuongDanTepTinKetQua": "" if ctx.defects.on("result-without-file-link")
        else ctx.settings.public(f"/ket-qua/{d.row['result_token']}.pdf"),
        "MaGiayToKetQua": "" if ctx.defects.on("result-without-type-code") else result["MaGiayToKetQua"],
    }]


def progress_item(ctx, d: Dossier, content: str, actor: dict[str, str], when: datetime) -> dict[str, Any]:
    """One item of CapNhatTienDoHoSoMC."""
    return {
        "MaHoSo": d.code,
        **actor,
        "ThoiDiemXuLy": sync_date(when, ctx.defects),
        "NoiDungXuLy": content,
        "TrangThai": portal_status(ctx, d.status),
        "NgayBatDau": sync_date(when, ctx.defects),
        "NgayKetThucTheoQuyDinh": sync_date(d.row["due_at"], ctx.defects),
    }


# --- sync ------------------------------------------------------------------------------------------------
def queue_dossier(ctx, conn: sqlite3.Connection, code: str, label: str) -> None:
    d = load(ctx, code, conn)
    first = conn.execute("SELECT COUNT(*) FROM outbox WHERE dossier_code=? AND service=?",
                         (code, outbox.DOSSIER)).fetchone()[0] == 0
    payload = {"isUpdating": "False" if first else "True", "data": [dossier_payload(ctx, d)]}
    outbox.enqueue(conn, code, outbox.DOSSIER, payload, label)


def queue_sync(ctx, conn: sqlite3.Connection, code: str, content: str, actor: dict[str, str],
               when: datetime) -> None:
    """Snapshot the dossier and one progress step into the outbox (same transaction as the change)."""
    queue_dossier(ctx, conn, code, content)
    item = progress_item(ctx, load(ctx, code, conn), content, actor, when)
    outbox.enqueue(conn, code, outbox.PROGRESS, {"data": [item]}, content)


def _queue_late_approval(ctx, conn: sqlite3.Connection, code: str) -> None:
    """Seeded defect: the approval snapshot (status 9) is synced again after the return (10)."""
    item = dossier_payload(ctx, load(ctx, code, conn))
    item.update(TrangThaiHoSo="9", NgayTra="")
    outbox.enqueue(conn, code, outbox.DOSSIER, {"isUpdating": "True", "data": [item]}, "Đồng bộ lại kết quả phê duyệt")


# --- officer transitions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    slug: str
    button: str
    allowed_from: frozenset[str]
    to: str
    progress: str


ACTIONS: dict[str, Action] = {a.slug: a for a in (
    Action("tiep-nhan", "Tiếp nhận", frozenset({"1", "5"}), "2", "Tiếp nhận hồ sơ"),
    Action("yeu-cau-bo-sung", "Yêu cầu bổ sung", frozenset({"2", "4"}), "5", "Yêu cầu bổ sung giấy tờ"),
    Action("xu-ly", "Xử lý", frozenset({"2"}), "4", "Chuyển xử lý hồ sơ"),
    Action("phe-duyet", "Phê duyệt", frozenset({"4"}), "9", "Phê duyệt, ban hành kết quả"),
    Action("tra-ket-qua", "Trả kết quả", frozenset({"9"}), "10", "Trả kết quả điện tử cho công dân"),
)}


class TransitionError(Exception):
    pass


def actions_for(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.allowed_from]


def apply_action(ctx, code: str, slug: str, note: str = "") -> str:
    """Move a dossier through one officer step and queue the sync; returns the new status."""
    from examples.ministry import results  # PDF generation only when approving

    action = ACTIONS.get(slug)
    if action is None:
        raise TransitionError("Thao tác không hợp lệ.")
    now = ctx.clock.now()
    with ctx.db.transaction() as conn:
        d = load(ctx, code, conn)
        if d is None:
            raise TransitionError("Không tìm thấy hồ sơ.")
        if d.status not in action.allowed_from:
            raise TransitionError(f"Không thể '{action.button}' hồ sơ đang ở trạng thái "
                                  f"'{STATUS_NAMES.get(d.status, d.status)}'.")
        updates: dict[str, Any] = {"status": action.to, "updated_at": now.isoformat()}
        if slug == "tiep-nhan":
            updates["received_at"] = now.isoformat()
            updates["due_at"] = add_working_days(now, int(d.service.get("processing_days", 1))).isoformat()
        elif slug == "yeu-cau-bo-sung":
            requests = loads(d.row["supplement_json"], [])
            requests.append({"NoiDungBoSung": note or "Đề nghị bổ sung giấy tờ theo quy định",
                             "NgayYeuCau": sync_date(now, ctx.defects)})
            updates["supplement_json"] = dumps(requests)
        elif slug == "phe-duyet":
            token, path, result_id = results.issue_result(ctx, d, now)
            updates.update(result_token=token, result_path=path, result_id=result_id, finished_at=now.isoformat())
        elif slug == "tra-ket-qua":
            updates["returned_at"] = now.isoformat()
        assignments = ", ".join(f"{k}=?" for k in updates)
        conn.execute(f"UPDATE dossiers SET {assignments} WHERE code=?", (*updates.values(), code))
        add_history(conn, code, action.to, action.progress, ctx.settings.officer_name, now, note)
        if not (slug == "xu-ly" and ctx.defects.on("status-skipped")):
            queue_sync(ctx, conn, code, action.progress, officer_actor(ctx.settings), now)
        if slug == "tra-ket-qua" and ctx.defects.on("status-out-of-order"):
            _queue_late_approval(ctx, conn, code)
    ctx.wake.set()
    return action.to
