"""`python -m examples.ministry --port P [--defect NAME ...] [--config FILE] [--list-defects [--json]]`"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

from examples.ministry.defects import Defects, UnknownDefect, catalogue_json, catalogue_text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.ministry",
                                     description="Hệ thống một cửa điện tử tham chiếu (Bộ Tư pháp) có lỗi cài sẵn")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--defect", action="append", default=[], metavar="NAME",
                        help="bật một lỗi cài sẵn (lặp lại được); NAME@MÃ-DỊCH-VỤ: chỉ cho dịch vụ đó; xem --list-defects")
    parser.add_argument("--config", help="tệp YAML cấu hình (khóa như biến MINISTRY_* viết thường, bỏ tiền tố)")
    parser.add_argument("--list-defects", action="store_true", help="in danh mục lỗi cài sẵn rồi thoát")
    parser.add_argument("--json", action="store_true", help="với --list-defects: in dạng JSON")
    return parser.parse_args(argv)


class _Redactor(logging.Filter):
    """Masks configured secrets in every log line."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = message
        for s in self.secrets:
            clean = clean.replace(s, "***")
        if clean != message:
            record.msg, record.args = clean, None
        return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list_defects:
        print(json.dumps(catalogue_json(), ensure_ascii=False, indent=2) if args.json else catalogue_text())
        return 0
    import uvicorn

    from examples.ministry.app import create_app
    from examples.ministry.config import SECRET_FIELDS, load_settings

    settings = load_settings(args.config, port=args.port)
    try:
        defects = Defects([*settings.defects, *args.defect])
    except UnknownDefect as exc:
        print(exc, file=sys.stderr)
        return 2
    handler = logging.StreamHandler()
    handler.addFilter(_Redactor([getattr(settings, f) for f in SECRET_FIELDS]))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request lines would add noise, not diagnosis
    app = create_app(settings, defects)
    # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit it lets the at-exit clean-up run
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
