"""Configuration: environment variables `MINISTRY_*`, or the same keys (lower-case, no prefix) in a YAML file.

The environment wins over the file so a launcher can override one value without rewriting the file.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

PREFIX = "MINISTRY_"

# Portal endpoint paths (profile dvcqg-1.0). Kept here because this system must not depend on the harness.
DEFAULT_PORTAL_PATHS = {
    "sso_authorize": "/oauth2/authorize",
    "sso_token": "/oauth2/token",
    "sso_userinfo": "/oauth2/userinfo",
    "sso_jwks": "/oauth2/jwks",
    "sso_logout": "/oidc/logout",
    "payment_init": "/paymentplatform/init",
    "payment_query": "/paymentplatform/query",
    "adapter_auth": "/adapter/auth",
    "adapter_integration": "/adapter/integration",
    "adapter_share": "/adapter/share",
    "khodl_get": "/khodl/GetKetQuaGiayTo",
}

SECRET_FIELDS = ("sso_client_secret", "payment_secret", "adapter_password", "officer_password")


@dataclass
class Settings:
    public_url: str = "http://127.0.0.1:8600"
    portal_url: str = "http://127.0.0.1:8700"
    sso_client_id: str = "btp-motcua"
    sso_client_secret: str = ""
    payment_partner: str = "BTP"
    payment_secret: str = ""
    adapter_user: str = "btp"
    adapter_password: str = ""
    agency_code: str = "000.00.00.G15"
    agency_name: str = "Bộ Tư pháp"
    officer_user: str = "canbo"
    officer_password: str = ""
    officer_name: str = "Nguyễn Văn Bình"
    officer_title: str = "Chuyên viên"
    officer_department: str = "Bộ phận Một cửa"
    db: str = ""
    # the service catalogue (services.yaml of this package unless another file is given)
    catalogue: str = ""
    defects: list[str] = field(default_factory=list)
    portal_paths: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PORTAL_PATHS))
    # beneficiary account printed on the payment receipt
    beneficiary_account: str = "3511.0.1053711.00000"
    beneficiary_bank: str = "01201001"
    beneficiary_name: str = "Bộ Tư pháp"
    # robustness knobs (seconds)
    http_timeout_s: float = 5.0
    outbox_backoff_base_s: float = 0.5
    outbox_backoff_max_s: float = 5.0
    outbox_business_retries: int = 5
    outbox_poll_s: float = 0.2
    payment_query_after_s: float = 30.0
    session_ttl_s: float = 8 * 3600
    max_upload_bytes: int = 5 * 1024 * 1024

    @property
    def issuer(self) -> str:
        return f"{self.portal_url}/oauth2/token"

    @property
    def data_dir(self) -> Path:
        return Path(self.db).resolve().parent

    def portal(self, key: str) -> str:
        """Absolute URL of a portal endpoint."""
        return self.portal_url + self.portal_paths[key]

    def public(self, path: str) -> str:
        return self.public_url + path

    def missing_secrets(self) -> list[str]:
        return [PREFIX + name.upper() for name in SECRET_FIELDS if not getattr(self, name)]


_data_dir: Path | None = None


def _private_data_dir() -> Path:
    """A folder of this process alone, deleted when it exits: without MINISTRY_DB, two systems started side by
    side must not share a database. Set MINISTRY_DB to keep the data."""
    global _data_dir
    if _data_dir is None:
        _data_dir = Path(tempfile.mkdtemp(prefix="kiemthu-ministry-"))
        atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
    return _data_dir


def _coerce(current: Any, raw: Any) -> Any:
    if isinstance(current, list):
        if isinstance(raw, str):
            return [x.strip() for x in raw.split(",") if x.strip()]
        return list(raw or [])
    if isinstance(current, dict):
        return {**current, **(raw or {})}
    if isinstance(current, bool):
        return str(raw).lower() in ("1", "true", "yes")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    return str(raw)


def load_settings(config_file: str | Path | None = None, env: dict[str, str] | None = None,
                  port: int | None = None) -> Settings:
    """Settings from defaults, then the YAML file, then `MINISTRY_*` environment variables."""
    env = dict(os.environ if env is None else env)
    settings = Settings()
    if port:
        settings.public_url = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {}
    if config_file:
        values.update(yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {})
    for f in fields(Settings):
        key = PREFIX + f.name.upper()
        if key in env:
            values[f.name] = env[key]
    for name, raw in values.items():
        if not hasattr(settings, name):
            raise ValueError(f"unknown configuration key: {name}")
        setattr(settings, name, _coerce(getattr(settings, name), raw))
    settings.public_url = settings.public_url.rstrip("/")
    settings.portal_url = settings.portal_url.rstrip("/")
    if not settings.db:
        settings.db = str(_private_data_dir() / "ministry.db")
    Path(settings.db).parent.mkdir(parents=True, exist_ok=True)
    return settings
