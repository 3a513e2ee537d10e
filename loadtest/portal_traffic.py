"""Raw portal traffic: the adapter's dossier sync and look-ups, straight at the portal (no system under test).

Measures what the portal side (the mock, in a harness run) sustains, and the load generator's own ceiling.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from kiemthu.runtime import VN_TZ

AUTH_STEP = "portal: auth"


def _problem_text(data) -> str:
    """The reason a portal reply gives (first rule broken, else its message), short and stable for grouping."""
    if not isinstance(data, dict):
        return ""
    errors = data.get("errors") or []
    if errors and isinstance(errors[0], dict):
        e = errors[0]
        return f"{e.get('field', '')} {e.get('rule', '')}".strip()[:120]
    return str(data.get("message", ""))[:120]


class PortalClient:
    """One simulated adapter client: a session, a few dossiers of its own, and the configured calls."""

    def __init__(self, client, ctx, *, own_dossiers: int = 5):
        self.client, self.ctx = client, ctx
        paths = ctx.profile["adapter"]["paths"]
        base = ctx.settings.portal_url
        self.auth_url = base + paths["auth"]
        self.integration_url = base + paths["integration"]
        self.share_url = base + paths["share"]
        # the cheapest document the portal itself serves (the control plane is not the portal's, and not loaded)
        self.health_url = base + ctx.profile["sso"]["paths"]["discovery"]
        self.header = ctx.profile["adapter"].get("session_header", "dstcode")
        acct = ctx.adapter or {}
        self.username = acct.get("username", "")
        self.dstcode = acct.get("dstcode", ctx.agency_code)
        self.madonvi = acct.get("madonvi") or self.dstcode
        self.session: str | None = None
        self.codes: list[str] = []
        self.created: set[str] = set()
        self.own_dossiers = own_dossiers
        self.scenarios = [s.scenario for s in ctx.services] or [{}]
        # a date of the reserved year 2000 keeps these synthetic codes apart from the system's real ones
        self.code_prefix = f"{ctx.agency_code}-00{random.randint(1, 12):02d}{random.randint(1, 28):02d}"

    # --- calls -------------------------------------------------------------------------------------
    def _post(self, url: str, body: dict[str, Any], name: str) -> dict[str, Any] | None:
        with self.client.post(url, json=body, headers={self.header: self.dstcode}, name=name,
                              catch_response=True) as resp:
            try:
                data = resp.json()
            except ValueError:
                data = None
            if resp.status_code != 200 or not isinstance(data, dict):
                detail = _problem_text(data)
                resp.failure(f"HTTP {resp.status_code}{': ' + detail if detail else ''}")
                if resp.status_code in (401, 403):
                    self.session = None
                return None
            code = data.get("error_code")
            if str(code) != "0":
                resp.failure(f"error_code={code}: {_problem_text(data)}")
                if name != AUTH_STEP:
                    self.session = None  # an expired session is the usual cause: log in again next time
                return None
            resp.success()
            return data

    def login(self) -> bool:
        data = self._post(self.auth_url, {"username": self.username, "password": self.ctx.adapter_password() or ""},
                          AUTH_STEP)
        self.session = (data or {}).get("session")
        return bool(self.session)

    def _call(self, url: str, service: str, **fields: Any) -> dict[str, Any] | None:
        if not self.session and not self.login():
            return None
        body = {"session": self.session, "madonvi": self.madonvi, "service": service, **fields}
        return self._post(url, body, f"portal: {service}")

    def _new_code(self) -> str:
        return f"{self.code_prefix}-{random.randrange(0, 10000):04d}"

    def sync_dossier(self) -> None:
        if len(self.codes) < self.own_dossiers:
            code, updating = self._new_code(), False
        else:
            code = random.choice(self.codes)
            updating = code in self.created
        sc = random.choice(self.scenarios)
        now = datetime.now(VN_TZ).strftime("%Y%m%d%H%M%S")
        dossier = {
            "MaHoSo": code, "MaTTHC": sc.get("MaTTHC", "1.000000"), "TenTTHC": sc.get("TenTTHC", "Thủ tục thử tải"),
            "MaLinhVuc": sc.get("MaLinhVuc", "LV"), "TenLinhVuc": sc.get("TenLinhVuc", "Lĩnh vực"),
            "KenhThucHien": "1", "ChuHoSo": "Người nộp thử tải", "LoaiDoiTuong": "1", "MaDoiTuong": "THU-TAI",
            "TrichYeuHoSo": "Hồ sơ thử tải (kiemthu load)", "NgayNopHoSo": now, "NgayTiepNhan": "",
            "NgayHenTra": "", "TrangThaiHoSo": "1", "DonViXuLy": self.ctx.target["system"].get("agency_name", ""),
            "DuocThanhToanTrucTuyen": "0", "TaiLieuNop": [], "DanhSachLePhi": [], "DanhSachHoSoBoSung": [],
            "DanhSachGiayToKetQua": [],
        }
        if self._call(self.integration_url, "DongBoHoSoMC", isUpdating="True" if updating else "False",
                      data=[dossier]) is not None:
            if code not in self.codes:
                self.codes.append(code)
            self.created.add(code)

    def look_up_dossier(self) -> None:
        if not self.codes:
            self.sync_dossier()
            return
        self._call(self.share_url, "TraCuuHoSo", mahoso=random.choice(self.codes))

    def list_procedures(self) -> None:
        self._call(self.share_url, "LayDanhSachTTHC")

    def procedure(self) -> None:
        self._call(self.share_url, "LayThuTuc", maTTHC=random.choice(self.scenarios).get("MaTTHC", "1.000000"))

    def health(self) -> None:
        self.client.get(self.health_url, name="portal: health")

    def one(self, service: str) -> None:
        {"DongBoHoSoMC": self.sync_dossier, "TraCuuHoSo": self.look_up_dossier,
         "LayDanhSachTTHC": self.list_procedures, "LayThuTuc": self.procedure, "health": self.health}[service]()
