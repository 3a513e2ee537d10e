"""`python -m mocks --target FILE --port P --db PATH [--host H] [--profile NAME] [--control-port CP]
[--control-host H] [--allow-host NAME]... [--control-file PATH]`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiemthu.logs import setup_logging
from kiemthu.runtime import exit_on_signals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocks", description="Cổng DVCQG giả lập (mock national portal)")
    parser.add_argument("--target", "-t", help="tệp target (YAML) có đăng ký client SSO, đối tác thanh toán, tài khoản adapter")
    parser.add_argument("--host", help="địa chỉ lắng nghe (mặc định portal.bind_host của target, hoặc 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--db", help="tệp SQLite cho trạng thái và nhật ký (mặc định: tệp tạm)")
    parser.add_argument("--profile", help="hồ sơ hợp đồng (mặc định dvcqg-1.0)")
    parser.add_argument("--control-port", type=int, default=0,
                        help="cổng của API điều khiển (mặc định: một cổng trống) / control plane port (default: any free)")
    parser.add_argument("--control-host", default="127.0.0.1",
                        help="địa chỉ của API điều khiển; chỉ đổi khi cố ý / control plane address (loopback unless you mean it)")
    parser.add_argument("--allow-host", action="append", default=[],
                        help="tên khác mà hệ thống dùng để gọi Cổng (Host) / another Host name the portal answers to")
    parser.add_argument("--control-file", help="tệp 0600 nhận mã truy cập khi không có $KIEMTHU_MOCK_CONTROL_TOKEN")
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    exit_on_signals()  # uvicorn re-raises SIGTERM after shutdown: as SystemExit, the default database is deleted
    target = None
    if args.target:
        from kiemthu.target import TargetError, load_target

        try:
            target = load_target(args.target)
        except TargetError as exc:
            print(exc.render(), file=sys.stderr)
            return 2
    from mocks.server import serve

    host = args.host or (target.portal_bind_host() if target is not None else "127.0.0.1")
    return serve(target=target, host=host, port=args.port, db_path=args.db, profile=args.profile,
                 control_host=args.control_host, control_port=args.control_port, allow_hosts=args.allow_host,
                 token_file=Path(args.control_file) if args.control_file else None)


if __name__ == "__main__":
    sys.exit(main())
