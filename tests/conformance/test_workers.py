"""Services side by side (`--workers N`): the demo catalogue run by two worker processes against one mock portal
gives the verdicts, summary, junit, Allure results and progress a single process gives; a defect in one service's
flow fails that service only; the outage drill runs once per run, on one dossier, and its neighbours keep syncing."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.journal import data_items
from conformance.runner import run
from kiemthu.demo import DEMO_TARGET, demo_environment, start_reference_system
from kiemthu.runtime import make_run_dir
from kiemthu.target import load_target
from schemas import validator

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICES = ("lltp-cap-phieu", "khai-sinh", "ket-hon")
OK = ("passed", "passed_with_exceptions", "warning", "not_applicable")


def run_with_workers(tmp_path: Path, defects: list[str], workers: int = 2) -> tuple[int, dict, Path]:
    demo_environment()
    target = load_target(DEMO_TARGET)
    run_dir = make_run_dir(tmp_path / "run")
    with start_reference_system(target, run_dir, defects):
        code = run(target=DEMO_TARGET, output=run_dir, services=[], checks=[], headed=False, build_report=False,
                   defects=defects, workers=workers)
    return code, json.loads((run_dir / "summary.json").read_text(encoding="utf-8")), run_dir


def verdicts(summary: dict) -> dict[tuple[str, str], str]:
    return {(s["id"], c): v["verdict"] for s in summary["services"] for c, v in s["checks"].items()}


def rule(summary: dict, service: str, check: str, rule_id: str) -> dict:
    rows = next(s for s in summary["services"] if s["id"] == service)["checks"][check]["rules"]
    return next(r for r in rows if r["rule_id"] == rule_id)


def test_two_workers_give_a_complete_run(tmp_path):
    """Rule: with --workers 2 the demo passes, and summary.json, junit.xml, the Allure results and the progress
    channel hold every service × check, under the one run id, with one dossier per service."""
    code, summary, run_dir = run_with_workers(tmp_path, [])
    assert not list(validator("summary").iter_errors(summary))
    found = verdicts(summary)
    assert code == 0, {k: v for k, v in found.items() if v not in OK}
    assert [s["id"] for s in summary["services"]] == list(SERVICES)
    assert len(found) == 12 and all(v in OK for v in found.values())
    codes = [c for s in summary["services"] for c in s["dossier_codes"]]
    assert len(codes) == len(set(codes)) == 3
    # junit: twelve test cases, the run id as a property
    root = ET.parse(run_dir / "junit.xml").getroot()
    assert len(root.findall(".//testcase")) == 12
    assert {p.get("value") for p in root.iter("property") if p.get("name") == "run_id"} == {summary["run_id"]}
    # Allure: one result per service × check; the environment written once for the run
    results = [json.loads(p.read_text(encoding="utf-8")) for p in (run_dir / "allure-results").glob("*-result.json")]
    assert len(results) == 12
    assert f"Ma_lan_chay={summary['run_id']}" in (run_dir / "allure-results" / "environment.properties").read_text("utf-8")
    # progress: every check ended with the verdict the summary holds
    events = [json.loads(line) for line in (run_dir / "progress.jsonl").read_text(encoding="utf-8").splitlines()]
    ended = {(e["service"], e["check"]): e["verdict"] for e in events if e["event"] == "check" and e["state"] == "end"}
    assert ended == found
    # the journal of the whole run, exported once by the controller
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {c for e in journal for c in e.get("dossier_codes") or []} >= set(codes)
    # services side by side log in as different citizens
    subjects = {item.get("MaHoSo"): item.get("MaDoiTuong") for e in journal if e.get("service") == "DongBoHoSoMC"
                for item in data_items(e) if item.get("MaHoSo") in codes}
    assert len(set(subjects.values())) == 3, subjects
    # the outage drill ran once in the run, on one service; the others say where it ran
    drilled = [s for s in SERVICES if "once per run" not in str(rule(summary, s, "processing",
                                                                   "ensure_updates_survive_outage"))]
    assert len(drilled) == 1, [rule(summary, s, "processing", "ensure_updates_survive_outage") for s in SERVICES]
    assert not (run_dir / "evidence" / "tmp").exists()


def test_defect_of_one_service_flags_that_service_only(tmp_path):
    """Rule: a seeded defect switched on for khai-sinh only (wrong KenhThucHien in its synced dossier) fails
    khai-sinh's submission check, naming the rule; every check of the services running beside it passes."""
    code, summary, _ = run_with_workers(tmp_path, ["wrong-kenh-thuc-hien@khai-sinh"])
    found = verdicts(summary)
    assert code == 1
    assert found[("khai-sinh", "submission")] == "failed"
    assert rule(summary, "khai-sinh", "submission", "ensure_synced_channel_online")["verdict"] == "failed"
    assert {k: v for k, v in found.items() if v not in OK} == {("khai-sinh", "submission"): "failed"}


def test_outage_drill_keeps_its_neighbours_syncing(tmp_path):
    """Rule: the outage drill takes the portal's adapter down for one dossier only. With a system that loses the
    update refused during the outage (outbox-no-retry), the drilled service fails its processing check and every
    service running beside it passes all its checks."""
    code, summary, _ = run_with_workers(tmp_path, ["outbox-no-retry"])
    found = verdicts(summary)
    assert code == 1
    failed = {k: v for k, v in found.items() if v not in OK}
    assert len(failed) == 1, failed
    (service, check), _ = next(iter(failed.items()))
    assert check == "processing"
    assert rule(summary, service, "processing", "ensure_updates_survive_outage")["verdict"] == "failed"
    for other in set(SERVICES) - {service}:
        assert "once per run" in str(rule(summary, other, "processing", "ensure_updates_survive_outage"))
