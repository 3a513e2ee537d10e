"""The portal's clock: Vietnam time, and the portal's date formats."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now_iso() -> str:
    return datetime.now(VN_TZ).isoformat(timespec="milliseconds")


def portal_time(ts: float | None = None) -> str:
    """yyyyMMddHHmmss in Vietnam time (24-hour clock)."""
    return datetime.fromtimestamp(ts if ts is not None else time.time(), VN_TZ).strftime("%Y%m%d%H%M%S")
