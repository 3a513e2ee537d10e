"""Two shards of the demo catalogue, run and merged by ci/shard-and-merge.sh, against one unsharded run.

The script's steps are the ones the CI templates' jobs call; here they run on one machine. The merged run
directory must hold the same services, the same number of dossier codes and the same verdicts as one run
of the whole catalogue, be signed as one bundle, and say which run each service came from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.crosscheck import run_disagreements
from reports.merge import MergeRefused, Source, ensure_same_target, ensure_services_once
from tests.catalogue.summaries import completion, dossier_code_count, service_ids, summary, verdicts
from tests.conftest import REPO, run_cli

SCRIPT = REPO / "ci" / "shard-and-merge.sh"
TIMEOUT = 600


def script(step: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), step, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=TIMEOUT, env={**os.environ, "COLUMNS": "200", **env})


@pytest.fixture(scope="module")
def runs(tmp_path_factory, signing_key_path):
    """shard 1/2, shard 2/2 and their merge (by the CI script), and one run of the whole demo catalogue."""
    root = tmp_path_factory.mktemp("catalogue")
    env = {"KIEMTHU_SIGNING_KEY": str(signing_key_path), "KIEMTHU_HISTORY_DB": str(root / "history.sqlite"),
           "KIEMTHU_CI_OUT": str(root / "ci")}
    steps = [script("shard", "1", "2", env=env), script("shard", "2", "2", env=env), script("merge", env=env)]
    for done in steps:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    one = run_cli("demo", "--output", str(root / "one"), env=env, timeout=TIMEOUT)
    assert one.returncode == 0, one.stdout[-3000:] + one.stderr[-3000:]
    return {"root": root, "env": env, "shards": [root / "ci" / "shard-1", root / "ci" / "shard-2"],
            "merged": root / "ci" / "merged", "one": root / "one", "merge_output": steps[2].stdout}


def test_two_shards_merged_equal_one_run(runs):
    """Same services, same number of dossier codes, same verdict of every check, same completion."""
    merged, one = summary(runs["merged"]), summary(runs["one"])
    assert service_ids(merged) == service_ids(one)
    assert dossier_code_count(merged) == dossier_code_count(one)
    assert verdicts(merged) == verdicts(one)
    assert completion(merged) == completion(one)
    assert merged["totals"]["services"] == one["totals"]["services"] == 3


def test_each_shard_records_its_share_and_the_shares_are_disjoint(runs):
    """summary.json of a shard says K/N and its services; the two shards share no service."""
    first, second = (summary(d) for d in runs["shards"])
    assert (first["shard"]["index"], first["shard"]["count"]) == (1, 2)
    assert (second["shard"]["index"], second["shard"]["count"]) == (2, 2)
    assert first["shard"]["services"] == [s["id"] for s in first["services"]]
    assert not set(first["shard"]["services"]) & set(second["shard"]["services"])


def test_the_merged_bundle_is_signed_and_each_service_names_its_run(runs):
    """One manifest over everything verifies; every service names the shard run it was tested in."""
    done = run_cli("report", "--verify", str(runs["merged"]), env=runs["env"])
    assert done.returncode == 0, done.stdout
    merged = summary(runs["merged"])
    by_run = {summary(d)["run_id"]: [s["id"] for s in summary(d)["services"]] for d in runs["shards"]}
    assert [m["run_id"] for m in merged["merged_from"]] == list(by_run)
    for service in merged["services"]:
        assert service["id"] in by_run[service["_run_id"]]
        assert (runs["merged"] / service["_run_dir"] / "journal.jsonl").is_file()
    for source in merged["merged_from"]:  # each source stays a bundle that verifies on its own
        assert run_cli("report", "--verify", str(runs["merged"] / source["dir"]), env=runs["env"]).returncode == 0


def test_the_documents_say_which_service_came_from_which_run(runs):
    """HTML, PDF and xlsx each pair every service with its run id."""
    from openpyxl import load_workbook

    merged = summary(runs["merged"])
    html = (runs["merged"] / "report.html").read_text(encoding="utf-8")
    cells = " ".join(str(c.value) for ws in load_workbook(runs["merged"] / "report.xlsx").worksheets
                     for row in ws.iter_rows() for c in row if c.value is not None)
    pdf = subprocess.run(["pdftotext", str(runs["merged"] / "report.pdf"), "-"], capture_output=True,
                         text=True).stdout if shutil.which("pdftotext") else None
    for service in merged["services"]:
        pair = f"{service['TenDVC']} — {service['_run_id']}"
        assert pair in html
        assert f"{service['TenDVC']} ({service['MaDVC']}) — {service['_run_id']}" in cells
        if pdf is not None:
            assert service["_run_id"] in pdf
    for service in merged["services"]:  # and so does the merge's own output
        assert f"{service['id']} ← run {service['_run_id']}" in runs["merge_output"]


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def merge(runs, *dirs: Path, name: str) -> subprocess.CompletedProcess:
    return run_cli("report", "--merge", *map(str, dirs), "--output", str(runs["root"] / name), env=runs["env"])


def test_a_tampered_source_is_refused(runs, tmp_path):
    """An evidence file changed after signing: the merge names the run and the file, and writes nothing."""
    forged = copy_run(runs["shards"][1], tmp_path / "forged")
    rules = next(forged.glob("evidence/*/sso/rules.json"))
    rules.write_text(rules.read_text(encoding="utf-8").replace('"failed"', '"passed"') + " ", encoding="utf-8")
    done = merge(runs, runs["shards"][0], forged, name="tampered")
    assert done.returncode == 2
    assert f"modified: {rules.relative_to(forged).as_posix()}" in done.stdout
    assert str(forged) in done.stdout and "Traceback" not in done.stderr
    assert not (runs["root"] / "tampered").exists()


def test_an_unsigned_source_is_refused(runs, tmp_path):
    unsigned = copy_run(runs["shards"][1], tmp_path / "unsigned")
    (unsigned / "manifest.sig").unlink()
    done = merge(runs, runs["shards"][0], unsigned, name="unsigned")
    assert done.returncode == 2 and "missing: manifest.sig" in done.stdout


def test_runs_of_different_targets_are_refused_naming_the_field_and_both_values(runs, tmp_path):
    """A correctly signed run of another agency is still refused: target.agency_code, both values."""
    other = copy_run(runs["shards"][1], tmp_path / "other-agency")
    data = summary(other)
    ours = data["target"]["agency_code"]
    data["target"]["agency_code"] = "000.00.00.H99"
    (other / "summary.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert run_cli("report", str(other), env=runs["env"]).returncode == 0  # signed again, as that agency's
    done = merge(runs, runs["shards"][0], other, name="other-agency")
    assert done.returncode == 2
    assert "target.agency_code" in done.stdout and f'"{ours}"' in done.stdout and '"000.00.00.H99"' in done.stdout


def test_a_service_in_two_runs_is_refused_naming_both_runs(runs):
    """shard 1/2 and the whole catalogue both tested its services: which verdict to submit is not guessed."""
    done = merge(runs, runs["shards"][0], runs["one"], name="twice")
    assert done.returncode == 2
    first, whole = summary(runs["shards"][0])["run_id"], summary(runs["one"])["run_id"]
    service = summary(runs["shards"][0])["services"][0]["id"]
    assert f"services: {service} is in run" in done.stdout and first in done.stdout and whole in done.stdout


def test_the_crosscheck_reads_each_services_own_journal(runs, tmp_path):
    """A merged service pointed at the other shard's journal no longer agrees with the portal's record."""
    merged = copy_run(runs["merged"], tmp_path / "merged")
    data = summary(merged)
    assert run_disagreements(merged, data) == []
    dirs = [m["dir"] for m in data["merged_from"]]
    service = data["services"][0]
    service["_run_dir"] = next(d for d in dirs if d != service["_run_dir"])
    found = run_disagreements(merged, data)
    assert found and all(d.field.startswith("services[0]") for d in found)


def test_a_profile_or_target_difference_is_named(tmp_path):
    """The fields two runs must share, each named with both values (checked before anything is copied)."""
    base = {"run_id": "20261202-080000-aaaa", "profile": "dvcqg-1.0", "publication_date": "2026-12-02",
            "tester": None, "target": {"name": "Hệ thống A", "agency_code": "000.00.00.G15"}, "services": []}
    other = {**base, "run_id": "20261202-080000-bbbb", "profile": "dvcqg-2.0",
             "target": {"name": "Hệ thống B", "agency_code": "000.00.00.G15"}}
    problems = ensure_same_target([Source(tmp_path, base), Source(tmp_path, other)])
    assert any(p.startswith('profile: run 20261202-080000-aaaa has "dvcqg-1.0", run 20261202-080000-bbbb has '
                            '"dvcqg-2.0"') for p in problems)
    assert any(p.startswith("target.name:") and "Hệ thống B" in p for p in problems)
    assert ensure_same_target([Source(tmp_path, base), Source(tmp_path, dict(base))]) == []


def test_fewer_than_two_runs_is_refused(cli, tmp_path):
    done = cli("report", "--merge", str(tmp_path))
    assert done.returncode == 2 and "at least two run directories" in done.stdout
    with pytest.raises(MergeRefused):
        from reports.merge import read_sources

        read_sources([tmp_path], None)
    assert ensure_services_once([Source(tmp_path, {"run_id": "a", "services": [{"id": "x"}]}),
                                 Source(tmp_path, {"run_id": "b", "services": [{"id": "y"}]})]) == []
