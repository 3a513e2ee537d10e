"""Fixtures for the reference ministry system: the app in-process against a respx fake portal."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import respx
from fastapi.testclient import TestClient

from examples.ministry.app import create_app
from examples.ministry.config import load_settings
from examples.ministry.defects import Defects
from examples.ministry.outbox import Outbox
from tests.ministry.fakeportal import FakePortal, query_of

FILES = Path(__file__).resolve().parents[2] / "scenarios" / "files"
PDF = (FILES / "to-khai.pdf").read_bytes()
SAMPLES = {
    "lltp-cap-phieu": {"MucDich": "Bổ sung hồ sơ xin việc", "SoLuongBan": "1"},
    "khai-sinh": {"HoTenTre": "Nguyễn Minh Khôi", "NgaySinhTre": "2026-01-01", "NoiSinh": "Hà Nội"},
    "ket-hon": {"HoTenBenKia": "Trần Thị Mai", "SoDinhDanhBenKia": "001196004321"},
}


@dataclass
class Harness:
    client: TestClient
    portal: FakePortal
    app: Any

    @property
    def ctx(self):
        return self.app.state.ministry

    # --- citizen ---------------------------------------------------------------------------------
    def deep_link(self, service_id: str) -> str:
        s = self.ctx.catalogue.by_id(service_id)
        return (f"/dvc/nop-ho-so?MaTTHCDP={s['MaTTHCDP']}&MaCoQuanThucHien={self.ctx.settings.agency_code}"
                f"&vnconnect=1&MaDVC={s['MaDVC']}")

    def start_login(self, path: str):
        r = self.client.get(path, follow_redirects=False)
        assert r.status_code == 303, r.text
        return r.headers["location"]

    def login(self, service_id: str = "lltp-cap-phieu", identity: dict | None = None):
        """SSO round trip; returns the response of the callback (not followed)."""
        authorize = self.start_login(self.deep_link(service_id))
        code, state = self.portal.issue_code(authorize, identity)
        return self.client.get(f"/sso/callback?code={code}&state={state}", follow_redirects=False)

    def step1(self, service_id: str, values: dict[str, str] | None = None):
        s = self.ctx.catalogue.by_id(service_id)
        form = {"dich_vu": service_id, "HoVaTen": "Nguyễn Văn An", "SoDinhDanh": "001090001234",
                **SAMPLES[service_id]}
        form.update(values or {})
        form = {k: v for k, v in form.items() if k == "dich_vu" or any(f["name"] == k for f in s.fields)}
        return self.client.post("/dvc/nop-ho-so/buoc-1", data=form, follow_redirects=False)

    def step2(self, draft_id: str, files: dict[str, tuple] | None = None, data: dict | None = None,
              consent: bool = True):
        form = {"ho_so_nhap": draft_id, **({"cam_doan": "1"} if consent else {}), **(data or {})}
        return self.client.post("/dvc/nop-ho-so/buoc-2", data=form, files=files or {}, follow_redirects=False)

    def all_files(self, service_id: str) -> dict[str, tuple]:
        from examples.ministry.catalogue import form_documents

        s = self.ctx.catalogue.by_id(service_id)
        docs = form_documents(s, self.ctx.catalogue, self.ctx.defects)
        return {f"tp_{d['MaThanhPhanHoSo']}": (f"{d['MaThanhPhanHoSo']}.pdf", PDF, "application/pdf") for d in docs}

    def submit(self, service_id: str = "lltp-cap-phieu") -> str:
        """Log in if needed, fill both steps, return the dossier code."""
        if self.client.get("/ho-so-cua-toi", follow_redirects=False).status_code != 200:
            r = self.login(service_id)
            assert r.status_code == 303, r.text
        r = self.step1(service_id)
        assert r.status_code == 303, r.text
        draft = query_of(r.headers["location"])["ho_so_nhap"]
        r = self.step2(draft, self.all_files(service_id))
        assert r.status_code == 303, r.text
        return r.headers["location"].rsplit("/", 1)[1]

    def start_payment(self, code: str) -> str:
        r = self.client.get(f"/thanh-toan/khoi-tao/{code}", follow_redirects=False)
        assert r.status_code == 303, r.text
        return [ref for ref, m in self.portal.inits.items() if m["ThongTinBienLai"]["MaHoSo"] == code][-1]

    def ipn(self, message: dict) -> dict:
        r = self.client.post("/thanh-toan/ipn", json=message)
        assert r.status_code == 200, r.text
        return r.json()

    # --- officer ---------------------------------------------------------------------------------
    def officer_login(self):
        r = self.client.post("/can-bo/dang-nhap", data={"ten_dang_nhap": "canbo", "mat_khau": "officer-secret-test"},
                             follow_redirects=False)
        assert r.status_code == 303, r.text

    def act(self, code: str, action: str):
        r = self.client.post(f"/can-bo/ho-so/{code}/{action}", follow_redirects=False)
        assert r.status_code == 303 and "loi=" not in r.headers["location"], r.headers.get("location")
        return r

    def process(self, code: str, through: str = "tra-ket-qua"):
        for action in ("tiep-nhan", "xu-ly", "phe-duyet", "tra-ket-qua"):
            self.act(code, action)
            if action == through:
                break

    # --- outbox ----------------------------------------------------------------------------------
    def drain(self, rounds: int = 50) -> None:
        """Deliver every deliverable message, ignoring backoff delays."""
        box = Outbox(self.ctx)
        for _ in range(rounds):
            before = box.counts()
            if box.deliver_ready(now=time.time() + 3600) == 0 or box.counts() == before:
                return


@pytest.fixture
def make_ministry(tmp_path, monkeypatch):
    """Factory: `make_ministry(*defects)` → Harness with a fresh database and fake portal."""
    started = []

    def make(*defects: str, portal: FakePortal | None = None) -> Harness:
        portal = portal or FakePortal()
        env = {**portal.env(), "MINISTRY_PUBLIC_URL": "http://testserver",
               "MINISTRY_DB": str(tmp_path / f"m{len(started)}" / "ministry.db")}
        settings = load_settings(env=env)
        app = create_app(settings, Defects(defects), run_worker=False)
        router = respx.mock(assert_all_called=False)
        portal.mount(router)
        router.start()
        client = TestClient(app)
        client.__enter__()
        started.append((client, router))
        return Harness(client, portal, app)

    yield make
    for client, router in started:
        client.__exit__(None, None, None)
        router.stop()


@pytest.fixture
def ministry(make_ministry) -> Harness:
    return make_ministry()


@pytest.fixture(scope="session")
def pair(tmp_path_factory):
    """The mock portal and the ministry system (no defect) as real processes, shared by the slow tests."""
    from tests.ministry.pair import running_pair

    with running_pair(tmp_path_factory.mktemp("pair")) as p:
        yield p
