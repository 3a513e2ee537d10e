"""Everything a request handler or the background worker needs, built once per application."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from examples.ministry.adapter import AdapterClient
from examples.ministry.catalogue import Catalogue
from examples.ministry.config import Settings
from examples.ministry.db import Database
from examples.ministry.defects import Defects
from examples.ministry.sso import JWKSCache
from examples.ministry.timeutil import Clock


@dataclass
class Ministry:
    settings: Settings
    defects: Defects
    db: Database
    catalogue: Catalogue
    clock: Clock
    http: httpx.Client                  # web requests (SSO, payment, Kho DL)
    adapter: AdapterClient              # used by the outbox worker (own HTTP client)
    jwks: JWKSCache
    wake: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings, defects: Defects | None = None) -> "Ministry":
        timeout = httpx.Timeout(settings.http_timeout_s)
        http = httpx.Client(timeout=timeout, follow_redirects=False)
        worker_http = httpx.Client(timeout=timeout, follow_redirects=False)
        return cls(
            settings=settings,
            defects=defects or Defects(settings.defects),
            db=Database(settings.db),
            catalogue=Catalogue(),
            clock=Clock(),
            http=http,
            adapter=AdapterClient(settings, worker_http),
            jwks=JWKSCache(settings, http),
        )

    def close(self) -> None:
        self.http.close()
        self.adapter.http.close()
