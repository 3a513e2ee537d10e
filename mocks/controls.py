"""Run-time switches of the mock: fault injection per endpoint and adversarial modes armed for one exchange."""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Iterable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

FAULT_KINDS = ("latency", "http_5xx", "timeout", "drop_callback")
REQUEST_FAULT_KINDS = frozenset({"latency", "http_5xx", "timeout"})
CALLBACK_FAULT_KINDS = frozenset({"latency", "drop_callback"})
DEFAULT_VALUES = {"latency": 1.0, "http_5xx": 503, "timeout": 30.0, "drop_callback": None}
MAX_FAULT_COUNT = 1_000_000        # exchanges one fault may affect; more is "until cleared" (count omitted)
MAX_FAULT_DURATION_S = 86_400
MAX_FAULT_VALUE = 600              # seconds of latency/timeout; http_5xx codes are below it as well
MAX_TARGET_CHARS = 500

Count = Annotated[int, Field(strict=True, ge=1, le=MAX_FAULT_COUNT)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=MAX_FAULT_DURATION_S, allow_inf_nan=False)]
Value = Annotated[float, Field(strict=True, ge=0, le=MAX_FAULT_VALUE, allow_inf_nan=False)]


class FaultRequest(BaseModel):
    """Body of POST /_mock/faults, bounded so that whatever is stored can be listed and serialised again."""
    # the value's range depends on the kind: said in the schema too, so a well-formed request is one the board takes
    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [
        {"if": {"properties": {"kind": {"const": "http_5xx"}}, "required": ["kind"]},
         "then": {"properties": {"value": {"anyOf": [{"type": "integer", "minimum": 500, "maximum": 599},
                                                     {"type": "null"}]}}}}]})

    target: str = Field(min_length=1, max_length=MAX_TARGET_CHARS,
                        description="vai trò (adapter, payment, sso, ipn, khodl), đường dẫn, hoặc tên dịch vụ")
    kind: Literal["latency", "http_5xx", "timeout", "drop_callback"]
    value: Optional[Value] = Field(None, description="giây (latency, timeout) hoặc mã HTTP (http_5xx)")
    count: Optional[Count] = None
    duration_s: Optional[Seconds] = None
    dossier: Optional[str] = Field(None, min_length=1, max_length=MAX_TARGET_CHARS,
                                   description="chỉ các thông điệp mang mã hồ sơ này (MaHoSo) / only messages of this dossier")

    @model_validator(mode="after")
    def value_fits_kind(self) -> "FaultRequest":
        if self.kind == "http_5xx" and self.value is not None and not (
                float(self.value).is_integer() and 500 <= self.value <= 599):
            raise ValueError("http_5xx: value phải là mã 5xx / value must be a 5xx status")
        return self


@dataclass
class Fault:
    id: int
    target: str
    kind: str
    value: float | int | None
    count: int | None = None            # exchanges left to affect (None = unlimited)
    until: float | None = None          # monotonic deadline (None = until cleared)
    hits: int = 0
    created: float = field(default_factory=time.time)
    dossier: str | None = None          # only exchanges carrying this dossier code (MaHoSo)

    def active(self, now: float) -> bool:
        return (self.count is None or self.count > 0) and (self.until is None or now < self.until)

    def matches(self, role: str, path: str, service: str | None, dossiers: Iterable[str] = ()) -> bool:
        if self.dossier is not None and self.dossier not in dossiers:
            return False  # a fault scoped to one dossier leaves the services running beside it alone
        t = self.target
        return t == role or t == path or (service is not None and t == service) or (
            t.startswith("/") and t.endswith("*") and path.startswith(t[:-1]))

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d["remaining_s"] = None if self.until is None else max(0.0, round(self.until - time.monotonic(), 3))
        del d["until"]
        return d


class FaultError(ValueError):
    """A fault request the mock cannot honour (unknown kind, bad value)."""


class FaultBoard:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, target: str, kind: str, value: Any = None, count: int | None = None,
            duration_s: float | None = None, dossier: str | None = None) -> Fault:
        if kind not in FAULT_KINDS:
            raise FaultError(f"kind phải là một trong {', '.join(FAULT_KINDS)} / kind must be one of them")
        if not target:
            raise FaultError("thiếu target / target is required")
        if count is not None and not (isinstance(count, int) and 1 <= count <= MAX_FAULT_COUNT):
            raise FaultError(f"count phải là số nguyên 1..{MAX_FAULT_COUNT} / count must be an integer 1..{MAX_FAULT_COUNT}")
        value = DEFAULT_VALUES[kind] if value is None else value
        if kind == "http_5xx" and not (isinstance(value, int) and 500 <= value <= 599):
            raise FaultError("http_5xx: value phải là mã 5xx / value must be a 5xx status")
        if kind in ("latency", "timeout") and not (isinstance(value, (int, float)) and 0 <= value <= 600):
            raise FaultError(f"{kind}: value phải là số giây 0..600 / value must be seconds 0..600")
        until = time.monotonic() + duration_s if duration_s else None
        fault = Fault(next(self._ids), target, kind, value, count, until, dossier=dossier)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def listing(self) -> list[dict[str, Any]]:
        self._prune()
        return [f.public() for f in self.faults]

    def take(self, role: str, path: str, service: str | None, kinds: frozenset[str],
             dossiers: Iterable[str] = ()) -> Fault | None:
        """The first active fault for this exchange (consuming one of its count), or None; `dossiers`: the
        dossier codes the exchange carries (a fault scoped to a dossier matches only those)."""
        if not self.faults:
            return None
        now = time.monotonic()
        for f in self.faults:
            if f.kind in kinds and f.active(now) and f.matches(role, path, service, dossiers):
                f.hits += 1
                if f.count is not None:
                    f.count -= 1
                self._prune()
                return f
        self._prune()
        return None

    def _prune(self) -> None:
        now = time.monotonic()
        self.faults = [f for f in self.faults if f.active(now)]


