"""Run the mock portal with uvicorn (one worker, uvloop/httptools when available): two listeners, the portal
plane on the given host and port, the control plane on loopback (unless exposed on purpose) and its own port."""

from __future__ import annotations

import errno
import importlib.util
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiemthu.control import ENV_TOKEN, ControlAccess, control_file, is_loopback, write_control_file
from kiemthu.logs import get_logger, install_filter_on_existing_handlers, register_secret
from kiemthu.runtime import port_holder
from mocks.settings import (DEMO_ADAPTER_PASSWORD, DEMO_PAYMENT_SECRET, DEMO_SSO_CLIENT_SECRET, ControlPlane,
                            MockSettings, default_db_path)

log = get_logger("mocks")


def build_settings(target=None, host: str = "127.0.0.1", port: int = 8800, db_path: str | Path | None = None,
                   profile: str | None = None, *, control_host: str = "127.0.0.1", control_port: int = 0,
                   control_token: str | None = None, allow_hosts: list[str] | None = None) -> MockSettings:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base_url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    db = str(db_path) if db_path else default_db_path()
    if target is None:
        settings = MockSettings.demo(base_url, db, profile)
    else:
        declared = urlsplit(target["portal"]["base_url"])
        if declared.port == port:
            # the agency was configured with this URL: issuer and links must use it exactly (localhost vs 127.0.0.1)
            base_url = f"{declared.scheme}://{declared.netloc}"
        settings = MockSettings.from_target(target, base_url=base_url, db_path=db, profile=profile)
    settings.listen_host, settings.listen_port = host, port
    settings.extra_hosts = list(allow_hosts or [])
    settings.control = ControlPlane(**({"token": control_token} if control_token else {}), host=control_host,
                                    port=control_port)
    return settings


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: any free one), bound before the app is built so its port is known."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def held_by(exc: OSError, port: int) -> str:
    """', held by process N (command)' when the port is in use and psutil can name its holder."""
    if exc.errno != errno.EADDRINUSE or not port:
        return ""
    holder = port_holder(port)
    return f"; port {port} is held by {holder}, which this mock did not start" if holder else ""


def build_server(settings: MockSettings, portal_sock: socket.socket, control_sock: socket.socket):
    """A uvicorn server for both planes on their sockets (settings.control.port set from the bound socket)."""
    import uvicorn

    from mocks.app import create_app, create_control_app
    from mocks.planes import Listeners

    settings.control.port = control_sock.getsockname()[1]
    portal_app = create_app(settings)
    app = Listeners(portal_app, create_control_app(portal_app), settings.control.port)
    # proxy_headers off: the mock serves loopback clients directly, and the middleware costs on every request
    config: dict[str, Any] = {"log_level": "warning", "access_log": False, "proxy_headers": False,
                              "lifespan": "on", "workers": 1}
    if importlib.util.find_spec("uvloop"):
        config["loop"] = "uvloop"
    if importlib.util.find_spec("httptools"):
        config["http"] = "httptools"
    return uvicorn.Server(uvicorn.Config(app, **config)), portal_app


def exposure(settings: MockSettings) -> list[str]:
    """Which plane listens where, in words: a non-loopback bind is named, with the Host names it answers to."""
    lines = []
    if not is_loopback(settings.listen_host):
        lines.append(f"  CHÚ Ý / NOTE: mặt Cổng (SSO, thanh toán, adapter, Kho DL, trang Cổng) mở trên "
                     f"{settings.listen_host}:{settings.listen_port} cho máy khác / the portal plane is reachable "
                     f"from other machines on {settings.listen_host}:{settings.listen_port}; tên được chấp nhận / "
                     f"accepted Host names: {', '.join(sorted(settings.portal_hosts()))} (thêm / add more with "
                     f"--allow-host NAME)")
    if is_loopback(settings.control.host):
        lines.append(f"  API điều khiển chỉ trên máy này / control plane on loopback only: {settings.control.url}")
    else:
        lines.append(f"  CHÚ Ý / NOTE: API điều khiển mở trên {settings.control.host}:{settings.control.port} "
                     f"(--control-host) / the control plane is exposed on purpose; it still requires the token")
    return lines


def describe(settings: MockSettings, demo: bool, token_file: Path | None = None) -> str:
    s = settings.public_summary()
    control = settings.control.url
    lines = [f"Cổng DVCQG giả lập: {settings.base_url}  (hồ sơ hợp đồng {settings.profile_name})",
             f"  Issuer SSO: {settings.issuer}",
             f"  API điều khiển (riêng cho bộ kiểm thử / the harness's only): {control}/_mock/  — tài liệu: "
             f"{control}/_mock/docs",
             f"  Nhật ký: {control}/_mock/journal  (CSDL SQLite: {settings.db_path})"]
    if token_file is not None:
        lines.append(f"  Mã truy cập API điều khiển / control token: trong tệp {token_file} (chỉ chủ sở hữu đọc được); "
                     f"gửi kèm 'Authorization: Bearer <token>'")
    else:
        lines.append("  Mã truy cập API điều khiển / control token: do tiến trình khởi động giữ (không ghi ra đây)")
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
          profile: str | None = None, *, control_host: str = "127.0.0.1", control_port: int = 0,
          allow_hosts: list[str] | None = None, token_file: Path | None = None) -> int:
    """Blocking: start the mock portal, print where it is, serve until interrupted. Returns an exit code.

    The control token comes from $KIEMTHU_MOCK_CONTROL_TOKEN (the harness that started this process holds it);
    without it one is generated and written, mode 0600, to `token_file` (default: a per-user folder keyed by
    the portal port), which is removed on exit."""
    started = time.perf_counter()
    token = os.environ.pop(ENV_TOKEN, None)  # not inherited by anything this process might start
    register_secret(token)
    try:
        portal_sock = bind(host, port)
    except OSError as exc:
        print(f"không mở được cổng / cannot listen on {host}:{port}: {exc}{held_by(exc, port)}", file=sys.stderr)
        return 2
    try:
        control_sock = bind(control_host, control_port)
    except OSError as exc:
        portal_sock.close()
        print(f"không mở được cổng điều khiển / cannot listen on {control_host}:{control_port}: {exc}"
              f"{held_by(exc, control_port)}", file=sys.stderr)
        return 2
    settings = build_settings(target, host, port, db_path, profile, control_host=control_host,
                              control_port=control_sock.getsockname()[1], control_token=token,
                              allow_hosts=allow_hosts)
    server, _ = build_server(settings, portal_sock, control_sock)
    written = None
    if token is None:
        try:
            written = write_control_file(token_file or control_file(port),
                                         ControlAccess(settings.control.url, settings.control.token))
        except OSError as exc:
            print(f"không ghi được tệp mã truy cập / cannot write the control token file: {exc}", file=sys.stderr)
            return 2
    print(describe(settings, target is None, written), flush=True)
    print("\n".join(exposure(settings)), flush=True)
    install_filter_on_existing_handlers()
    log.info("mock portal app built in %.0f ms", (time.perf_counter() - started) * 1000)
    # uvicorn shuts down gracefully on SIGTERM, then raises it again: end here, so the token file is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run(sockets=[portal_sock, control_sock])
    except KeyboardInterrupt:
        pass
    finally:
        if written is not None:
            written.unlink(missing_ok=True)
    return 0


__all__ = ["serve", "build_settings", "DEMO_SSO_CLIENT_SECRET", "DEMO_PAYMENT_SECRET", "DEMO_ADAPTER_PASSWORD"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve())
