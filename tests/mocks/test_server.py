"""`python -m mocks` as its own process: standalone demo mode and with a target file."""

from __future__ import annotations

import time

import httpx

from kiemthu.runtime import REPO_ROOT, ManagedProcess, free_port, python_module_cmd

SECRETS = {"KIEMTHU_SSO_CLIENT_SECRET": "sso-secret-xyz-123", "KIEMTHU_PAYMENT_SECRET": "pay-secret-xyz-123",
           "KIEMTHU_ADAPTER_PASSWORD": "adapter-secret-xyz-123", "KIEMTHU_OFFICER_PASSWORD": "officer-secret-xyz"}


def test_with_target_file_prints_registrations_without_secrets(tmp_path, monkeypatch):
    port = free_port()
    env = {**SECRETS, "KIEMTHU_MOCK_PORT": str(port), "KIEMTHU_MINISTRY_PORT": "8801",
           "KIEMTHU_PUBLICATION_DATE": "2026-11-02"}
    db = tmp_path / "portal.sqlite"
    log = tmp_path / "mock.log"
    cmd = python_module_cmd("mocks", "--target", str(REPO_ROOT / "examples/ministry/target.yaml"), "--port", str(port),
                            "--db", str(db))
    for k, v in env.items():  # the target file expands ${KIEMTHU_*} when loaded by the child
        monkeypatch.setenv(k, v)
    t0 = time.perf_counter()
    with ManagedProcess("mock", cmd, f"http://127.0.0.1:{port}/_mock/health", log, env=env):
        ready = time.perf_counter() - t0
        r = httpx.post(f"http://127.0.0.1:{port}/adapter/auth", headers={"dstcode": "000.00.00.G15"},
                       json={"username": "btp", "password": SECRETS["KIEMTHU_ADAPTER_PASSWORD"]}, trust_env=False)
        assert r.status_code == 200
        config = httpx.get(f"http://127.0.0.1:{port}/_mock/config", trust_env=False).json()
        assert config["sso_clients"][0]["client_id"] == "btp-motcua"
    out = log.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{port}" in out and "btp-motcua" in out and str(db) in out and "BTP" in out
    assert not any(s in out for s in SECRETS.values())
    assert db.exists()
    assert ready < 10  # the start-up budget (< 1.5 s) is measured by bench/bench_mock.py on an idle machine


def test_standalone_demo_mode(tmp_path):
    port = free_port()
    with ManagedProcess("mock", python_module_cmd("mocks", "--port", str(port)), f"http://127.0.0.1:{port}/_mock/health",
                        tmp_path / "mock.log"):
        r = httpx.get(f"http://127.0.0.1:{port}/oauth2/jwks", trust_env=False).json()
        assert r["keys"][0]["kty"] == "RSA" and "d" not in r["keys"][0]
    assert "demo-motcua" in (tmp_path / "mock.log").read_text(encoding="utf-8")
