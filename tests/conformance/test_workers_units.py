"""The parts that let services run side by side, each on its own: the worker count, the claims and lock shared
by the processes of a run, verdicts handed from a worker to its controller, the scheduler's scope, faults and
armed modes scoped to one dossier, per-service seeded defects, and the generated benchmark catalogue."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
import time
from pathlib import Path

import pytest

from conformance.bookkeeping.shared import RunLock, RunShared
from conformance.runner import worker_count
from conformance.summary import Recorder
from conformance.workers import ServiceScheduling
from examples.ministry.defects import Defects, UnknownDefect
from mocks.controls import AdversarialBoard, FaultBoard, FaultRequest

REPO = Path(__file__).resolve().parents[2]


def test_worker_count_reads_numbers_and_auto():
    """Rule: `--workers` is a number or `auto` (one per core), never more than the services; 0/1 is one process."""
    assert worker_count(None, 3) == 0 and worker_count("1", 3) == 0 and worker_count(0, 3) == 0
    assert worker_count("2", 3) == 2 and worker_count("8", 3) == 3
    assert worker_count("auto", 100) == (os.cpu_count() or 1 if (os.cpu_count() or 1) > 1 else 0)


@pytest.mark.parametrize("bad", ["two", "-1", "1.5"])
def test_worker_count_names_the_option_and_value(bad):
    """Rule: a bad --workers value is refused with the option, the rule and the value."""
    with pytest.raises(ValueError) as exc:
        worker_count(bad, 3)
    assert "--workers" in str(exc.value) and bad.lstrip("-") in str(exc.value)


def _claim(folder: str, owner: str, queue) -> None:
    queue.put(RunShared(Path(folder)).claim("outage", owner))


def test_claim_has_one_owner_across_processes(tmp_path):
    """Rule: a once-per-run case claimed by several processes at once has exactly one owner, and every process
    learns which."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_claim, args=(str(tmp_path), f"svc-{i}", queue)) for i in range(4)]
    for p in procs:
        p.start()
    answers = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert len(set(answers)) == 1 and answers[0].startswith("svc-")
    assert RunShared(tmp_path).claim("outage", "late") == answers[0]


def _hold(path: str, started, hold_s: float) -> None:
    with RunLock(Path(path)):
        started.set()
        time.sleep(hold_s)  # holding the lock is the point here, not waiting for anything


def test_run_lock_excludes_another_process(tmp_path):
    """Rule: while one process holds the run's lock, another waits for it."""
    ctx = multiprocessing.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path / "arming.lock"), started, 1.0))
    proc.start()
    assert started.wait(60)
    t0 = time.monotonic()
    with RunLock(tmp_path / "arming.lock"):
        waited = time.monotonic() - t0
    proc.join(60)
    assert waited > 0.3


def test_published_result_reaches_another_reader(tmp_path):
    """Rule: the result of a once-per-run case is read whole by the other processes; none is None after the wait."""
    shared = RunShared(tmp_path)
    assert shared.result("sso_negatives", 0.2) is None
    shared.publish("sso_negatives", {"id_token_alg_none": {"logged_in": False}})
    assert RunShared(tmp_path).result("sso_negatives", 1) == {"id_token_alg_none": {"logged_in": False}}


def test_a_case_played_elsewhere_is_taken_from_its_first_player(tmp_path):
    """Rule: the first service to reach a once-per-run case plays it (None); a later one gets (first service, its
    result); one whose wait ends with no result plays the case itself (None)."""
    first, later = RunShared(tmp_path), RunShared(tmp_path)
    assert first.played_elsewhere("lower_amount", "svc-a", 0.1) is None
    assert later.played_elsewhere("lower_amount", "svc-b", 0.1) is None  # svc-a has published nothing yet
    first.publish("lower_amount", {"portal_paid": False})
    assert later.played_elsewhere("lower_amount", "svc-c", 1) == ("svc-a", {"portal_paid": False})


def test_recorder_crosses_the_process_boundary():
    """Rule: a worker's verdicts, codes and notes reach the controller as they were recorded."""
    a = Recorder()
    a.record("khai-sinh", "sso", "passed", "ok", [{"rule_id": "r"}], ["evidence/x.png"], 1.5)
    a.add_code("khai-sinh", "000.00.00.G15-261202-0001")
    a.note("khai-sinh", "a note")
    import json

    merged = Recorder()
    merged.merge(json.loads(json.dumps(a.dump())))
    assert merged.checks == a.checks and merged.codes == a.codes and merged.notes == a.notes


def test_scheduler_scope_is_the_service():
    """Rule: every check of a service goes to the same worker (the scope is the service's parameter)."""
    split = ServiceScheduling._split_scope
    assert split(None, "conformance/checks/test_1_sso.py::test_1_sso[khai-sinh]") == "khai-sinh"
    assert split(None, "conformance/checks/test_4_processing.py::test_4_processing[khai-sinh]") == "khai-sinh"
    assert split(None, "conformance/checks/test_2_submission.py::test_2_submission[ket-hon-003]") == "ket-hon-003"


