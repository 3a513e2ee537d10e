"""A small scriptable stand-in for the national portal, served through respx, for fast HTTP-level tests of the
reference ministry system. Every adapter and payment message is validated against the contract's JSON Schemas,
so a malformed message fails the test even where the fake is lenient."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import respx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from schemas import validator

PORTAL = "http://portal.test"
IDENTITY = {
    "sub": "tech-0001", "TechID": "tech-0001", "LoaiTaiKhoan": "1", "HoVaTen": "Nguyễn Văn An",
    "SoDinhDanh": "001090001234", "SoCMND": "001090001234", "ThuDienTu": "an@example.vn",
    "SoDienThoai": "0912345678", "ThuongTru": "Hà Nội", "loAs": "LoA2",
}
IPN_FIELDS = ["LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich", "MaNganHang",
              "ThoiGianGD", "ThongTinGiaoDich"]
INIT_FIELDS = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan", "MaKenhThanhToan",
               "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip"]


_KEYS: dict[str, RSAKey] = {}


def rsa_key(name: str) -> RSAKey:
    """RSA keys are slow to generate: one per name for the whole test session."""
    if name not in _KEYS:
        _KEYS[name] = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    return _KEYS[name]


def sha(values: list[str], secret: str) -> str:
    return hashlib.sha256("|".join(values + [secret]).encode()).hexdigest()


@dataclass
class Call:
    service: str
    body: dict[str, Any]
    status: int
    reply: dict[str, Any]


@dataclass
class FakePortal:
    client_id: str = "btp-motcua"
    client_secret: str = "sso-secret-test"
    partner: str = "BTP"
    payment_secret: str = "pay-secret-test"
    adapter_user: str = "btp"
    adapter_password: str = "adapter-secret-test"
    dstcode: str = "000.00.00.G15"
    key: RSAKey = field(default_factory=lambda: rsa_key("portal"))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_claims: dict[str, Any] = field(default_factory=dict)      # overrides of the next ID tokens
    sign_with: RSAKey | None = None                                  # another key: a forged signature
    calls: list[Call] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)              # dossier -> status on the portal
    outage: bool = False                                             # adapter answers 503
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)   # accepted INITs
    inits: dict[str, dict[str, Any]] = field(default_factory=dict)      # every INIT received
    query_paid: bool = False
    sessions: set[str] = field(default_factory=set)
    schema_errors: list[str] = field(default_factory=list)

    # --- SSO -----------------------------------------------------------------------------------------
    def issue_code(self, authorize_url: str, identity: dict[str, Any] | None = None) -> tuple[str, str]:
        """What the portal does after the citizen logs in: (code, state) for the callback."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert q["client_id"] == self.client_id and q["response_type"] == "code"
        code = secrets.token_urlsafe(12)
        self.codes[code] = {"nonce": q.get("nonce"), "identity": identity or IDENTITY, "acr": q.get("acr_values")}
        return code, q["state"]

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {"iss": f"{PORTAL}/oauth2/token", "aud": self.client_id, "sub": grant["identity"]["sub"],
                  "iat": now, "exp": now + 3600, "acr": grant.get("acr") or "LoA1"}
        if grant.get("nonce"):
            claims["nonce"] = grant["nonce"]
        claims.update(self.token_claims)
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("client_secret") != self.client_secret:
            return httpx.Response(400, json={"error": "invalid_grant"})
        access = "at-" + secrets.token_urlsafe(8)
        self.codes["access:" + access] = grant
        return httpx.Response(200, json={"access_token": access, "id_token": self.id_token(grant),
                                         "token_type": "Bearer", "expires_in": 3600})

    def userinfo(self, request: httpx.Request) -> httpx.Response:
        access = request.headers.get("authorization", "").removeprefix("Bearer ")
        grant = self.codes.get("access:" + access)
        return httpx.Response(200, json=grant["identity"]) if grant else httpx.Response(401)

    def jwks(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=KeySet([self.key]).as_dict(private=False))

    # --- adapter -------------------------------------------------------------------------------------
    def _check(self, schema: str, body: Any) -> None:
        for err in validator(schema, "dvcqg-1.0").iter_errors(body):
            self.schema_errors.append(f"{schema}: {'/'.join(map(str, err.absolute_path))}: {err.message}")

    def auth(self, request: httpx.Request) -> httpx.Response:
        if self.outage:
            return httpx.Response(503, json={"error_code": 9, "message": "unavailable"})
        body = _json(request)
        if request.headers.get("dstcode") != self.dstcode or body.get("password") != self.adapter_password:
            return httpx.Response(401, json={"error_code": 2, "message": "sai"})
        session = secrets.token_hex(8)
        self.sessions.add(session)
        return httpx.Response(200, json={"session": session, "error_code": 0, "message": "Thành công"})

    def integration(self, request: httpx.Request) -> httpx.Response:
        body = _json(request)
        service = body.get("service", "")
        if self.outage:
            return self._record(service, body, 503, {"error_code": 9, "message": "unavailable", "result": []})
        if body.get("session") not in self.sessions:
            return self._record(service, body, 401, {"error_code": 1, "message": "Phiên không hợp lệ", "result": []})
        self._check(service, body)
        if service == "CapNhatTienDoHoSoMC":
            unknown = [i["MaHoSo"] for i in body["data"] if i["MaHoSo"] not in self.known]
            if unknown:
                return self._record(service, body, 422, {"error_code": 5, "message": "chưa có hồ sơ", "result": []})
        if service == "DongBoHoSoMC":
            for item in body["data"]:
                self.known[item["MaHoSo"]] = item["TrangThaiHoSo"]
        return self._record(service, body, 200, {"error_code": 0, "message": "Thành công", "result": []})

    def _record(self, service: str, body: dict, status: int, reply: dict) -> httpx.Response:
        self.calls.append(Call(service, body, status, reply))
        return httpx.Response(status, json=reply)

    def khodl(self, request: httpx.Request) -> httpx.Response:
        body = _json(request)
        self._check("GetKetQuaGiayTo", body)
        papers = [{"MaKetQua": "KQ.G01.000023", "TenGiayTo": "Thẻ căn cước công dân", "SoKyHieu": "001090001234",
                   "CoQuanChuQuan": "Bộ Công an",
                   "DanhSachTepDinhKem": [{"TenTep": "can-cuoc.pdf", "DuongDan": f"{PORTAL}/khodl/files/cc-1"}]}]
        return httpx.Response(200, json={"error_code": 0, "message": "Thành công",
                                         "result": {"DanhSachGiayToKetQua": papers}})

    def sent(self, service: str | None = None, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if (service is None or c.service == service) and (c.status == 200 or not ok_only)]

    def statuses(self, code: str) -> list[str]:
        return [i["TrangThaiHoSo"] for c in self.sent("DongBoHoSoMC") for i in c.body["data"] if i["MaHoSo"] == code]

    # --- payment -------------------------------------------------------------------------------------
    def init(self, request: httpx.Request) -> httpx.Response:
        body = _json(request)
        self._check("PaymentInit", body)
        self.inits[body["MaThamChieu"]] = body
        expected = sha([str(body.get(f, "")) for f in INIT_FIELDS], self.payment_secret)
        if body.get("MaXacThuc") != expected:
            return httpx.Response(200, json={"MaLoi": "01", "MoTaLoi": "Sai mã xác thực"})
        self.payments[body["MaThamChieu"]] = body
        return httpx.Response(200, json={"MaLoi": "00", "UrlThanhToan": f"{PORTAL}/paymentplatform/pay/t1"})

    def query(self, request: httpx.Request) -> httpx.Response:
        body = _json(request)
        init = self.payments.get(body["MaThamChieu"])
        if init is None or not self.query_paid:
            return httpx.Response(200, json={"MaLoi": "00", "TrangThaiGD": "01", "MaThamChieu": body["MaThamChieu"]})
        return httpx.Response(200, json={**self.callback(body["MaThamChieu"]), "TrangThaiGD": "00"})

    def callback(self, ref: str, *, ma_loi: str = "00", amount: int | None = None, secret: str | None = None,
                 txn: str = "GD0001") -> dict[str, Any]:
        """The IPN / return fields the platform sends for a payment."""
        init = self.inits[ref]
        msg = {"LoaiBanTin": "IPN", "MaLoi": ma_loi, "MaDoiTac": self.partner, "MaThamChieu": ref,
               "SoTien": int(init["SoTien"]) if amount is None else amount, "MaTienTe": "VND", "MaGiaoDich": txn,
               "MaNganHang": "VCB", "ThoiGianGD": time.strftime("%Y%m%d%H%M%S"),
               "ThongTinGiaoDich": init["ThongTinGiaoDich"]}
        msg["MaXacThuc"] = sha([str(msg[f]) for f in IPN_FIELDS], secret or self.payment_secret)
        return msg

    # --- wiring --------------------------------------------------------------------------------------
    def mount(self, router: respx.MockRouter) -> None:
        router.post(f"{PORTAL}/oauth2/token").mock(side_effect=self.token)
        router.get(f"{PORTAL}/oauth2/userinfo").mock(side_effect=self.userinfo)
        router.get(f"{PORTAL}/oauth2/jwks").mock(side_effect=self.jwks)
        router.post(f"{PORTAL}/adapter/auth").mock(side_effect=self.auth)
        router.post(f"{PORTAL}/adapter/integration").mock(side_effect=self.integration)
        router.post(f"{PORTAL}/khodl/GetKetQuaGiayTo").mock(side_effect=self.khodl)
        router.post(f"{PORTAL}/paymentplatform/init").mock(side_effect=self.init)
        router.post(f"{PORTAL}/paymentplatform/query").mock(side_effect=self.query)

    def env(self) -> dict[str, str]:
        return {
            "MINISTRY_PORTAL_URL": PORTAL, "MINISTRY_SSO_CLIENT_ID": self.client_id,
            "MINISTRY_SSO_CLIENT_SECRET": self.client_secret, "MINISTRY_PAYMENT_PARTNER": self.partner,
            "MINISTRY_PAYMENT_SECRET": self.payment_secret, "MINISTRY_ADAPTER_USER": self.adapter_user,
            "MINISTRY_ADAPTER_PASSWORD": self.adapter_password, "MINISTRY_AGENCY_CODE": self.dstcode,
            "MINISTRY_OFFICER_USER": "canbo", "MINISTRY_OFFICER_PASSWORD": "officer-secret-test",
        }


def _json(request: httpx.Request) -> dict[str, Any]:
    import json

    return json.loads(request.content or b"{}")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(path: str, params: dict[str, Any]) -> str:
    return f"{path}?{urlencode(params)}"
