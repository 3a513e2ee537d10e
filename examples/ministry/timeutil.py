"""Time: the portal wants `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh; deadlines count Vietnamese working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from examples.ministry.defects import Defects

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PORTAL_FORMAT = "%Y%m%d%H%M%S"


class Clock:
    """Current time; tests pin it with `fixed` to reach an afternoon or a day boundary."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else datetime.now(VN_TZ)


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def sync_date(moment: datetime | str | None, defects: Defects) -> str:
    """A date for DongBoHoSoMC / CapNhatTienDoHoSoMC ('' when not reached yet)."""
    if isinstance(moment, str):
        moment = parse_iso(moment)
    if moment is None:
        return ""
    zone = timezone.utc if defects.on("dates-wrong-timezone") else VN_TZ
    return moment.astimezone(zone).strftime(PORTAL_FORMAT)


def payment_time(moment: datetime, defects: Defects) -> str:
    """ThoiGianGD of a payment message."""
    fmt = "%Y%m%d%I%M%S" if defects.on("thoigiangd-12h-clock") else PORTAL_FORMAT
    return moment.astimezone(VN_TZ).strftime(fmt)


@lru_cache(maxsize=16)
def _vn_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _vn_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start` (weekends and public holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current
