from __future__ import annotations

import sys
import threading
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from kiemthu.runtime import free_port
from mocks.settings import AdapterAccount, MockSettings, PaymentPartner, SsoClient
from tests.mocks.helpers import AGENCY, ThreadServer

# servers run in threads of the test process: hand the GIL over quickly so client and server are not
# serialised in 5 ms slices
sys.setswitchinterval(0.0005)

CLIENT_ID, CLIENT_SECRET = "btp-motcua", "sso-secret-for-tests"
PARTNER, PAY_SECRET = "BTP", "payment-secret-for-tests"
USER, PASSWORD = "btp", "adapter-password-for-tests"


class Agency:
    """A stand-in agency endpoint: records IPNs and answers them as told (`replies`: list of MaLoi, then 00)."""

    def __init__(self) -> None:
        self.ipns: list[dict[str, Any]] = []
        self.replies: list[str] = []
        self.lock = threading.Lock()
        self.app = FastAPI()

        @self.app.post("/thanh-toan/ipn")
        async def ipn(request: Request):
            body = await request.json()
            with self.lock:
                self.ipns.append(body)
                code = self.replies.pop(0) if self.replies else "00"
            return {"MaLoi": code, "MoTaLoi": "Thành công" if code == "00" else "Lỗi", "MaDoiTac": body.get("MaDoiTac"),
                    "MaThamChieu": body.get("MaThamChieu"), "MaXacThuc": body.get("MaXacThuc")}

        @self.app.get("/sso/callback")
        async def callback():
            return {"ok": True}


def make_settings(base_url: str, agency_url: str, db_path: str = ":memory:") -> MockSettings:
    return MockSettings(
        base_url=base_url, db_path=db_path,
        sso_clients=[SsoClient(CLIENT_ID, CLIENT_SECRET, [f"{agency_url}/sso/callback"], [f"{agency_url}/"])],
        payment_partners=[PaymentPartner(PARTNER, PAY_SECRET, f"{agency_url}/thanh-toan/ket-qua",
                                         f"{agency_url}/thanh-toan/ipn")],
        adapter_accounts=[AdapterAccount(USER, PASSWORD, AGENCY)],
        agency_code=AGENCY, agency_name="Bộ Tư pháp", ipn_retry_backoff_s=[0.05, 0.1, 0.2],
    )


@pytest.fixture(scope="module")
def agency():
    a = Agency()
    server = ThreadServer(a.app).start()
    a.url = server.url
    yield a
    server.stop()


@pytest.fixture(scope="module")
def portal_server(agency):
    settings = make_settings(f"http://127.0.0.1:{free_port()}", agency.url)
    server = ThreadServer.mock_portal(settings).start()
    yield server
    server.stop()


@pytest.fixture
def control(portal_server, agency):
    """An httpx client to the control plane (with the run's token), the portal's state reset."""
    with httpx.Client(base_url=portal_server.control_url, headers=portal_server.control_headers, timeout=30,
                      trust_env=False) as client:
        assert client.post("/_mock/reset").status_code == 200
        client.delete("/_mock/faults")
        agency.ipns.clear()
        agency.replies.clear()
        yield client


@pytest.fixture
def portal(portal_server, control):
    """A clean live portal (state reset) and an httpx client to its portal plane (what a system is told)."""
    with httpx.Client(base_url=portal_server.url, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def session(portal) -> str:
    r = portal.post("/adapter/auth", json={"username": USER, "password": PASSWORD}, headers={"dstcode": AGENCY})
    assert r.status_code == 200, r.text
    return r.json()["session"]
