"""The portal's clock: Vietnam time, and the portal's date formats."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Vietnam has kept UTC+7 without daylight saving since 1975: a fixed offset gives the same wall time, faster
VN_OFFSET = timezone(timedelta(hours=7))


@lru_cache(maxsize=8)  # a handful of seconds are live at once (now, now + skew)
def _at_second(second: int) -> tuple[str, str, date]:
    moment = datetime.fromtimestamp(second, VN_OFFSET)
    return moment.strftime("%Y%m%d%H%M%S"), moment.strftime("%Y-%m-%dT%H:%M:%S"), moment.date()


def now_iso() -> str:
    """ISO 8601 with milliseconds and the +07:00 offset."""
    now = time.time()
    second = int(now)
    return f"{_at_second(second)[1]}.{int((now - second) * 1000):03d}+07:00"


def portal_time(ts: float | None = None) -> str:
    """yyyyMMddHHmmss in Vietnam time (24-hour clock)."""
    return _at_second(int(ts if ts is not None else time.time()))[0]


def today_vn() -> date:
    """Today's date in Vietnam."""
    return _at_second(int(time.time()))[2]
