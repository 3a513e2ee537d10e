"""`python -m mocks` as its own process: standalone demo mode and with a target file; its two listeners."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import httpx
import psutil

from kiemthu.control import ENV_TOKEN, read_control_file
from kiemthu.runtime import REPO_ROOT, ManagedProcess, free_port, python_module_cmd, wait_until

SECRETS = {"KIEMTHU_SSO_CLIENT_SECRET": "sso-secret-xyz-123", "KIEMTHU_PAYMENT_SECRET": "pay-secret-xyz-123",
           "KIEMTHU_ADAPTER_PASSWORD": "adapter-secret-xyz-123", "KIEMTHU_OFFICER_PASSWORD": "officer-secret-xyz"}
TOKEN = "control-token-for-tests-0123456789abcdef"


def test_with_target_file_prints_registrations_without_secrets(tmp_path, monkeypatch):
    """The harness hands the control token in the environment: the control plane takes it, the log never shows it."""
    port, control_port = free_port(), free_port()
    env = {**SECRETS, "KIEMTHU_MOCK_PORT": str(port), "KIEMTHU_MINISTRY_PORT": "8801",
           "KIEMTHU_PUBLICATION_DATE": "2026-11-02", ENV_TOKEN: TOKEN}
    db = tmp_path / "portal.sqlite"
    log = tmp_path / "mock.log"
    cmd = python_module_cmd("mocks", "--target", str(REPO_ROOT / "examples/ministry/target.yaml"), "--port", str(port),
                            "--db", str(db), "--control-port", str(control_port))
    for k, v in SECRETS.items():  # the target file expands ${KIEMTHU_*} when loaded by the child
        monkeypatch.setenv(k, v)
    control = f"http://127.0.0.1:{control_port}"
    t0 = time.perf_counter()
    with ManagedProcess("mock", cmd, f"{control}/_mock/health", log, env=env):
        ready = time.perf_counter() - t0
        r = httpx.post(f"http://127.0.0.1:{port}/adapter/auth", headers={"dstcode": "000.00.00.G15"},
                       json={"username": "btp", "password": SECRETS["KIEMTHU_ADAPTER_PASSWORD"]}, trust_env=False)
        assert r.status_code == 200
        config = httpx.get(f"{control}/_mock/config", headers={"Authorization": f"Bearer {TOKEN}"},
                           trust_env=False).json()
        assert config["sso_clients"][0]["client_id"] == "btp-motcua"
        assert httpx.get(f"{control}/_mock/config", trust_env=False).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/_mock/config", trust_env=False).status_code == 404
    out = log.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{port}" in out and "btp-motcua" in out and str(db) in out and "BTP" in out
    assert control in out  # where the control plane is, but not its token
    assert not any(s in out for s in [*SECRETS.values(), TOKEN])
    assert db.exists()
    assert ready < 10  # the start-up budget (< 1.5 s) is measured by bench/bench_mock.py on an idle machine


def test_standalone_demo_mode_writes_its_token_to_a_private_file(tmp_path):
    """Started by a person (no token given): a fresh token goes to a 0600 file named in the output, not to the output;
    the file is removed when the mock stops."""
    port, token_file = free_port(), tmp_path / "private" / "control.json"
    env = {k: v for k, v in os.environ.items() if k != ENV_TOKEN}
    cmd = python_module_cmd("mocks", "--port", str(port), "--control-file", str(token_file))
    mock = ManagedProcess("mock", cmd, f"http://127.0.0.1:{port}/oauth2/jwks", tmp_path / "mock.log", env=env)
    with mock:
        r = httpx.get(f"http://127.0.0.1:{port}/oauth2/jwks", trust_env=False).json()
        assert r["keys"][0]["kty"] == "RSA" and "d" not in r["keys"][0]
        access = wait_until(lambda: read_control_file(token_file), 10, what="control file written")
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
        assert access.url.startswith("http://127.0.0.1:") and len(access.token) >= 40
        with access.client() as control:
            assert control.get("/_mock/identities").status_code == 200
    text = (tmp_path / "mock.log").read_text(encoding="utf-8")
    assert "demo-motcua" in text and str(token_file) in text and access.token not in text
    assert not token_file.exists()


def test_non_loopback_host_says_what_is_exposed_and_keeps_control_on_loopback(tmp_path):
    """`kiemthu mock --host 0.0.0.0` binds the portal plane for other machines and says so; the control plane stays
    on 127.0.0.1."""
    port, control_port = free_port(), free_port()
    env = {**os.environ, ENV_TOKEN: TOKEN}
    cmd = [str(Path(sys.executable).parent / "kiemthu"), "mock", "--host", "0.0.0.0", "--port", str(port),
           "--control-port", str(control_port)]
    with ManagedProcess("mock", cmd, f"http://127.0.0.1:{control_port}/_mock/health", tmp_path / "mock.log", env=env):
        assert httpx.get(f"http://127.0.0.1:{port}/oauth2/jwks", trust_env=False).status_code == 200
        listening = {c.laddr for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        assert ("0.0.0.0", port) in listening and ("127.0.0.1", control_port) in listening
    text = (tmp_path / "mock.log").read_text(encoding="utf-8")
    assert f"0.0.0.0:{port}" in text and "portal plane is reachable from other machines" in text
    assert f"control plane on loopback only: http://127.0.0.1:{control_port}" in text