# name → (exchange it applies to, what it does)
ADVERSARIAL_MODES: dict[str, tuple[str, str]] = {
    "id_token_foreign_key": ("token", "ID token ký bằng khóa lạ (không có trong JWKS) / ID token signed with a foreign key"),
    "id_token_alg_none": ("token", "ID token không ký, alg=none / unsigned ID token with alg none"),
    "id_token_wrong_iss": ("token", "ID token có iss sai / ID token with a wrong issuer"),
    "id_token_wrong_aud": ("token", "ID token có aud là client khác / ID token for another audience"),
    "id_token_wrong_nonce": ("token", "ID token có nonce khác với yêu cầu / ID token with a different nonce"),
    "id_token_expired": ("token", "ID token đã hết hạn / expired ID token"),
    "tampered_state": ("redirect", "Chuyển hướng về với state bị sửa / redirect back with a tampered state"),
    "replay_code": ("redirect", "Chuyển hướng về với mã ủy quyền đã dùng / redirect back with an already redeemed code"),
    "ipn_bad_checksum": ("ipn", "IPN giả mạo có MaXacThuc sai, sau đó IPN thật / forged IPN with a bad checksum, then the genuine one"),
    "ipn_lower_amount": ("ipn", "IPN báo số tiền thấp hơn, chữ ký hợp lệ / IPN with a lower amount, validly signed"),
    "ipn_duplicate": ("ipn", "IPN gửi hai lần / IPN delivered twice"),
}


@dataclass
class ArmedMode:
    mode: str
    client: str | None
    dossier: str | None = None  # only the exchange of this dossier (a payment of another dossier leaves it armed)
    citizen: str | None = None  # only a login of this TechID (citizens logging in beside it get genuine exchanges)
    id: int = 0
    armed_at: float = field(default_factory=time.time)


class ModeRequest(BaseModel):
    """Body of POST /_mock/adversarial."""
    model_config = ConfigDict(extra="forbid")

    mode: Literal[tuple(ADVERSARIAL_MODES)]  # type: ignore[valid-type]
    client: Optional[str] = Field(None, min_length=1, max_length=MAX_TARGET_CHARS)
    dossier: Optional[str] = Field(None, min_length=1, max_length=MAX_TARGET_CHARS)
    citizen: Optional[str] = Field(None, min_length=1, max_length=MAX_TARGET_CHARS,
                                   description="chỉ lần đăng nhập của TechID này / only a login of this TechID")


class AdversarialBoard:
    def __init__(self) -> None:
        self.armed: list[ArmedMode] = []
        self._ids = itertools.count(1)

    def arm(self, mode: str, client: str | None = None, dossier: str | None = None,
            citizen: str | None = None) -> ArmedMode:
        if mode not in ADVERSARIAL_MODES:
            raise KeyError(mode)
        item = ArmedMode(mode, client, dossier=dossier, citizen=citizen, id=next(self._ids))
        self.armed.append(item)
        return item

    def take(self, exchange: str, client: str | None = None, dossier: str | None = None,
             citizen: str | None = None) -> str | None:
        """Consume the oldest armed mode for this kind of exchange (and client, dossier and citizen, when it was
        armed for one)."""
        for item in self.armed:
            if ADVERSARIAL_MODES[item.mode][0] == exchange and (item.client is None or item.client == client) \
                    and (item.dossier is None or item.dossier == dossier) \
                    and (item.citizen is None or item.citizen == citizen):
                self.armed.remove(item)
                return item.mode
        return None

    def remove(self, item_id: int) -> bool:
        """Disarm one mode (the others, armed by services running beside it, stay armed)."""
        kept = [a for a in self.armed if a.id != item_id]
        found, self.armed[:] = len(kept) != len(self.armed), kept
        return found

    def clear(self) -> None:
        self.armed.clear()

    def listing(self) -> dict[str, Any]:
        return {
            "modes": [{"mode": m, "exchange": ex, "description": d} for m, (ex, d) in ADVERSARIAL_MODES.items()],
            "armed": [asdict(a) for a in self.armed],
        }
