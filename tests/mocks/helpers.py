"""Builders of valid portal messages and a uvicorn server in a thread, for the mock portal's tests.

Checksums here are computed independently of mocks/ (hashlib, field orders written out as docs/domain/ writes them)."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta
from typing import Any

import uvicorn

from kiemthu.runtime import VN_TZ, free_port, wait_until

AGENCY = "000.00.00.G15"
LLTP = {"MaTTHC": "2.001417", "TenTTHC": "Cấp Phiếu lý lịch tư pháp", "MaLinhVuc": "G15-LLTP",
        "TenLinhVuc": "Lý lịch tư pháp"}
TECHID_AN = "5b1f0e7a-0c3d-4d2a-9f51-3a7c2e10a001"

INIT_ORDER = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan", "MaKenhThanhToan",
              "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip"]
IPN_ORDER = ["LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich", "MaNganHang",
             "ThoiGianGD", "ThongTinGiaoDich"]
QUERY_ORDER = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"]


def sha256_fields(msg: dict[str, Any], order: list[str], secret: str) -> str:
    return hashlib.sha256("|".join([str(msg[f]) for f in order] + [secret]).encode("utf-8")).hexdigest()


def now_vn(delta_s: float = 0) -> datetime:
    return datetime.now(VN_TZ) + timedelta(seconds=delta_s)


def stamp(delta_s: float = 0) -> str:
    return now_vn(delta_s).strftime("%Y%m%d%H%M%S")


def dossier_code(seq: int, agency: str = AGENCY, day: datetime | None = None) -> str:
    return f"{agency}-{(day or now_vn()):%y%m%d}-{seq:04d}"


def dossier(code: str, status: str = "1", **extra: Any) -> dict[str, Any]:
    item = {
        "MaHoSo": code, **LLTP, "KenhThucHien": "2", "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": "1",
        "MaDoiTuong": TECHID_AN, "SoGiayToChuHoSo": "001090012345", "Email": "nguyenvanan@example.vn",
        "SoDienThoai": "0912345678", "TrichYeuHoSo": "Cấp phiếu LLTP số 1", "NgayNopHoSo": stamp(-120),
        "NgayTiepNhan": stamp(-60) if status != "1" else "", "NgayHenTra": stamp(10 * 86400), "NgayTra": "",
        "NgayTuChoi": "", "TrangThaiHoSo": status, "HinhThuc": "0", "DonViXuLy": "Trung tâm LLTP quốc gia",
        "DuocThanhToanTrucTuyen": "1", "TaiKhoanDuocXacThucVoiVNeID": "1", "GhiChu": "",
        "TaiLieuNop": [{"TepDinhKemId": "1", "TenTepDinhKem": "to-khai.pdf", "MaThanhPhanHoSo": "TP-LLTP-01",
                        "DuongDanTaiTepTin": "http://127.0.0.1:8801/tep/1", "IsDeleted": "False", "DuocSoHoa": "False",
                        "DuocTaiSuDung": "False", "DuocLayTuKhoDMQG": "False", "MaKetQuaThayThe": ""}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí cấp Phiếu LLTP", "MaPhiLePhi": "LP-LLTP", "HinhThucThu": "1",
                           "Gia": "200000", "LoaiPhiLePhi": "2"}],
        "DanhSachHoSoBoSung": [], "DanhSachGiayToKetQua": [],
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "001090012345"}],
    }
    item.update(extra)
    return item


def sync_message(session: str, items: list[dict], updating: bool = False, madonvi: str = AGENCY) -> dict[str, Any]:
    return {"session": session, "madonvi": madonvi, "service": "DongBoHoSoMC",
            "isUpdating": "True" if updating else "False", "data": items}


def progress_item(code: str, **extra: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "NguoiXuLy": "Trần Văn Bảo", "ChucDanh": "Chuyên viên", "ThoiDiemXuLy": stamp(-5),
            "PhongBanXuLy": "Phòng Tiếp nhận", "NoiDungXuLy": "Tiếp nhận hồ sơ", "TrangThai": "1",
            "NgayBatDau": stamp(-5), "NgayKetThucTheoQuyDinh": stamp(86400), **extra}


def init_message(partner: str, secret: str, ref: str, code: str, amount: int = 200000, **extra: Any) -> dict[str, Any]:
    msg = {"LoaiBanTin": "INIT", "PhienBan": "1.0.6", "MaDoiTac": partner, "MaThamChieu": ref, "SoTien": str(amount),
           "LoaiHinhThanhToan": "PAY", "MaKenhThanhToan": "1", "MaThietBi": "1", "NgonNgu": "vi-VN", "MaTienTe": "VND",
           "MaNganHang": "", "ThongTinGiaoDich": f"Thanh toan le phi ho so {code}", "ThoiGianGD": stamp(), "Ip": "127.0.0.1"}
    msg.update(extra)
    msg["MaXacThuc"] = sha256_fields(msg, INIT_ORDER, secret)
    msg["ThongTinBienLai"] = {
        "MaDichVu": "1", "MaDVC": "2.001417.01", "TenDVC": "Cấp Phiếu lý lịch tư pháp trực tuyến", "MaTTHC": "2.001417",
        "TenTTHC": "Cấp Phiếu lý lịch tư pháp", "MaDonVi": AGENCY, "TenDonVi": "Bộ Tư pháp", "MaHoSo": code,
        "TKThuHuong": "0011000000001", "MaNHThuHuong": "VCB", "TenTKThuHuong": "Bộ Tư pháp",
        "NoiDungThanhToan": f"Lệ phí hồ sơ {code}", "HoTenNguoiNop": "Nguyễn Văn An", "SoCMNDNguoiNop": "001090012345",
        "DiaChiNguoiNop": "Hà Nội",
        "PhiLePhi": [{"LoaiPhiLePhi": "2", "MaPhiLePhi": "LP-LLTP", "TenPhiLePhi": "Lệ phí cấp Phiếu LLTP",
                      "SoTien": amount}],
        "DSKhoanNop": [{"NoiDung": "Lệ phí", "SoTien": str(amount)}]}
    return msg


def query_message(kind: str, partner: str, secret: str, ref: str) -> dict[str, Any]:
    msg = {"LoaiBanTin": kind, "PhienBan": "1.0.6", "MaDoiTac": partner, "MaThamChieu": ref, "ThoiGianGD": stamp()}
    msg["MaXacThuc"] = sha256_fields(msg, QUERY_ORDER, secret)
    return msg


class ThreadServer:
    """A uvicorn server for an ASGI app in a background thread, on a free loopback port."""

    def __init__(self, app, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @classmethod
    def mock_portal(cls, settings) -> "ThreadServer":
        """The mock portal's two planes, as `python -m mocks` serves them: the portal on the settings' port, the
        control plane on a free one (`control_url`, `control_headers`), `portal` the shared state."""
        from mocks.server import bind, build_server

        self = cls.__new__(cls)
        portal_sock, control_sock = bind("127.0.0.1", settings.listen_port), bind("127.0.0.1", 0)
        self.server, app = build_server(settings, portal_sock, control_sock)
        self.port, self.url = settings.listen_port, f"http://127.0.0.1:{settings.listen_port}"
        self.control_url, self.portal = settings.control.url, app.state.portal
        self.control_headers = {"Authorization": f"Bearer {settings.control.token}"}
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [portal_sock, control_sock]},
                                       daemon=True)
        return self

    def start(self) -> "ThreadServer":
        self.thread.start()
        wait_until(lambda: self.server.started, 10, what=f"server on {self.url}")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
