"""A catalogue of N services for benchmarking: variants of the demo's scenarios with their own procedure and
service codes and names, written into a temporary folder (never into the repository):

    <folder>/scenarios/<id>.yaml   what the mock portal publishes (the target's scenario folder)
    <folder>/services.yaml         the reference system's own catalogue of the same services (MINISTRY_CATALOGUE)
    <folder>/target.yaml           the demo target listing them

    with generated_catalogue(30) as cat:
        start_reference_system(load_target(cat.target), run_dir, catalogue=cat.services)
        run(target=cat.target, ...)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
MINISTRY_SERVICES = ROOT / "examples" / "ministry" / "services.yaml"
DEMO_TARGET = ROOT / "examples" / "ministry" / "target.yaml"
BASES = ("lltp-cap-phieu", "khai-sinh", "ket-hon")  # the demo's three: paid toàn trình, free toàn trình, một phần
FIRST_CODE = 900_000  # generated procedure codes 1.900001…, 2.900002…: apart from the published ones


@dataclass
class Catalogue:
    folder: Path
    target: Path
    services: Path
    ids: list[str]


def variant_codes(base: dict, n: int) -> dict[str, str]:
    """Codes and names of the n-th variant of a scenario (1-based): unique for every n."""
    matthc = f"{base['MaTTHC'][0]}.{FIRST_CODE + n:06d}"
    return {"id": f"{base['id']}-{n:03d}", "MaTTHC": matthc, "MaDVC": f"{matthc}.01",
            "MaTTHCDP": f"{matthc}.000.00.00.G15", "TenTTHC": f"{base['TenTTHC']} (mẫu {n})",
            "TenDVC": f"{base['TenDVC']} (mẫu {n})"}


def write_catalogue(n: int, folder: Path) -> Catalogue:
    """`n` services cycling through the demo's three scenarios, each with codes of its own."""
    if n < 1:
        raise ValueError(f"services: must be 1 or more, got {n}")
    bases = {sid: yaml.safe_load((SCENARIOS / f"{sid}.yaml").read_text(encoding="utf-8")) for sid in BASES}
    own = {s["id"]: s for s in yaml.safe_load(MINISTRY_SERVICES.read_text(encoding="utf-8"))["services"]}
    ministry = yaml.safe_load(MINISTRY_SERVICES.read_text(encoding="utf-8"))
    scenario_dir = folder / "scenarios"
    scenario_dir.mkdir(parents=True, exist_ok=True)
    ids, services = [], []
    for i in range(1, n + 1):
        base = bases[BASES[(i - 1) % len(BASES)]]
        codes = variant_codes(base, i)
        scenario = {**base, **codes}
        # sample files stay where the scenarios keep them
        scenario["documents"] = [{**d, "sample_file": str(SCENARIOS / d["sample_file"])} if d.get("sample_file") else d
                                 for d in base["documents"]]
        (scenario_dir / f"{codes['id']}.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False),
                                                          encoding="utf-8")
        services.append({**own[base["id"]], **codes})
        ids.append(codes["id"])
    ministry["services"] = services
    services_file = folder / "services.yaml"
    services_file.write_text(yaml.safe_dump(ministry, allow_unicode=True, sort_keys=False), encoding="utf-8")
    target = yaml.safe_load(DEMO_TARGET.read_text(encoding="utf-8"))
    target["services"] = [{"scenario": str(scenario_dir / f"{sid}.yaml")} for sid in ids]
    target_file = folder / "target.yaml"
    target_file.write_text(yaml.safe_dump(target, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Catalogue(folder, target_file, services_file, ids)


@contextlib.contextmanager
def generated_catalogue(n: int) -> Iterator[Catalogue]:
    """A catalogue of `n` services in a temporary folder, removed afterwards."""
    from kiemthu.runtime import remove_temp, temp_dir

    folder = temp_dir("catalogue")
    try:
        yield write_catalogue(n, folder)
    finally:
        remove_temp(folder)
