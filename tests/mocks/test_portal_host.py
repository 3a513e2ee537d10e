"""`portal.bind_host` / `--portal-host`: the mock's portal plane listens where a system on another machine reaches
it, under the portal URL that names this machine; the control plane stays on loopback."""

from __future__ import annotations

import os
import socket

import httpx
import psutil
import pytest
import yaml

from conformance.portal import mock_process
from kiemthu.control import exposure_warning
from kiemthu.demo import DEMO_TARGET
from kiemthu.runtime import free_port
from kiemthu.target import TargetError, load_target


def this_machines_address() -> str | None:
    """An IPv4 address of this machine other than loopback (what a staging server would call)."""
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return None


def write_target(tmp_path, **portal) -> "os.PathLike":
    data = yaml.safe_load(DEMO_TARGET.read_text(encoding="utf-8"))
    data["portal"].update(portal)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def listening(pid: int) -> dict[int, str]:
    """port → bound address of each listening socket of a process."""
    return {c.laddr.port: c.laddr.ip for c in psutil.Process(pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN}


def test_the_portal_plane_is_reachable_from_other_machines_and_the_control_plane_is_not(demo_env, tmp_path):
    address = this_machines_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    port = free_port()
    path = write_target(tmp_path, base_url=f"http://{address}:{port}", bind_host="0.0.0.0")
    target = load_target(path)
    assert target.portal_bind_host() == "0.0.0.0"
    mock = mock_process(path, target["portal"]["base_url"], tmp_path, host=target.portal_bind_host()).start(30)
    try:
        control_port = int(mock.control.url.rsplit(":", 1)[1])
        bound = listening(mock.proc.pid)
        assert bound[port] == "0.0.0.0" and bound[control_port] == "127.0.0.1", bound
        with httpx.Client(trust_env=False, timeout=10) as http:
            discovery = http.get(f"http://{address}:{port}/.well-known/openid-configuration")
            assert discovery.status_code == 200
            assert discovery.json()["issuer"].startswith(f"http://{address}:{port}")  # the name the system uses
            with pytest.raises(httpx.ConnectError):
                http.get(f"http://{address}:{control_port}/_mock/health")
            assert http.get(mock.control.health_url).status_code == 200
    finally:
        mock.stop()


def test_the_mock_stays_on_loopback_by_default(demo_env, tmp_path):
    target = load_target(DEMO_TARGET)
    assert target.portal_bind_host() == "127.0.0.1"
    mock = mock_process(DEMO_TARGET, target["portal"]["base_url"], tmp_path).start(30)
    try:
        assert set(listening(mock.proc.pid).values()) == {"127.0.0.1"}
    finally:
        mock.stop()


def test_a_bind_host_that_is_not_an_address_is_refused_naming_the_field(demo_env, tmp_path):
    with pytest.raises(TargetError) as err:
        load_target(write_target(tmp_path, bind_host="not an address!"))
    assert "portal.bind_host" in err.value.render() and "'not an address!'" in err.value.render()


def test_binding_beyond_loopback_comes_with_a_security_warning():
    """Said by `kiemthu run`/`demo`/`load` before the mock starts; nothing to say on loopback."""
    lines = exposure_warning("0.0.0.0", "http://192.0.2.2:8800")
    assert lines[0].startswith("CẢNH BÁO AN NINH / SECURITY WARNING") and "0.0.0.0:8800" in lines[0]
    assert any("control API stays on loopback" in line for line in lines)
    assert exposure_warning("127.0.0.1", "http://127.0.0.1:8800") == []
