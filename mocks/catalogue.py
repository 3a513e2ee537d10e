"""Procedure database (CSDLQG về TTHC) built from the scenario files, test identities, and Kho DL documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scenarios import ROOT as SCENARIOS_ROOT
from scenarios import ScenarioError

DATA = Path(__file__).resolve().parent / "data"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)


def load_identities() -> list[dict[str, Any]]:
    """Test identities (citizens and enterprises) with the userinfo claim set of docs/domain/."""
    return read_yaml(DATA / "identities.yaml")


def load_scenarios_fast(folder: str | Path | None = None, files: list[str | Path] | tuple = ()) -> list[dict[str, Any]]:
    """The scenarios of a folder and the given files, as `scenarios.load_scenarios` reads them, validated with the
    compiled validator: importing the pure-Python jsonschema package would cost a third of the mock's start-up
    budget. A given file replaces the folder's scenario of the same id (the target's own copy wins)."""
    import jsonschema_rs

    from schemas import load_schema

    validator = jsonschema_rs.validator_for(load_schema("scenario"))
    out: dict[str, dict[str, Any]] = {}
    for path in [*sorted(Path(folder or SCENARIOS_ROOT).glob("*.yaml")), *map(Path, files)]:
        data = read_yaml(path)
        for err in validator.iter_errors(data):
            where = "/".join(str(x) for x in err.instance_path) or "(root)"
            raise ScenarioError(f"{path.name}: field '{where}' breaks rule '{err.kind.name}': {err.message}")
        data["_file"] = str(path)
        out[data["id"]] = data
    return sorted(out.values(), key=lambda s: s["id"])


def procedure_from_scenario(sc: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """The published content of one procedure, in the portal's vocabulary."""
    levels = profile.get("catalogue", {}).get("levels", {})
    fee = sc.get("fee", {})
    return {
        "MaTTHC": sc["MaTTHC"],
        "TenTTHC": sc["TenTTHC"],
        "MaTTHCDP": sc.get("MaTTHCDP", ""),
        "MaLinhVuc": sc.get("MaLinhVuc", ""),
        "TenLinhVuc": sc.get("TenLinhVuc", ""),
        "CoQuanThucHien": {"MaCoQuan": sc.get("agency_code", ""), "TenCoQuan": sc.get("agency_name", "")},
        "MucDo": sc.get("level", ""),
        "TenMucDo": levels.get(sc.get("level", ""), sc.get("level", "")),
        "ThoiHanGiaiQuyet": sc.get("processing_days"),
        "DonViThoiHan": "Ngày làm việc",
        "MucDoXacThuc": sc.get("acr", "LoA1"),
        "ThanhToanTrucTuyen": bool(fee.get("online_payment")),
        "PhiLePhi": [
            {"LoaiPhiLePhi": str(i.get("LoaiPhiLePhi", "2")), "MaPhiLePhi": i.get("MaPhiLePhi", ""),
             "TenPhiLePhi": i.get("TenPhiLePhi", ""), "SoTien": int(i.get("SoTien", 0))}
            for i in fee.get("items", [])
        ],
        "TongPhiLePhi": int(fee.get("amount", 0)),
        "ThanhPhanHoSo": [
            {"MaThanhPhanHoSo": d["MaThanhPhanHoSo"], "TenThanhPhanHoSo": d["TenThanhPhanHoSo"],
             "BatBuoc": bool(d.get("required", False)), "MaKetQuaTaiSuDung": d.get("khodl_result_code", "")}
            for d in sc.get("documents", [])
        ],
        "TruongThongTin": [
            {"Ma": f["name"], "Nhan": f.get("label", f["name"]), "BatBuoc": bool(f.get("required", False))}
            for f in sc.get("fields", [])
        ],
        "DichVuCong": [{"MaDVC": sc.get("MaDVC", ""), "TenDVC": sc.get("TenDVC", "")}],
        "KetQua": sc.get("result", {}),
    }


