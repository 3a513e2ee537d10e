"""`python -m mocks --target FILE --port P --db PATH [--host H] [--profile NAME]`"""

from __future__ import annotations

import argparse
import sys

from kiemthu.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocks", description="Cổng DVCQG giả lập (mock national portal)")
    parser.add_argument("--target", "-t", help="tệp target (YAML) có đăng ký client SSO, đối tác thanh toán, tài khoản adapter")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--db", help="tệp SQLite cho trạng thái và nhật ký (mặc định: tệp tạm)")
    parser.add_argument("--profile", help="hồ sơ hợp đồng (mặc định dvcqg-1.0)")
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    target = None
    if args.target:
        from kiemthu.target import TargetError, load_target

        try:
            target = load_target(args.target)
        except TargetError as exc:
            print(exc.render(), file=sys.stderr)
            return 2
    from mocks.server import serve

    return serve(target=target, host=args.host, port=args.port, db_path=args.db, profile=args.profile)


if __name__ == "__main__":
    sys.exit(main())
