"""Everything a request handler or the background worker needs, built once per application."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import httpx

from examples.ministry.adapter import AdapterClient
from examples.ministry.catalogue import Catalogue
from examples.ministry.config import Settings
from examples.ministry.db import Database
from examples.ministry.defects import Defects
from examples.ministry.sso import JWKSCache
from examples.ministry.timeutil import Clock


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """Loading the CA bundle is slow; every HTTP client of the process shares one context."""
    return ssl.create_default_context()


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
        http = httpx.Client(timeout=timeout, follow_redirects=False, verify=_tls())
        worker_http = httpx.Client(timeout=timeout, follow_redirects=False, verify=_tls())
        return cls(
            settings=settings,
            defects=defects or Defects(settings.defects),
            db=Database(settings.db),
            catalogue=Catalogue(Path(settings.catalogue)) if settings.catalogue else Catalogue(),
            clock=Clock(),
            http=http,
            adapter=AdapterClient(settings, worker_http),
            jwks=JWKSCache(settings, http),
        )

    def close(self) -> None:
        self.http.close()
        self.adapter.http.close()
