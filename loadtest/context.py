"""What the journeys need from the target file, loaded once per Locust process (master, worker or local).

The runner passes the target path in KIEMTHU_LOAD_TARGET and the option overrides in KIEMTHU_LOAD_OPTIONS;
a worker on another machine gets the same by running `kiemthu load --worker --target FILE` there.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtest.settings import LoadSettings, env_secret, resolve_settings

ENV_TARGET = "KIEMTHU_LOAD_TARGET"
ENV_OPTIONS = "KIEMTHU_LOAD_OPTIONS"
ENV_DIR = "KIEMTHU_LOAD_DIR"
ENV_RUN_TIME = "KIEMTHU_LOAD_RUN_TIME"
# a dossier code as systems print it (agency id, date, sequence), loose on the sequence length on purpose: a
# system with malformed codes must still be reconciled; the conformance suite judges the format
CODE_RX = re.compile(r"[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{3,6}")


@dataclass
class Service:
    """One service a citizen journey submits: the scenario and its sample files, read once."""

    scenario: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)   # MaThanhPhanHoSo -> (file name, bytes)

    @property
    def id(self) -> str:
        return self.scenario["id"]

    @property
    def fee(self) -> int:
        return int((self.scenario.get("fee") or {}).get("amount") or 0)

    @property
    def pays_online(self) -> bool:
        fee = self.scenario.get("fee") or {}
        return bool(fee.get("online_payment")) and self.fee > 0


@dataclass
class LoadContext:
    settings: LoadSettings
    target: Any
    services: list[Service]
    agency_code: str
    adapter: dict[str, Any] | None
    profile: dict[str, Any]
    load_dir: Path | None
    code_rx: re.Pattern = None  # type: ignore[assignment]

    def adapter_password(self) -> str | None:
        return env_secret((self.adapter or {}).get("password"))

    def officer_password(self) -> str | None:
        return env_secret((self.settings.back_office or {}).get("password"))


def load_context(target_path: str | Path | None = None, options: dict[str, Any] | None = None) -> LoadContext:
    from kiemthu.target import load_target
    from scenarios import load_scenario, sample_file
    from schemas import load_profile

    target_path = target_path or os.environ[ENV_TARGET]
    if options is None:
        options = json.loads(os.environ.get(ENV_OPTIONS) or "{}")
    target = load_target(target_path)
    settings = resolve_settings(target, **{k: v for k, v in options.items()
                                           if k in ("users", "spawn_rate", "duration") and v is not None})
    by_id = {}
    for path in target.scenario_paths():
        sc = load_scenario(path)
        by_id[sc["id"]] = sc
    services = []
    for sid in settings.services or sorted(by_id):
        if sid not in by_id:
            raise ValueError(f"load.journeys.citizen.services: '{sid}' is not a service of the target "
                             f"(known: {', '.join(sorted(by_id))})")
        sc = by_id[sid]
        svc = Service(sc)
        for doc in sc.get("documents", []):
            p = sample_file(sc, doc)
            if p and p.is_file():
                svc.files[doc["MaThanhPhanHoSo"]] = (p.name, p.read_bytes())
        services.append(svc)
    load_dir = os.environ.get(ENV_DIR)
    return LoadContext(
        settings=settings,
        target=target,
        services=services,
        agency_code=target["system"]["agency_code"],
        adapter=target["portal"].get("adapter_account"),
        profile=load_profile(target["portal"].get("profile")),
        load_dir=Path(load_dir) if load_dir else None,
        code_rx=re.compile(settings.code_pattern) if settings.code_pattern else CODE_RX,
    )