def test_fault_scoped_to_a_dossier_leaves_others_alone():
    """Rule: a fault for one dossier affects only exchanges carrying that dossier's code, and is consumed there."""
    board = FaultBoard()
    board.add("adapter", "http_5xx", 503, count=1, dossier="G15-261202-0002")
    assert board.take("adapter", "/adapter/integration", "CapNhatTienDoHoSoMC", frozenset({"http_5xx"}),
                      ["G15-261202-0001"]) is None
    assert board.take("adapter", "/adapter/auth", "auth", frozenset({"http_5xx"})) is None
    hit = board.take("adapter", "/adapter/integration", "CapNhatTienDoHoSoMC", frozenset({"http_5xx"}),
                     ["G15-261202-0002"])
    assert hit is not None and hit.dossier == "G15-261202-0002" and not board.faults
    # unscoped, as before: the next exchange of the role
    board.add("adapter", "http_5xx", 503, count=1)
    assert board.take("adapter", "/adapter/auth", "auth", frozenset({"http_5xx"})) is not None
    assert FaultRequest(target="adapter", kind="http_5xx", dossier="X").dossier == "X"


def test_armed_mode_scoped_to_a_dossier_waits_for_its_payment():
    """Rule: an IPN mode armed for one dossier is not consumed by another dossier's payment."""
    board = AdversarialBoard()
    board.arm("ipn_bad_checksum", "BTP", dossier="D2")
    assert board.take("ipn", "BTP", "D1") is None
    assert board.take("ipn", "BTP", "D2") == "ipn_bad_checksum" and not board.armed


def test_defect_for_one_service():
    """Rule: `name@service` switches a defect on for that service only; the plain name for every service; an
    unknown name is refused, scoped or not."""
    d = Defects(["fee-mismatch@lltp-cap-phieu", "wrong-kenh-thuc-hien"])
    assert d.on("fee-mismatch", "lltp-cap-phieu") and not d.on("fee-mismatch", "khai-sinh")
    assert not d.on("fee-mismatch")  # a spot that does not know its service stays correct
    assert d.on("wrong-kenh-thuc-hien", "khai-sinh") and d.on("wrong-kenh-thuc-hien")
    for bad in (["no-such-defect@khai-sinh"], ["fee-mismatch@"]):
        with pytest.raises(UnknownDefect):
            Defects(bad)


def _bench_catalogue():
    spec = importlib.util.spec_from_file_location("bench_catalogue_module", REPO / "bench" / "catalogue.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_generated_catalogue_is_published_and_served(tmp_path, monkeypatch):
    """Rule: a generated catalogue of N services has N distinct procedure and service codes; the mock portal
    publishes exactly them (the target's own scenario files) and the reference system's catalogue lists them."""
    import yaml

    from examples.ministry.catalogue import Catalogue
    from kiemthu.target import load_target
    from mocks.catalogue import load_scenarios_fast
    from mocks.settings import MockSettings

    cat = _bench_catalogue().write_catalogue(10, tmp_path)
    scenarios = load_scenarios_fast(tmp_path / "scenarios")  # validated against the scenario schema
    assert sorted(s["id"] for s in scenarios) == sorted(cat.ids) and len(cat.ids) == 10
    assert len({s["MaTTHC"] for s in scenarios}) == len({s["MaDVC"] for s in scenarios}) == 10
    for name, value in {"KIEMTHU_MOCK_PORT": "8800", "KIEMTHU_MINISTRY_PORT": "8801", "KIEMTHU_SSO_CLIENT_SECRET": "s" * 16,
                        "KIEMTHU_PAYMENT_SECRET": "p" * 16, "KIEMTHU_ADAPTER_PASSWORD": "a" * 16,
                        "KIEMTHU_OFFICER_PASSWORD": "o" * 16, "KIEMTHU_PUBLICATION_DATE": "2026-12-01"}.items():
        monkeypatch.setenv(name, value)
    target = load_target(cat.target)
    published = MockSettings.from_target(target).scenario_files
    assert sorted(Path(p).resolve() for p in published) == sorted((tmp_path / "scenarios").resolve().glob("*.yaml"))
    served = Catalogue(cat.services)
    assert [s.id for s in served.services] == cat.ids
    assert {s["MaDVC"] for s in served.services} == {s["MaDVC"] for s in scenarios}
    assert not list(Path(REPO / "scenarios").glob("*-0[0-9][0-9].yaml"))  # nothing generated in the repository
    assert yaml.safe_load(cat.target.read_text(encoding="utf-8"))["services"][0]["scenario"].startswith(str(tmp_path))


def test_demo_refuses_a_bad_worker_count_before_starting(cli):
    """Rule: `kiemthu demo --workers two` names the option and the value, exits 2, starts nothing."""
    out = cli("demo", "--workers", "two", timeout=60)
    text = " ".join((out.stdout + out.stderr).split())
    assert out.returncode == 2 and "--workers" in text and "'two'" in text and "Traceback" not in text
    assert "Reference system" not in text
