"""Configuration of one mock portal run: who is registered (SSO clients, payment partners, adapter accounts),
which contract profile applies, where state is kept."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiemthu.control import LOOPBACK, new_token
from kiemthu.logs import register_secret
from kiemthu.runtime import temp_dir
from schemas import DEFAULT_PROFILE, load_profile

# Test secrets of the built-in demo registration (documented; used only when no target file is given).
DEMO_SSO_CLIENT_ID = "demo-motcua"
DEMO_SSO_CLIENT_SECRET = "demo-sso-secret"
DEMO_PAYMENT_PARTNER = "DEMO"
DEMO_PAYMENT_SECRET = "demo-payment-secret"
DEMO_ADAPTER_USER = "demo"
DEMO_ADAPTER_PASSWORD = "demo-adapter-password"
DEMO_AGENCY_CODE = "000.00.00.G15"
DEMO_AGENCY_BASE = "http://127.0.0.1:8801"


@dataclass
class SsoClient:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)


@dataclass
class PaymentPartner:
    code: str
    secret: str = field(repr=False)
    return_url: str
    callback_url: str


@dataclass
class AdapterAccount:
    username: str
    password: str = field(repr=False)
    dstcode: str
    madonvi: str = ""

    def __post_init__(self) -> None:
        self.madonvi = self.madonvi or self.dstcode


@dataclass
class ControlPlane:
    """The control listener (faults, adversarial modes, journal, reset...): loopback unless exposed on purpose,
    and every call but readiness and docs carries `Authorization: Bearer <token>`."""

    token: str = field(default_factory=new_token, repr=False)
    host: str = "127.0.0.1"
    port: int = 0  # 0 until bound

    def __post_init__(self) -> None:
        register_secret(self.token)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass
class MockSettings:
    base_url: str
    profile_name: str = DEFAULT_PROFILE
    db_path: str = ":memory:"
    sso_clients: list[SsoClient] = field(default_factory=list)
    payment_partners: list[PaymentPartner] = field(default_factory=list)
    adapter_accounts: list[AdapterAccount] = field(default_factory=list)
    agency_code: str = DEMO_AGENCY_CODE
    agency_name: str = ""
    citizen_documents: list[dict[str, Any]] = field(default_factory=list)
    # the target's own scenario files (wherever they live), published besides the repository's scenarios/
    scenario_files: list[str] = field(default_factory=list)
    # IPN retry delays may be shortened in tests; None = the profile's
    ipn_retry_backoff_s: list[float] | None = None
    # the agency's submission page; the portal home links each service there (deep link with MaTTHCDP, MaDVC...)
    agency_deep_link: str = ""
    # services of the agency are published for testing on this date (ISO; "" = none until the control API says so)
    publication_date: str = ""
    # the listeners: the portal plane (what the system under test is told) and the control plane
    listen_host: str = "127.0.0.1"
    listen_port: int | None = None  # None: the base URL's port
    control: ControlPlane = field(default_factory=ControlPlane)
    # further names the portal plane answers to (a container's host name...), besides its base URL and loopback
    extra_hosts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.listen_port is None:
            self.listen_port = urlsplit(self.base_url).port or 80
        for c in self.sso_clients:
            register_secret(c.client_secret)
        for p in self.payment_partners:
            register_secret(p.secret)
        for a in self.adapter_accounts:
            register_secret(a.password)

    @property
    def profile(self) -> dict[str, Any]:
        return load_profile(self.profile_name)

    @property
    def issuer(self) -> str:
        return self.profile["sso"]["issuer"].format(base_url=self.base_url)

    def client(self, client_id: str) -> SsoClient | None:
        return next((c for c in self.sso_clients if c.client_id == client_id), None)

    def partner(self, code: str) -> PaymentPartner | None:
        return next((p for p in self.payment_partners if p.code == code), None)

    def account(self, username: str) -> AdapterAccount | None:
        return next((a for a in self.adapter_accounts if a.username == username), None)

    def portal_hosts(self) -> frozenset[str]:
        """Host header values the portal plane accepts: its base URL's, and loopback or the bound address or
        an extra name with the listening port (anything else is a misdirected or DNS-rebound request)."""
        names = [*LOOPBACK, *self.extra_hosts]
        if self.listen_host not in ("0.0.0.0", "::", ""):
            names.append(self.listen_host)
        return frozenset({urlsplit(self.base_url).netloc.lower(), *_host_values(names, int(self.listen_port or 80))})

    def control_hosts(self) -> frozenset[str]:
        """Host header values the control plane accepts: loopback (or its bound address) with its port."""
        names = list(LOOPBACK)
        if self.control.host not in ("0.0.0.0", "::", ""):
            names.append(self.control.host)
        return frozenset(_host_values(names, self.control.port))

    def public_summary(self) -> dict[str, Any]:
        """What may be printed or served: registrations without their secrets."""
        return {
            "base_url": self.base_url,
            "profile": self.profile_name,
            "issuer": self.issuer,
            "sso_clients": [{"client_id": c.client_id, "redirect_uris": c.redirect_uris,
                             "post_logout_redirect_uris": c.post_logout_redirect_uris} for c in self.sso_clients],
            "payment_partners": [{"code": p.code, "return_url": p.return_url, "callback_url": p.callback_url}
                                 for p in self.payment_partners],
            "adapter_accounts": [{"username": a.username, "dstcode": a.dstcode, "madonvi": a.madonvi}
                                 for a in self.adapter_accounts],
        }

    @classmethod
    def demo(cls, base_url: str, db_path: str | None = None, profile: str | None = None,
             agency_base: str = DEMO_AGENCY_BASE) -> "MockSettings":
        """The built-in demo registration, for running the mock without a target file."""
        agency_base = agency_base.rstrip("/")
        return cls(
            base_url=base_url,
            profile_name=profile or DEFAULT_PROFILE,
            db_path=db_path or default_db_path(),
            sso_clients=[SsoClient(DEMO_SSO_CLIENT_ID, DEMO_SSO_CLIENT_SECRET, [f"{agency_base}/sso/callback"],
                                   [f"{agency_base}/"])],
            payment_partners=[PaymentPartner(DEMO_PAYMENT_PARTNER, DEMO_PAYMENT_SECRET,
                                             f"{agency_base}/thanh-toan/ket-qua", f"{agency_base}/thanh-toan/ipn")],
            adapter_accounts=[AdapterAccount(DEMO_ADAPTER_USER, DEMO_ADAPTER_PASSWORD, DEMO_AGENCY_CODE)],
            agency_code=DEMO_AGENCY_CODE,
            agency_name="Bộ Tư pháp (demo)",
            agency_deep_link=f"{agency_base}/dvc/nop-ho-so",
        )

    @classmethod
    def from_target(cls, target, base_url: str | None = None, db_path: str | None = None,
                    profile: str | None = None) -> "MockSettings":
        """Registrations of a `kiemthu.target.Target` (secrets read from their environment variables)."""
        portal = target["portal"]
        system = target["system"]
        base_url = base_url or portal["base_url"]
        clients, partners, accounts = [], [], []
        if "sso_client" in portal:
            c = portal["sso_client"]
            clients.append(SsoClient(c["client_id"], target.secret("portal.sso_client.client_secret"),
                                     list(c["redirect_uris"]), list(c.get("post_logout_redirect_uris", []))))
        if "payment_partner" in portal:
            p = portal["payment_partner"]
            partners.append(PaymentPartner(p["code"], target.secret("portal.payment_partner.secret"),
                                           p["return_url"], p["callback_url"]))
        if "adapter_account" in portal:
            a = portal["adapter_account"]
            accounts.append(AdapterAccount(a["username"], target.secret("portal.adapter_account.password"),
                                           a["dstcode"], a.get("madonvi", "")))
        return cls(
            base_url=base_url,
            profile_name=profile or portal.get("profile") or DEFAULT_PROFILE,
            db_path=db_path or default_db_path(),
            sso_clients=clients,
            payment_partners=partners,
            adapter_accounts=accounts,
            agency_code=system["agency_code"],
            agency_name=system.get("agency_name", ""),
            citizen_documents=list(portal.get("citizen_documents", [])),
            # the target's services are published, wherever their scenario files are (beside the target...)
            scenario_files=[str(p) for p in getattr(target, "scenario_paths", list)() if Path(p).is_file()],
            agency_deep_link=str((target.get("adapter") or {}).get("deep_link_url", "")),
            publication_date=str((target.get("report") or {}).get("publication_date") or ""),
        )



def _host_values(names: list[str], port: int) -> set[str]:
    out = set()
    for name in names:
        name = name.lower()
        host = f"[{name.strip('[]')}]" if ":" in name.strip("[]") else name
        out.add(f"{host}:{port}")
        if port == 80:
            out.add(host)
    return out


_db_folder: Path | None = None


def default_db_path() -> str:
    """A fresh SQLite file outside any run directory (it holds unmasked state), in a folder of this process
    alone that is deleted when it exits (`--keep-temp` keeps it)."""
    global _db_folder
    if _db_folder is None or not _db_folder.is_dir():
        _db_folder = temp_dir("mock")
    fd, path = tempfile.mkstemp(prefix="portal-", suffix=".sqlite", dir=_db_folder)
    os.close(fd)
    return path
