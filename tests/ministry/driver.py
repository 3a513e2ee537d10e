"""Drive the running ministry system over plain HTTP (no browser): SSO through the mock's login form, the
submission wizard, and the officer's buttons. Used where a browser adds nothing (outage, concurrency)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx

FILES = Path(__file__).resolve().parents[2] / "scenarios" / "files"
KHAI_SINH = {"MaTTHCDP": "1.001193.000.00.00.G15", "MaDVC": "1.001193.01"}
TECHID_AN = "5b1f0e7a-0c3d-4d2a-9f51-3a7c2e10a001"


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name}"
    return m.group(1)


class Citizen:
    def __init__(self, ministry_url: str, techid: str = TECHID_AN):
        self.base, self.techid = ministry_url, techid
        self.http = httpx.Client(follow_redirects=True, timeout=20)

    def open_service(self, service: dict, agency: str = "000.00.00.G15") -> httpx.Response:
        url = (f"{self.base}/dvc/nop-ho-so?MaTTHCDP={service['MaTTHCDP']}&MaCoQuanThucHien={agency}"
               f"&vnconnect=1&MaDVC={service['MaDVC']}")
        r = self.http.get(url)
        if "/authenticationendpoint/login" in str(r.url):
            parts = urlsplit(str(r.url))
            r = self.http.post(f"{parts.scheme}://{parts.netloc}{parts.path}",
                               data={"sessionDataKey": hidden(r.text, "sessionDataKey"), "techid": self.techid,
                                     "acr": "LoA2"})
        assert "Bước 1: Thông tin người nộp" in r.text, r.text[:500]
        return r

    def submit_khai_sinh(self) -> str:
        r = self.open_service(KHAI_SINH)
        r = self.http.post(f"{self.base}/dvc/nop-ho-so/buoc-1", data={
            "dich_vu": "khai-sinh", "HoVaTen": "Nguyễn Văn An", "HoTenTre": "Nguyễn Minh Khôi",
            "NgaySinhTre": "2026-01-01", "NoiSinh": "Hà Nội"})
        draft = hidden(r.text, "ho_so_nhap")
        pdf = (FILES / "to-khai.pdf").read_bytes()
        r = self.http.post(f"{self.base}/dvc/nop-ho-so/buoc-2", data={"ho_so_nhap": draft, "cam_doan": "1"},
                           files={"tp_TP-KS-01": ("to-khai.pdf", pdf, "application/pdf"),
                                  "tp_TP-KS-02": ("giay-chung-sinh.pdf", pdf, "application/pdf")})
        m = re.search(r'id="ma-ho-so">([^<]+)<', r.text)
        assert m, r.text[:800]
        return m.group(1)


class Officer:
    def __init__(self, ministry_url: str, username: str, password: str):
        self.base = ministry_url
        self.http = httpx.Client(follow_redirects=True, timeout=20)
        r = self.http.post(f"{self.base}/can-bo/dang-nhap", data={"ten_dang_nhap": username, "mat_khau": password})
        assert "Danh sách hồ sơ" in r.text

    def act(self, code: str, action: str) -> None:
        r = self.http.post(f"{self.base}/can-bo/ho-so/{code}/{action}")
        assert "loi=" not in str(r.url), str(r.url)
