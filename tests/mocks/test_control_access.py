"""How the harness finds a mock's control plane and token (kiemthu/control.py): only its owner can read the file,
and the environment of a harness child wins over the file."""

from __future__ import annotations

import os
import stat

import pytest

from kiemthu.control import (ENV_FILE, ENV_TOKEN, ENV_URL, ControlAccess, discover, forget, read_control_file,
                             remember, write_control_file)
from kiemthu.logs import redact


@pytest.fixture
def clean_env(monkeypatch):
    for name in (ENV_URL, ENV_TOKEN, ENV_FILE):
        monkeypatch.delenv(name, raising=False)


def test_control_file_is_private(tmp_path):
    """The token file is written 0600 in a 0700 folder; a file others can read is not trusted."""
    access = ControlAccess("http://127.0.0.1:5555/", "t" * 43)
    path = write_control_file(tmp_path / "private" / "portal-8800.json", access)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_control_file(path) == ControlAccess("http://127.0.0.1:5555", "t" * 43)
    os.chmod(path, 0o644)
    assert read_control_file(path) is None
    assert read_control_file(tmp_path / "missing.json") is None


def test_a_shared_folder_is_refused(tmp_path):
    """A folder others can write to could hand the harness a forged control URL: writing there is refused."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    with pytest.raises(PermissionError, match="0700"):
        write_control_file(shared / "portal-8800.json", ControlAccess("http://127.0.0.1:1", "x" * 43))


def test_discovery_order(tmp_path, monkeypatch, clean_env):
    """A mock started by this process first, then the environment, then a named file; nothing known → None."""
    portal = "http://127.0.0.1:65001"
    assert discover(portal) is None
    named = write_control_file(tmp_path / "p" / "c.json", ControlAccess("http://127.0.0.1:3", "f" * 43))
    monkeypatch.setenv(ENV_FILE, str(named))
    assert discover(portal).url == "http://127.0.0.1:3"
    monkeypatch.setenv(ENV_URL, "http://127.0.0.1:2")
    monkeypatch.setenv(ENV_TOKEN, "e" * 43)
    assert discover(portal).url == "http://127.0.0.1:2"
    remember("http://localhost:65001", ControlAccess("http://127.0.0.1:1", "r" * 43))
    try:
        assert discover(portal).url == "http://127.0.0.1:1"  # the same port under another name
    finally:
        forget(portal)
    assert discover(portal).url == "http://127.0.0.1:2"


def test_token_never_shown():
    """The token is not in the access's repr, and log lines mask it."""
    access = ControlAccess("http://127.0.0.1:9", "s3cr3t-control-token-value-0123456789")
    assert access.token not in repr(access)
    assert access.token not in redact(f"header {access.headers()} env {access.env()}")


def test_mock_process_hands_the_token_in_its_environment_only(tmp_path):
    """The harness's mock: the token is in the child's environment, not its command line, repr or log path."""
    from conformance.portal import mock_process
    from kiemthu.control import discover as find

    mock = mock_process(tmp_path / "target.yaml", "http://127.0.0.1:65002", tmp_path)
    try:
        token = mock.control.token
        assert mock.env[ENV_TOKEN] == token and token not in " ".join(mock.cmd) and token not in repr(mock)
        assert mock.health_url == f"{mock.control.url}/_mock/health" and "65002" not in mock.control.url
        assert find("http://127.0.0.1:65002") == mock.control
    finally:
        mock.stop()
    assert not mock.db.parent.exists()
