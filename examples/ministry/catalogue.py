"""The ministry's own service catalogue (services.yaml): what each online service asks for and charges."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from examples.ministry.defects import Defects

CATALOGUE_FILE = Path(__file__).with_name("services.yaml")
FEE_MISMATCH_DELTA = 50_000


@dataclass
class Service:
    raw: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    @property
    def id(self) -> str:
        return self.raw["id"]

    @property
    def published_fee(self) -> int:
        return int(self.raw.get("fee", {}).get("amount", 0))

    @property
    def fee_items(self) -> list[dict[str, Any]]:
        return list(self.raw.get("fee", {}).get("items", []))

    @property
    def fully_online(self) -> bool:
        return self.raw.get("level") == "toan_trinh"

    @property
    def fields(self) -> list[dict[str, Any]]:
        return self.raw["fields"]

    @property
    def result(self) -> dict[str, str]:
        return self.raw["result"]


class Catalogue:
    def __init__(self, path: Path = CATALOGUE_FILE):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.services = [Service(s) for s in data["services"]]
        self.extra_document = data["extra_document"]

    def by_id(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def find(self, ma_dvc: str | None = None, ma_tthcdp: str | None = None) -> Service | None:
        """The service a deep link points at: by MaDVC first, else by the localized TTHC code."""
        for s in self.services:
            if ma_dvc and s["MaDVC"] == ma_dvc:
                return s
        for s in self.services:
            if ma_tthcdp and s["MaTTHCDP"] == ma_tthcdp:
                return s
        return None


def form_documents(service: Service, catalogue: Catalogue, defects: Defects) -> list[dict[str, Any]]:
    """Documents the submission form asks for (normally exactly the published list)."""
    docs = [dict(d) for d in service["documents"]]
    if defects.on("missing-required-document", service):
        required = [d for d in docs if d.get("required") and not d.get("khodl_result_code")]
        if required:
            docs.remove(required[0])
    if defects.on("extra-document-demanded", service):
        docs.append(dict(catalogue.extra_document))
    return docs


def charged_fee(service: Service, defects: Defects) -> int:
    """The amount the system charges for one dossier."""
    if service.published_fee and defects.on("fee-mismatch", service):
        return service.published_fee + FEE_MISMATCH_DELTA
    return service.published_fee


def charged_fee_items(service: Service, defects: Defects) -> list[dict[str, Any]]:
    """Fee lines (phí/lệ phí) adding up to the charged amount."""
    items = [dict(i) for i in service.fee_items]
    delta = charged_fee(service, defects) - service.published_fee
    if items and delta:
        items[0]["SoTien"] = int(items[0]["SoTien"]) + delta
    return items


def offers_online_payment(service: Service, defects: Defects) -> bool:
    online = bool(service.published_fee) and bool(service.get("fee", {}).get("online_payment"))
    if online and service.fully_online and defects.on("no-online-payment", service):
        return False
    return online