class Catalogue:
    def __init__(self, profile: dict[str, Any], files: list[str] | tuple = ()):
        """The procedures of the repository's scenarios/ and of the target's own scenario `files`."""
        self.procedures = [procedure_from_scenario(s, profile) for s in load_scenarios_fast(files=files)]
        self._by_code: dict[str, dict[str, Any]] = {}
        for p in self.procedures:
            self._by_code[p["MaTTHC"]] = p
            if p["MaTTHCDP"]:
                self._by_code[p["MaTTHCDP"]] = p

    def find(self, code: str) -> dict[str, Any] | None:
        """A procedure by its national code (MaTTHC) or localized code (MaTTHCDP)."""
        return self._by_code.get(code)

    def listing(self, agency: str = "", sector: str = "") -> list[dict[str, Any]]:
        return [
            {k: p[k] for k in ("MaTTHC", "TenTTHC", "MaTTHCDP", "MaLinhVuc", "TenLinhVuc", "MucDo", "TenMucDo",
                               "CoQuanThucHien", "DichVuCong")}
            for p in self.procedures
            if (not agency or p["CoQuanThucHien"]["MaCoQuan"] == agency) and (not sector or p["MaLinhVuc"] == sector)
        ]


class DocumentStore:
    """Kho DL: documents per owner (SoDinhDanh). Start-up documents plus results synced by agencies."""

    def __init__(self, profile: dict[str, Any], base_url: str, extra: list[dict[str, Any]] | None = None):
        self.profile = profile
        self.base_url = base_url
        self.files_path = profile.get("khodl", {}).get("paths", {}).get("files", "/khodl/files")
        self.docs: list[dict[str, Any]] = []
        seed = read_yaml(DATA / "documents.yaml")
        for d in seed + list(extra or []):
            self.add_seed(d)

    def _doc_id(self) -> str:
        return f"KDL{len(self.docs) + 1:06d}"

    def add_seed(self, d: dict[str, Any]) -> dict[str, Any]:
        doc_id = d.get("id") or self._doc_id()
        code = d["MaKetQua"]
        name = d.get("TenGiayTo") or self.profile.get("result_types", {}).get(code, code)
        doc = {
            "id": doc_id, "owner": str(d["SoDinhDanh"]), "MaKetQua": code, "TenGiayTo": name,
            "SoKyHieu": d.get("SoKyHieu", ""), "CoQuanChuQuan": d.get("CoQuanChuQuan", ""),
            "DanhSachTepDinhKem": d.get("DanhSachTepDinhKem") or [
                {"TenTep": f"{doc_id}.pdf", "DuongDan": f"{self.base_url}{self.files_path}/{doc_id}"}],
            "source": d.get("source", "seed"),
        }
        self.docs.append(doc)
        return doc

    def add_result(self, owner: str, item: dict[str, Any], agency: str, dossier_code: str) -> None:
        """A result document synced by an agency becomes reusable from the owner's Kho DL."""
        code = item.get("MaGiayToKetQua") or ""
        if not owner or not code:
            return
        link = item.get("DuongDanTepTinKetQua", "")
        if any(d["owner"] == owner and d["MaKetQua"] == code and d["DanhSachTepDinhKem"][0]["DuongDan"] == link
               for d in self.docs):
            return
        self.add_seed({
            "SoDinhDanh": owner, "MaKetQua": code, "TenGiayTo": item.get("TenGiayTo"), "SoKyHieu": dossier_code,
            "CoQuanChuQuan": agency, "source": f"dossier:{dossier_code}",
            "DanhSachTepDinhKem": [{"TenTep": item.get("TenGiayTo") or code, "DuongDan": link}],
        })

    def reset_synced(self) -> None:
        self.docs = [d for d in self.docs if not d["source"].startswith("dossier:")]

    def find(self, owner: str, wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        codes = {w.get("MaKetQua") for w in wanted}
        numbers = {w.get("MaKetQua"): w.get("SoKyHieu") for w in wanted if w.get("SoKyHieu")}
        out = []
        for d in self.docs:
            if d["owner"] != owner or (codes and d["MaKetQua"] not in codes):
                continue
            if d["MaKetQua"] in numbers and numbers[d["MaKetQua"]] != d["SoKyHieu"]:
                continue
            out.append({k: d[k] for k in ("MaKetQua", "TenGiayTo", "SoKyHieu", "CoQuanChuQuan", "DanhSachTepDinhKem")})
        return out

    def by_id(self, doc_id: str) -> dict[str, Any] | None:
        return next((d for d in self.docs if d["id"] == doc_id), None)
