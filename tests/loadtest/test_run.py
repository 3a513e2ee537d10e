"""Short, bounded load tests on loopback: the gate, the reconciliation (also failing on a seeded defect during a
portal outage) and one Locust master with one worker. Each run lasts a few seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.run import run_load

pytestmark = pytest.mark.slow

JOURNEYS = {
    "users": 6, "spawn_rate": 6, "stop_timeout_s": 10,
    "journeys": {"citizen": {"weight": 3, "think_time": {"min_s": 0.1, "max_s": 0.5}},
                 "officer": {"weight": 1, "think_time": {"min_s": 0.1, "max_s": 0.5}}},
    "gate": {"p95_ms": {"sso: callback": 5000, "submit: step 2": 5000, "Aggregated": 5000},
             "max_error_rate": 0.01, "reconciliation": True},
}
OUTAGE = [{"at_s": 1.5, "target": "adapter", "kind": "http_5xx", "value": 503, "duration_s": 3}]


def summary_of(run_dir: Path) -> dict:
    """summary.json of a run, checked against schemas/load-summary.schema.json (what reports/ reads)."""
    from schemas import validator

    summary = json.loads((run_dir / "load" / "summary.json").read_text(encoding="utf-8"))
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator("load-summary").iter_errors(summary)]
    assert not problems, problems
    return summary


def kiemthu() -> str:
    return str(Path(sys.executable).parent / "kiemthu")


def test_portal_traffic_gate_names_the_failed_threshold(demo_env, make_target, tmp_path, cli):
    target = make_target({
        "users": 4, "spawn_rate": 4, "duration": "3s",
        "journeys": {"citizen": {"weight": 0}, "officer": {"weight": 0}, "portal": {"weight": 1}},
        "gate": {"max_error_rate": 0.0, "min_rps": 1_000_000, "p95_ms": {"portal: TraCuuHoSo": 5000}},
    })
    out = tmp_path / "run"
    res = cli("load", "--target", str(target), "--output", str(out), timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "GATE FAILED" in res.stdout and "min_rps" in res.stdout.splitlines()[-1]
    s = summary_of(out)
    assert s["gate"]["failed"] == ["min_rps"]
    assert {"portal: auth", "portal: DongBoHoSoMC", "portal: TraCuuHoSo", "portal: LayDanhSachTTHC"} <= set(s["steps"])
    assert s["throughput"]["requests"] > 50 and s["throughput"]["failures"] == 0
    assert s["mock"]["process"]["samples"] >= 1 and "adapter" in s["mock"]["journal_by_role"]
    for name in ("locust.html", "locust_stats.csv", "locust_failures.csv", "summary.md"):
        assert (out / "load" / name).is_file(), name
    assert "Kết luận cổng go-live" in (out / "load" / "summary.md").read_text(encoding="utf-8")


def test_journeys_reconcile_after_a_portal_outage(demo_env, make_target, reference_system, tmp_path):
    """A correct system retries through a 3 s adapter outage: nothing lost, the gate passes."""
    target = make_target({**JOURNEYS, "duration": "7s", "faults": OUTAGE})
    reference_system(target)
    out = tmp_path / "run"
    assert run_load(target, output=out) == 0
    s = summary_of(out)
    r = s["reconciliation"]
    assert (r["lost"], r["duplicated"], r["inconsistent"]) == (0, 0, 0), r["findings"]
    assert r["checked_dossiers"] >= 5 and r["checked_payments"] >= 1
    assert s["run"]["faults"][0]["ok"] is True
    assert s["outbox"]["drained"] is True
    assert {"sso: callback", "submit: step 2", "pay: confirm", "officer: action"} <= set(s["steps"])
    assert s["journeys"]["citizen_completed"] >= 5
    assert s["journeys"]["citizen_interrupted"] == 0  # the run ends after journeys under way finish
    records = [json.loads(x) for x in (out / "load" / "records.jsonl").read_text().splitlines()]
    assert any(x["type"] == "status" for x in records)  # officers moved dossiers on


def test_outbox_without_retry_loses_updates_and_fails(demo_env, make_target, reference_system, tmp_path):
    """The seeded defect drops syncs that fail during the outage: reconciliation counts them as lost."""
    target = make_target({**JOURNEYS, "duration": "7s", "faults": OUTAGE})
    reference_system(target, ["outbox-no-retry"])
    out = tmp_path / "run"
    assert run_load(target, output=out) == 1
    s = summary_of(out)
    assert "reconciliation" in s["gate"]["failed"]
    assert s["reconciliation"]["lost"] >= 1
    assert s["outbox"]["counts"].get("failed", 0) >= 1


def test_one_master_and_one_worker(demo_env, make_target, reference_system, tmp_path):
    from kiemthu.runtime import free_port

    target = make_target({**JOURNEYS, "duration": "5s"})
    reference_system(target)
    port = free_port()
    worker = subprocess.Popen(
        [kiemthu(), "load", "--target", str(target), "--worker", "--master-host", "127.0.0.1",
         "--output", str(tmp_path / "worker"), "--master-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        rc = run_load(target, output=tmp_path / "master", master=True, expect_workers=1,
                      extra=["--master-bind-port", str(port)])
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert rc == 0
    s = summary_of(tmp_path / "master")
    assert s["run"]["mode"] == "master" and s["run"]["workers"] == 1
    # the worker's records reached the master over Locust's reports: its submissions were reconciled
    assert s["reconciliation"]["checked_dossiers"] >= 3
    assert (s["reconciliation"]["lost"], s["reconciliation"]["inconsistent"]) == (0, 0)
    assert s["throughput"]["requests"] > 20


def test_invalid_load_section_is_refused_with_the_field(demo_env, make_target, cli, tmp_path):
    target = make_target({"users": 0, "gate": {"p99": {}}})
    res = cli("load", "--target", str(target), "--output", str(tmp_path / "run"), timeout=60)
    assert res.returncode == 2
    assert "load.users" in res.stdout and "'p99'" in res.stdout
