"""Secrets never reach an artefact: values planted in the environment the target reads are absent from every
file of the run directory (inside the xlsx zip, the PDF text and the HTML's embedded data too: see tests.artefacts)."""

import re
from pathlib import Path

import yaml

from conftest import BUILD_DAY, sample_summary, write_run_dir
from kiemthu.runtime import REPO_ROOT
from kiemthu.target import load_target, secret_fields
from reports.build import build, build_documents
from reports.model import load_run
from tests.artefacts import hits

EXAMPLE_TARGET = REPO_ROOT / "examples" / "ministry" / "target.yaml"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def leaks(root: Path, secrets: list[str]) -> list[str]:
    """Every file under root, with what zips, PDFs, SQLite files and the HTML's embedded base64 hide, searched."""
    return hits(root, {s: s for s in secrets})


def plant_target_environment(monkeypatch) -> dict[str, str]:
    """Set every variable the example target reads; secrets get recognisable planted values."""
    data = yaml.safe_load(EXAMPLE_TARGET.read_text(encoding="utf-8"))
    planted = {}
    for dotted in secret_fields(data):
        node = data
        for part in dotted.split("."):
            node = node[part]
        planted[node["env"]] = f"PLANTED-{node['env']}-s3cr3t-9f8e7d"
    placeholders = {"KIEMTHU_PUBLICATION_DATE": "2026-11-20"}
    for name in set(ENV_REF.findall(EXAMPLE_TARGET.read_text(encoding="utf-8"))) - set(planted):
        monkeypatch.setenv(name, placeholders.get(name, "8801"))
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    return planted


def test_no_planted_secret_in_any_file_of_the_run(tmp_path, monkeypatch, history_db):
    planted = plant_target_environment(monkeypatch)
    assert planted, "the example target declares no secrets"
    target = load_target(EXAMPLE_TARGET)
    summary = sample_summary()
    system = target["system"]
    summary["target"] = {"name": system["name"], "base_url": system["base_url"], "agency_code": system["agency_code"],
                         "agency_name": system["agency_name"], "file": str(EXAMPLE_TARGET),
                         "portal_url": target["portal"]["base_url"]}
    run = write_run_dir(tmp_path / "run", summary)
    build(run, today=BUILD_DAY)
    assert (run / "report.pdf").is_file() and (run / "manifest.json").is_file()
    assert leaks(run, list(planted.values())) == []
    assert not any(s.encode() in history_db.read_bytes() for s in planted.values())


def test_a_secret_that_slipped_into_the_summary_is_masked_in_the_reports(tmp_path, monkeypatch):
    secret = "PLANTED-payment-s3cr3t-1a2b3c"
    monkeypatch.setenv("KIEMTHU_PAYMENT_SECRET", secret)
    summary = sample_summary()
    rule = summary["services"][0]["checks"]["payment"]["rules"][0]
    rule["verdict"], rule["actual"] = "failed", {"MaXacThuc": "ab12", "debug": f"checksum input ...|{secret}"}
    summary["services"][0]["checks"]["payment"]["verdict"], summary["services"][0]["completed"] = "failed", False
    summary["services"][2]["notes"] = f"client_secret={secret}; Authorization: Bearer abc.def.ghi"
    run = write_run_dir(tmp_path / "run", summary)
    out = tmp_path / "reports"
    out.mkdir()
    paths = build_documents(load_run(run), out, "vi", today=BUILD_DAY).paths
    assert [p.name for p in paths] == ["report.xlsx", "report.pdf", "report.html"]
    assert leaks(out, [secret, "abc.def.ghi"]) == []
    assert "***" in (out / "report.html").read_text(encoding="utf-8")
