"""Run the mock portal with uvicorn (one worker, uvloop/httptools when available)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiemthu.logs import get_logger, install_filter_on_existing_handlers
from mocks.settings import (DEMO_ADAPTER_PASSWORD, DEMO_PAYMENT_SECRET, DEMO_SSO_CLIENT_SECRET, MockSettings,
                            default_db_path)

log = get_logger("mocks")


def build_settings(target=None, host: str = "127.0.0.1", port: int = 8800, db_path: str | Path | None = None,
                   profile: str | None = None) -> MockSettings:
    base_url = f"http://{host}:{port}"
    db = str(db_path) if db_path else default_db_path()
    if target is None:
        return MockSettings.demo(base_url, db, profile)
    declared = urlsplit(target["portal"]["base_url"])
    if declared.port == port:
        # the agency was configured with this URL: issuer and links must use it exactly (localhost vs 127.0.0.1)
        base_url = f"{declared.scheme}://{declared.netloc}"
    return MockSettings.from_target(target, base_url=base_url, db_path=db, profile=profile)


def describe(settings: MockSettings, demo: bool) -> str:
    s = settings.public_summary()
    lines = [f"Cổng DVCQG giả lập: {settings.base_url}  (hồ sơ hợp đồng {settings.profile_name})",
             f"  Issuer SSO: {settings.issuer}",
             f"  Nhật ký: {settings.base_url}/_mock/journal  (CSDL SQLite: {settings.db_path})",
             f"  API điều khiển: {settings.base_url}/_mock/  — tài liệu: {settings.base_url}/_mock/docs"]
    for c in s["sso_clients"]:
        lines.append(f"  Client SSO: {c['client_id']}  redirect_uris={c['redirect_uris']}")
    for p in s["payment_partners"]:
        lines.append(f"  Đối tác thanh toán: {p['code']}  callback={p['callback_url']}  return={p['return_url']}")
    for a in s["adapter_accounts"]:
        lines.append(f"  Tài khoản adapter: {a['username']}  dstcode={a['dstcode']}")
    if demo:
        lines.append("  (Đăng ký demo — bí mật thử nghiệm công khai: xem mocks/settings.py DEMO_*)")
    return "\n".join(lines)


def serve(target=None, host: str = "127.0.0.1", port: int = 8800, db_path: str | Path | None = None,
          profile: str | None = None) -> int:
    """Blocking: start the mock portal, print where it is, serve until interrupted. Returns an exit code."""
    import uvicorn

    from mocks.app import create_app

    started = time.perf_counter()
    settings = build_settings(target, host, port, db_path, profile)
    app = create_app(settings)
    print(describe(settings, target is None), flush=True)
    # proxy_headers off: the mock serves loopback clients directly, and the middleware costs on every request
    config: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False, "proxy_headers": False,
                              "lifespan": "on", "workers": 1}
    if importlib.util.find_spec("uvloop"):
        config["loop"] = "uvloop"
    if importlib.util.find_spec("httptools"):
        config["http"] = "httptools"
    server = uvicorn.Server(uvicorn.Config(app, **config))
    install_filter_on_existing_handlers()
    log.info("mock portal app built in %.0f ms", (time.perf_counter() - started) * 1000)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0


__all__ = ["serve", "build_settings", "DEMO_SSO_CLIENT_SECRET", "DEMO_PAYMENT_SECRET", "DEMO_ADAPTER_PASSWORD"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve())
