"""`--browser-ws URL`: the suite drives a browser on a Playwright browser server instead of launching one.

The server here is a local `python -m playwright run-server` (the driver shipped with the Python package).
This machine has no Playwright browsers, so the server is started with --unsafe and told Debian's Chromium
through KIEMTHU_BROWSER_WS_EXECUTABLE, as a team would for a browser machine with Debian's Chromium.
"""

from __future__ import annotations

import json

import pytest

from conformance.browser import BrowserServerError, launch_options, open_browser, shown_endpoint, ws_endpoint
from kiemthu.runtime import ManagedProcess, chromium_path, free_port, python_module_cmd
from tests.conftest import run_cli


@pytest.fixture
def browser_server(tmp_path):
    port = free_port()
    server = ManagedProcess("playwright browser server",
                            python_module_cmd("playwright", "run-server", "--port", str(port), "--host", "127.0.0.1",
                                              "--unsafe"),
                            health_url=f"http://127.0.0.1:{port}/", log_path=tmp_path / "browser-server.log")
    server.start(60)
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.stop()


def test_the_demo_passes_on_a_remote_browser(browser_server, tmp_path, signing_key_path):
    """Every service completes with the browser on the server, while a local launch would fail (no Chromium
    where KIEMTHU_CHROMIUM points): the browser can only have come from the server. Traces come back."""
    env = {"KIEMTHU_CHROMIUM": str(tmp_path / "no-chromium-here"), "KIEMTHU_BROWSER_WS_EXECUTABLE": chromium_path(),
           "KIEMTHU_HISTORY_DB": str(tmp_path / "history.sqlite"), "KIEMTHU_SIGNING_KEY": str(signing_key_path)}
    done = run_cli("demo", "--browser-ws", browser_server, "--output", str(tmp_path / "run"), env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["services"] and all(s["completed"] for s in summary["services"])
    assert list((tmp_path / "run" / "evidence").glob("*/*/trace*.zip"))


def test_a_server_that_cannot_launch_chromium_is_named_with_the_fix(browser_server, monkeypatch):
    """Without the Chromium path for the server's machine the connection fails, saying what to set."""
    from playwright.sync_api import sync_playwright

    monkeypatch.delenv("KIEMTHU_BROWSER_WS_EXECUTABLE", raising=False)
    with sync_playwright() as pw, pytest.raises(BrowserServerError) as exc:
        open_browser(pw, None, headless=True, traces_dir=None, option=browser_server)
    assert browser_server in str(exc.value) and "KIEMTHU_BROWSER_WS_EXECUTABLE" in str(exc.value)


def test_an_unreachable_server_is_named():
    from playwright.sync_api import sync_playwright

    url = f"ws://127.0.0.1:{free_port()}/"
    with sync_playwright() as pw, pytest.raises(BrowserServerError, match="browser server ws://127.0.0.1"):
        open_browser(pw, None, headless=True, traces_dir=None, option=url)


def test_the_endpoint_comes_from_the_option_then_the_environment_then_the_target(monkeypatch):
    target = {"browser": {"ws_endpoint": "ws://grid.example:3000/", "executable_path": "/usr/bin/chromium"}}
    monkeypatch.delenv("KIEMTHU_BROWSER_WS", raising=False)
    assert ws_endpoint(target) == "ws://grid.example:3000/"
    monkeypatch.setenv("KIEMTHU_BROWSER_WS", "ws://env.example:3000/")
    assert ws_endpoint(target) == "ws://env.example:3000/"
    assert ws_endpoint(target, "ws://cli.example:3000/") == "ws://cli.example:3000/"
    assert ws_endpoint(None) == "ws://env.example:3000/"
    monkeypatch.delenv("KIEMTHU_BROWSER_WS")
    assert ws_endpoint({}) is None
    monkeypatch.delenv("KIEMTHU_BROWSER_WS_EXECUTABLE", raising=False)
    assert launch_options(target, headless=True)["executablePath"] == "/usr/bin/chromium"
    assert "--no-sandbox" in launch_options(target, headless=True)["args"]


def test_a_non_websocket_url_is_refused_naming_the_rule():
    with pytest.raises(BrowserServerError, match="rule 'a ws:// or wss:// URL'"):
        open_browser(None, None, headless=True, traces_dir=None, option="http://127.0.0.1:3000/")


def test_an_access_token_in_the_endpoint_is_not_shown():
    assert shown_endpoint("wss://user:s3cret@grid.example:443/pw?token=abc") == "wss://grid.example:443/pw"


def test_a_run_with_an_unreachable_server_says_so_once_without_a_traceback(tmp_path, signing_key_path):
    """No check can run without a browser: the run ends with the endpoint and the reason, nothing passes."""
    url = f"ws://127.0.0.1:{free_port()}/"
    env = {"KIEMTHU_HISTORY_DB": str(tmp_path / "history.sqlite"), "KIEMTHU_SIGNING_KEY": str(signing_key_path)}
    done = run_cli("demo", "--browser-ws", url, "-s", "ket-hon", "-c", "sso", "--output", str(tmp_path / "run"),
                   env=env, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert output.count(f"browser server {url}") == 1 and "Traceback" not in output and "plugin.py:" not in output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert not any(s["completed"] for s in summary["services"])
