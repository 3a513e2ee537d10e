"""Rule: "Two shards of 15 merged give the same services, dossier-code count and verdicts as one run of 30."

A generated catalogue of 30 services (bench/catalogue.py: variants of the demo's three, each with codes of its
own) is served by the reference system. `kiemthu run --shard 1/2` and `--shard 2/2` (`--workers 2`) each test
their share into a run directory of their own, `kiemthu report --merge` makes one signed run of the two and
`kiemthu report --verify` accepts it; one more `kiemthu run` tests all 30 at once. The merged run must hold
the same services, the same number of dossier codes, the same verdict of every check and the same completion
per service as the one run of 30.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.catalogue import write_catalogue
from kiemthu.demo import PLAIN_VARS, SECRET_VARS, demo_environment, start_reference_system
from kiemthu.target import load_target
from tests.catalogue.summaries import completion, dossier_code_count, service_ids, summary, verdicts
from tests.conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SERVICES = 30
TIMEOUT = 900  # one `kiemthu run` of the whole catalogue; on 2 shared cores it takes a few minutes
OK = ("passed", "passed_with_exceptions", "warning", "not_applicable")


def output(done: subprocess.CompletedProcess) -> str:
    return done.stdout[-3000:] + done.stderr[-3000:]


def kiemthu_run(target: Path, run_dir: Path, *args: str, env: dict) -> int:
    """`kiemthu run` as a user types it; exit 0 (all passed) or 1 (a service did not pass)."""
    done = run_cli("run", "--target", str(target), "--workers", "2", "--output", str(run_dir), *args, env=env,
                   timeout=TIMEOUT)
    assert done.returncode in (0, 1) and (run_dir / "summary.json").is_file(), output(done)
    return done.returncode


@pytest.fixture(scope="module")
def runs(tmp_path_factory, signing_key_path):
    """shard 1/2, shard 2/2, their merge, and one run of all 30, against one reference system.

    One reference system serves the three runs, one after another. That is safe: each `kiemthu run` starts
    (and stops) its own mock portal on the one portal address the system was started with, so the system
    talks to the portal of the run under way; and the system keeps its database from run to run as a real
    system under test does between CI jobs (its dossier codes stay unique, it logs in to the portal's
    adapter again when the new portal does not know its session, it fetches the new portal's signing keys
    when a token names an unknown key). Starting one per run would only add its start-up to the wall time.
    The runs are not made side by side: on two cores they would only slow each other down.

    The shards build their reports (the merge takes signed runs only); the one run of 30 is compared by its
    summary.json alone, so it skips building reports (`--no-report`), which would add half a minute."""
    root = tmp_path_factory.mktemp("catalogue30")
    catalogue = write_catalogue(SERVICES, root / "catalogue")
    env = {"KIEMTHU_SIGNING_KEY": str(signing_key_path), "KIEMTHU_HISTORY_DB": str(root / "history.sqlite")}
    dirs = {"shard 1/2": root / "shard-1", "shard 2/2": root / "shard-2", "all 30": root / "one"}
    with pytest.MonkeyPatch.context() as mp:
        for name in (*SECRET_VARS, *PLAIN_VARS):
            mp.setenv(name, "")  # what demo_environment() sets is undone when the runs are done
        demo_environment()  # free ports, fresh secrets, today's publication date, for the runs below too
        target = load_target(catalogue.target)
        with start_reference_system(target, root / "ministry", catalogue=catalogue.services, timeout=60):
            exits = {"shard 1/2": kiemthu_run(catalogue.target, dirs["shard 1/2"], "--shard", "1/2", env=env),
                     "shard 2/2": kiemthu_run(catalogue.target, dirs["shard 2/2"], "--shard", "2/2", env=env),
                     "all 30": kiemthu_run(catalogue.target, dirs["all 30"], "--no-report", env=env)}
    merged = root / "merged"
    merge = run_cli("report", "--merge", str(dirs["shard 1/2"]), str(dirs["shard 2/2"]), "--output", str(merged),
                    env=env, timeout=TIMEOUT)
    assert merge.returncode == 0, output(merge)
    return {"catalogue": catalogue, "env": env, "dirs": dirs, "exits": exits, "merged": merged,
            "shards": [dirs["shard 1/2"], dirs["shard 2/2"]], "one": dirs["all 30"]}


def test_each_shard_tests_15_services_and_the_shares_are_disjoint(runs):
    """Shard 1/2 and shard 2/2 each record 15 services; no service is in both; together they are the 30."""
    first, second = (summary(d) for d in runs["shards"])
    for k, data in enumerate((first, second), start=1):
        assert (data["shard"]["index"], data["shard"]["count"]) == (k, 2)
        assert data["shard"]["services"] == [s["id"] for s in data["services"]]
        assert len(data["services"]) == data["totals"]["services"] == 15
    assert not set(service_ids(first)) & set(service_ids(second))
    assert sorted(service_ids(first) + service_ids(second)) == sorted(runs["catalogue"].ids)


def test_the_merged_run_verifies(runs):
    """`kiemthu report --verify` accepts the merged run directory as one signed bundle."""
    done = run_cli("report", "--verify", str(runs["merged"]), env=runs["env"])
    assert done.returncode == 0, output(done)


def test_two_shards_of_15_merged_equal_one_run_of_30(runs):
    """Same services, same number of dossier codes, same verdict of every check, same completion, 30 in all."""
    merged, one = summary(runs["merged"]), summary(runs["one"])
    assert service_ids(one) == sorted(runs["catalogue"].ids)
    assert service_ids(merged) == service_ids(one)
    assert dossier_code_count(merged) == dossier_code_count(one)
    assert verdicts(merged) == verdicts(one)
    assert completion(merged) == completion(one)
    assert merged["totals"]["services"] == one["totals"]["services"] == SERVICES


def test_every_service_of_the_30_passes(runs):
    """Each of the three runs exits 0: every check of every service passed (the reference system has no defect)."""
    for name, run_dir in runs["dirs"].items():
        bad = {f"{s['id']}/{check}": f"{c['verdict']}: {c.get('reason')}" for s in summary(run_dir)["services"]
               for check, c in s["checks"].items() if c["verdict"] not in OK}
        assert runs["exits"][name] == 0 and not bad, (name, bad)
