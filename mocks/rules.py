"""Business rules the real portal enforces beyond the message schemas. Each rule is a function named after what
it enforces; it returns the problems it found (empty when the rule holds)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any, Iterable

from functools import lru_cache

from mocks.clock import VN_TZ, portal_time, today_vn
from mocks.validation import Problem, problem

DATE_FIELDS_DOSSIER = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayTuChoi")
DATE_FIELDS_PROGRESS = ("ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")
DATE_FIELDS_STATUS = ("NgayCapNhat", "NgayTra", "NgayTuChoi")


def is_real_portal_date(text: str) -> bool:
    """A `yyyyMMddHHmmss` string naming a moment that exists on the calendar."""
    return isinstance(text, str) and _is_real(text)


@lru_cache(maxsize=8192)  # dates repeat across messages; fuzzed strings cannot grow the memo past its size
def _is_real(text: str) -> bool:
    if len(text) != 14 or not text.isdigit():
        return False
    try:
        datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return True


def parse_portal_date(text: str) -> float | None:
    """Epoch seconds of a `yyyyMMddHHmmss` Vietnam-time string, or None when it is not a real moment."""
    return _parse(text) if isinstance(text, str) else None


@lru_cache(maxsize=8192)
def _parse(text: str) -> float | None:
    if len(text) != 14 or not text.isdigit():
        return None
    try:
        return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                        int(text[12:14]), tzinfo=VN_TZ).timestamp()
    except ValueError:
        return None


class DossierRules:
    def __init__(self, profile: dict[str, Any]):
        self.profile = profile
        adapter = profile["adapter"]
        self.code_rx = re.compile(profile["dossier_code"]["pattern"])
        self.skew = float(profile.get("max_clock_skew_s", 300))
        self.future_ok = frozenset(adapter.get("future_date_fields", []))
        self.transitions = {str(k): [str(x) for x in v] for k, v in adapter.get("status_transitions", {}).items()}
        self.requires = {str(k): v for k, v in adapter.get("status_requires_field", {}).items()}
        self.status_names = {str(k): v for k, v in profile.get("dossier_status", {}).items()}
        self._last_code: tuple[str | None, tuple[str, str] | None] = (None, None)
        self._valid_day: tuple[str | None, Any] = (None, None)

    def code_day(self, text: str) -> datetime:
        fmt = self.profile["dossier_code"].get("date_format", "%y%m%d")
        if fmt == "%y%m%d" and len(text) == 6 and text.isdigit():  # the common case, without strptime's cost
            return datetime(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
        return datetime.strptime(text, fmt)

    def _code_parts(self, code: str) -> tuple[str, str] | None:
        """(agency, date) parts of a dossier code, or None when it does not match the format. Both code rules of
        a dossier ask, one after the other: the last answer is kept."""
        last = self._last_code  # read once: a tuple replaced whole is safe to share
        if code == last[0]:
            return last[1]
        m = self.code_rx.match(code)
        parts = (m.group("agency"), m.group("date")) if m else None
        self._last_code = (code, parts)
        return parts

    # -- rules -----------------------------------------------------------------------------------------------
    def dossier_code_format(self, where: str, code: str) -> list[Problem]:
        """The code follows Circular 01/2018/TT-VPCP art. 19: <agency>-<YYMMDD>-<4-digit daily sequence>."""
        parts = self._code_parts(code)
        if not parts:
            return [problem(where, "dossier_code_format",
                            f"mã hồ sơ '{code}' không đúng định dạng <mã cơ quan>-<YYMMDD>-<4 chữ số thứ tự trong ngày>",
                            f"dossier code '{code}' does not match <agency id>-<YYMMDD>-<4-digit daily sequence>")]
        day, valid = parts[1], self._valid_day
        if day != valid[0]:  # codes of one day share their date part
            try:
                valid = self._valid_day = (day, self.code_day(day).date())
            except ValueError:
                return [problem(where, "dossier_code_date", f"phần ngày '{day}' của mã hồ sơ không phải ngày hợp lệ",
                                f"date part '{day}' of the dossier code is not a valid date")]
        if valid[1] > today_vn():
            return [problem(where, "dossier_code_date", "ngày trong mã hồ sơ ở tương lai",
                            "the date in the dossier code is in the future")]
        return []

    def dossier_code_matches_agency(self, where: str, code: str, dstcode: str) -> list[Problem]:
        """The agency part of the code is the sending agency (dstcode of the session)."""
        parts = self._code_parts(code)
        if parts and parts[0] != dstcode:
            return [problem(where, "dossier_code_agency",
                            f"mã cơ quan trong mã hồ sơ ({parts[0]}) khác mã đơn vị gửi (dstcode {dstcode})",
                            f"agency part of the code ({parts[0]}) differs from the sender (dstcode {dstcode})")]
        return []

    def future_limit(self, now: float) -> str:
        """The latest acceptable past-or-present date, as a portal date string (they order like the moments)."""
        return portal_time(now + self.skew)

    def dates_real_and_not_future(self, where: str, item: dict[str, Any], fields: Iterable[str],
                                  limit: str) -> list[Problem]:
        """Date fields are real moments; only appointment/deadline fields may lie in the future."""
        out = []
        for f in fields:
            value = item.get(f)
            if not value:
                continue
            if not is_real_portal_date(value):
                out.append(problem(f"{where}.{f}", "date_valid", f"'{value}' không phải ngày giờ có thật (yyyyMMddHHmmss)",
                                   f"'{value}' is not a real date-time (yyyyMMddHHmmss)"))
            elif f not in self.future_ok and value > limit:
                out.append(problem(f"{where}.{f}", "date_not_future",
                                   f"'{value}' ở tương lai (quá {int(self.skew)} giây so với giờ của Cổng)",
                                   f"'{value}' is in the future (beyond the allowed {int(self.skew)} s clock skew)"))
        return out

    def reception_not_before_submission(self, where: str, item: dict[str, Any]) -> list[Problem]:
        """A dossier is received (NgayTiepNhan) no earlier than it was submitted (NgayNopHoSo)."""
        sub, rec = parse_portal_date(item.get("NgayNopHoSo", "")), parse_portal_date(item.get("NgayTiepNhan") or "")
        if sub is not None and rec is not None and rec + self.skew < sub:
            return [problem(f"{where}.NgayTiepNhan", "reception_after_submission",
                            "ngày tiếp nhận trước ngày nộp hồ sơ", "reception date is before the submission date")]
        return []

    def status_transition_allowed(self, where: str, previous: str | None, new: str) -> list[Problem]:
        """Status changes follow the portal's lifecycle (no 'result returned' before 'received', etc.)."""
        if previous == new:
            return []
        allowed = self.transitions.get(previous or "", None)
        if allowed is None or new in allowed:
            return []
        before = f"{previous} ({self.status_names.get(previous, '')})" if previous else "(chưa có / none)"
        after = f"{new} ({self.status_names.get(new, '')})"
        return [problem(f"{where}.TrangThaiHoSo", "status_transition",
                        f"không thể chuyển trạng thái từ {before} sang {after}; cho phép: {', '.join(allowed) or 'không'}",
                        f"status cannot change from {before} to {after}; allowed: {', '.join(allowed) or 'none'}")]

    def progress_status_known(self, where: str, item: dict[str, Any]) -> list[Problem]:
        """A progress step's TrangThai, when given, is one of the portal's dossier statuses (as TrangThaiHoSo)."""
        status = item.get("TrangThai")
        if status in (None, "") or status in self.status_names:
            return []
        known = ", ".join(self.status_names)
        return [problem(f"{where}.TrangThai", "progress_status_known",
                        f"trạng thái {status!r} không thuộc danh sách trạng thái hồ sơ [{known}]",
                        f"status {status!r} is not one of the dossier statuses [{known}]")]

    def status_carries_required_date(self, where: str, item: dict[str, Any]) -> list[Problem]:
        """Refused dossiers carry NgayTuChoi; returned dossiers carry NgayTra."""
        status = item.get("TrangThaiHoSo", "")
        needed = self.requires.get(status)
        if needed and not item.get(needed):
            return [problem(f"{where}.{needed}", "status_requires_date",
                            f"trạng thái {status} ({self.status_names.get(status, '')}) phải có {needed}",
                            f"status {status} requires {needed}")]
        return []


def procedure_published(where: str, code: str, catalogue) -> list[Problem]:
    """The dossier's procedure is one published in the procedure database."""
    if catalogue.find(code) is None:
        return [problem(f"{where}.MaTTHC", "procedure_published",
                        f"thủ tục '{code}' không có trong CSDL TTHC của Cổng; để công bố, khai tệp kịch bản có MaTTHC "
                        f"'{code}' trong mục services: của tệp target mà Cổng giả lập được khởi động với nó",
                        f"procedure '{code}' is not published on the portal; to publish it, list a scenario file with "
                        f"MaTTHC '{code}' under services: in the target file the mock portal is started with "
                        f"(kiemthu run --target FILE, kiemthu mock --target FILE)")]
    return []


def codes_unique_in_batch(items: list[dict[str, Any]], key: str = "MaHoSo") -> list[Problem]:
    """One message carries each dossier at most once (otherwise the portal cannot tell which version wins)."""
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        code = item.get(key)
        if code in seen:
            out.append(problem(f"data[{i}].{key}", "unique_in_batch", f"mã hồ sơ '{code}' lặp lại trong cùng một lần gửi",
                               f"dossier '{code}' appears twice in one message"))
        seen[code] = i
    return out


def now_epoch() -> float:
    return time.time()
