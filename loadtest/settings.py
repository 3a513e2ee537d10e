"""The `load` section of a target file: validated against schemas/load.schema.json, merged with command-line options."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULTS: dict[str, Any] = {
    "users": 10,
    "spawn_rate": 5.0,
    "duration": "30s",
    "max_duration_s": 3600,
    "stop_timeout_s": 10,
}
DEFAULT_OUTBOX_PATH = "/van-hanh/outbox.json"
DEFAULT_PORTAL_SERVICES = ["DongBoHoSoMC", "TraCuuHoSo", "LayDanhSachTTHC"]
DEFAULT_WEIGHTS = {"citizen": 3, "officer": 1, "portal": 0}
# think time between two journeys of one simulated user (seconds); portal traffic runs flat out
DEFAULT_THINK = {"citizen": (0.5, 2.0), "officer": (0.5, 2.0), "portal": (0.0, 0.0)}


class LoadConfigError(ValueError):
    """The load section (or an option) cannot be used; `problems` names each field and rule."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def validate_load(section: Any) -> list[str]:
    """Problems of a `load` section against schemas/load.schema.json, each as `load.<field>: rule — message`."""
    from schemas import validator

    out = []
    for err in sorted(validator("load").iter_errors(section), key=lambda e: [str(p) for p in e.absolute_path]):
        where = "load" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            out.append(f"{where}: rule 'known keys only' — unknown key(s) {', '.join(map(repr, extra))}")
        else:
            out.append(f"{where}: rule '{err.validator}' — {err.message}")
    return out


def parse_duration(value: str | int | float) -> float:
    """Seconds of `45`, `45s`, `2m`, `1h30m`."""
    if isinstance(value, (int, float)):
        if value <= 0:
            raise ValueError(f"duration must be positive, got {value!r}")
        return float(value)
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit():
        return parse_duration(float(text))
    # Locust's own notation; parsed here because importing locust monkey-patches this process (gevent)
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not text or not m:
        raise ValueError(f"duration {value!r} is not a time span like 30s, 2m or 1h30m")
    seconds = int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60 + int(m.group(3) or 0)
    if seconds <= 0:
        raise ValueError(f"duration must be positive, got {value!r}")
    return float(seconds)


