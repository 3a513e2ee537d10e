"""The suite's browser: Chromium launched on this machine, or one on a Playwright browser server.

A team that keeps browsers on other machines gives the server's WebSocket URL (`--browser-ws URL`, else
$KIEMTHU_BROWSER_WS, else the target's `browser.ws_endpoint`). The suite then connects to it
(`BrowserType.connect`) instead of launching Chromium; every context, page, trace and screenshot works
the same, the files coming back over the connection.

A server started with `playwright run-server` launches the browser the client asks for. The launch options
travel in the `x-playwright-launch-options` header: headless or not, the suite's Chromium flags, and, when
the server's machine has no Playwright browsers, the Chromium to use there (`browser.executable_path` or
$KIEMTHU_BROWSER_WS_EXECUTABLE; such a server must be started with `--unsafe`, which lets clients choose
flags and executables, so bind it to a private network). A `playwright launch-server` has its browser
already running and ignores them.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kiemthu.runtime import CHROMIUM_ARGS, chromium_path

ENV_WS = "KIEMTHU_BROWSER_WS"
ENV_EXECUTABLE = "KIEMTHU_BROWSER_WS_EXECUTABLE"
LAUNCH_OPTIONS_HEADER = "x-playwright-launch-options"


class BrowserServerError(RuntimeError):
    """The browser server could not be reached or could not give a browser; the message says what to do."""


def browser_settings(target) -> dict[str, Any]:
    return dict((target.get("browser") or {}) if target is not None else {})


def ws_endpoint(target, option: str | None = None) -> str | None:
    """The browser server to use: the command-line option, else $KIEMTHU_BROWSER_WS, else the target's."""
    value = option or os.environ.get(ENV_WS) or browser_settings(target).get("ws_endpoint")
    return str(value).strip() or None if value else None


def launch_options(target, headless: bool) -> dict[str, Any]:
    """What a `playwright run-server` launches for this suite."""
    options: dict[str, Any] = {"headless": headless, "args": list(CHROMIUM_ARGS)}
    executable = os.environ.get(ENV_EXECUTABLE) or browser_settings(target).get("executable_path")
    if executable:
        options["executablePath"] = executable
    return options


def shown_endpoint(url: str) -> str:
    """The endpoint without user, password or query (a grid's access token must not reach a log)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def connect_browser(playwright, url: str, target, headless: bool, timeout_ms: float = 30000):
    """A browser on the server at `url`; BrowserServerError names the endpoint and the likely fix."""
    if not url.startswith(("ws://", "wss://")):
        raise BrowserServerError(f"--browser-ws: rule 'a ws:// or wss:// URL' — value {shown_endpoint(url)!r} "
                                 f"(địa chỉ máy chủ trình duyệt phải bắt đầu bằng ws:// hoặc wss://)")
    kwargs: dict[str, Any] = {"timeout": timeout_ms,
                              "headers": {LAUNCH_OPTIONS_HEADER: json.dumps(launch_options(target, headless))}}
    expose = browser_settings(target).get("expose_network")
    if expose:
        kwargs["expose_network"] = expose
    try:
        return playwright.chromium.connect(url, **kwargs)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        hint = ("; a `playwright run-server` without Playwright's browsers needs --unsafe and the Chromium path of "
                f"its machine in {ENV_EXECUTABLE} (or the target's browser.executable_path)"
                if "Executable doesn't exist" in str(exc) or "executable" in str(exc).lower() else "")
        raise BrowserServerError(f"browser server {shown_endpoint(url)}: {first}{hint} "
                                 f"(không kết nối được máy chủ trình duyệt)") from None


def open_browser(playwright, target, headless: bool, traces_dir: str | None, option: str | None = None):
    """The remote browser when an endpoint is set, else Chromium launched here with the suite's flags."""
    url = ws_endpoint(target, option)
    if url:
        return connect_browser(playwright, url, target, headless)
    return playwright.chromium.launch(executable_path=chromium_path(headless), args=CHROMIUM_ARGS, headless=headless,
                                      traces_dir=traces_dir)