@dataclass
class LoadSettings:
    """Everything a run needs, resolved from the target and the options."""

    system_url: str
    portal_url: str
    portal_mode: str
    users: int
    spawn_rate: float
    duration_s: float
    stop_timeout_s: float
    weights: dict[str, int]
    think: dict[str, tuple[float, float]]
    services: list[str]
    identities: list[str]
    pay: bool
    payment_outcome: str
    portal_services: list[str]
    back_office: dict[str, Any] | None
    outbox_url: str | None
    outbox_drain_timeout_s: float
    reconciliation: dict[str, Any]
    faults: list[dict[str, Any]]
    gate: dict[str, Any]
    code_pattern: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def active_journeys(self) -> list[str]:
        return [name for name, w in self.weights.items() if w > 0]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (no secrets: the back-office password stays a reference)."""
        out = {k: v for k, v in self.__dict__.items() if k != "raw"}
        out["think"] = {k: list(v) for k, v in self.think.items()}
        return out


def _think(section: dict[str, Any], journey: str) -> tuple[float, float]:
    tt = (section.get("journeys", {}).get(journey) or {}).get("think_time") or {}
    lo, hi = DEFAULT_THINK[journey]
    lo = float(tt.get("min_s", lo))
    hi = float(tt.get("max_s", max(hi, lo)))
    return (lo, max(lo, hi))


def resolve_settings(target, *, users: int | None = None, spawn_rate: float | None = None,
                     duration: str | None = None) -> LoadSettings:
    """LoadSettings of a loaded target (kiemthu.target.Target or a plain dict) with command-line overrides."""
    data = target.data if hasattr(target, "data") else target
    section = data.get("load") or {}
    problems = validate_load(section)
    if problems:
        raise LoadConfigError(problems)

    try:
        duration_s = parse_duration(duration if duration is not None else section.get("duration", DEFAULTS["duration"]))
    except ValueError as exc:
        raise LoadConfigError([f"duration: {exc}"]) from None
    max_s = float(section.get("max_duration_s", DEFAULTS["max_duration_s"]))
    if duration_s > max_s:
        raise LoadConfigError([f"duration: {duration_s:.0f}s is longer than load.max_duration_s ({max_s:.0f}s)"])
    if users is not None and users < 1:
        raise LoadConfigError([f"users: must be at least 1, got {users}"])
    if spawn_rate is not None and spawn_rate <= 0:
        raise LoadConfigError([f"spawn_rate: must be positive, got {spawn_rate}"])

    journeys = section.get("journeys") or {}
    weights = {name: int((journeys.get(name) or {}).get("weight", DEFAULT_WEIGHTS[name])) for name in DEFAULT_WEIGHTS}
    back_office = section.get("back_office")
    if back_office is not None:
        officer = data.get("officer") or {}
        back_office = {
            "username_field": "username", "password_field": "password", "actions": [],
            **back_office,
        }
        back_office.setdefault("username", officer.get("username"))
        back_office.setdefault("password", officer.get("password"))
        if not back_office.get("username") or not back_office.get("password"):
            raise LoadConfigError(["load.back_office: no officer credentials (set back_office.username/password "
                                   "or the target's officer section)"])
    elif "officer" in journeys and weights["officer"] > 0:
        raise LoadConfigError(["load.journeys.officer: officer journeys need load.back_office (login_path, list_path)"])
    else:
        weights["officer"] = 0  # no declared back office: nothing an officer journey could drive
    if not any(weights.values()):
        raise LoadConfigError(["load.journeys: every journey has weight 0; nothing to run"])

    system_url = data["system"]["base_url"].rstrip("/")
    outbox = section.get("outbox") or {}
    outbox_url = outbox.get("url", DEFAULT_OUTBOX_PATH)
    if outbox_url and outbox_url.startswith("/"):
        outbox_url = system_url + outbox_url

    citizen = journeys.get("citizen") or {}
    portal = journeys.get("portal") or {}
    gate = dict(section.get("gate") or {})
    gate.setdefault("reconciliation", True)
    recon = {"enabled": True, "submitted_status": ["1", "2"], "timeout_s": 120, **(section.get("reconciliation") or {})}
    return LoadSettings(
        system_url=system_url,
        portal_url=data["portal"]["base_url"].rstrip("/"),
        portal_mode=data["portal"]["mode"],
        users=users if users is not None else int(section.get("users", DEFAULTS["users"])),
        spawn_rate=spawn_rate if spawn_rate is not None else float(section.get("spawn_rate", DEFAULTS["spawn_rate"])),
        duration_s=duration_s,
        stop_timeout_s=float(section.get("stop_timeout_s", DEFAULTS["stop_timeout_s"])),
        weights=weights,
        think={name: _think(section, name) for name in DEFAULT_WEIGHTS},
        services=list(citizen.get("services") or []),  # empty: every service of the target
        identities=list(citizen.get("identities") or []),
        pay=bool(citizen.get("pay", True)),
        payment_outcome=citizen.get("payment_outcome", "Thành công"),
        portal_services=list(portal.get("services") or DEFAULT_PORTAL_SERVICES),
        back_office=back_office,
        outbox_url=outbox_url or None,
        outbox_drain_timeout_s=float(outbox.get("drain_timeout_s", 60)),
        reconciliation=recon,
        faults=sorted(section.get("faults") or [], key=lambda f: f["at_s"]),
        gate=gate,
        code_pattern=section.get("code_pattern"),
        raw=section,
    )


def env_secret(ref: dict[str, str] | str | None) -> str | None:
    """The value of a {env: NAME} reference (registered for log redaction), or None."""
    if not ref:
        return None
    if isinstance(ref, str):
        return ref
    value = os.environ.get(ref["env"])
    if value is not None:
        from kiemthu.logs import register_secret

        register_secret(value)
    return value
