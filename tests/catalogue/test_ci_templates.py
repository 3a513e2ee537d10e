"""The CI templates run the steps of ci/shard-and-merge.sh (which test_shard_and_merge.py runs), no other.

So the templates are not untested text: every command their jobs run is a step of the script, the matrix
has as many jobs as the shard count they pass, the shards' run directories are kept where the merge job
looks for them, and the merged folder is published.
"""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from tests.conftest import REPO

CI = REPO / "ci"
SCRIPT = "ci/shard-and-merge.sh"


def load(name: str) -> dict:
    return yaml.safe_load((CI / name).read_text(encoding="utf-8"))


def script_steps() -> set[str]:
    """The steps the script's `case` accepts."""
    text = (CI / "shard-and-merge.sh").read_text(encoding="utf-8")
    return set(re.findall(r"^\s+([a-z]+)\) step_", text, flags=re.MULTILINE))


def commands(lines: list[str]) -> list[list[str]]:
    """Shell command lines, comments dropped, each split as the shell would."""
    out = []
    for block in lines:
        for line in str(block).splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                out.append(shlex.split(line))
    return out


def script_calls(cmds: list[list[str]]) -> list[list[str]]:
    return [c[2:] for c in cmds if c[:2] == ["bash", SCRIPT]]


def github_job_commands(job: dict) -> list[list[str]]:
    return commands([s["run"] for s in job["steps"] if "run" in s])


def gitlab_job_commands(doc: dict, job: dict) -> list[list[str]]:
    before = job.get("before_script") or []
    return commands(list(before) + list(job.get("script") or []))


def test_the_script_offers_the_steps_the_templates_call():
    assert {"setup", "shard", "merge", "all"} <= script_steps()


def test_github_jobs_set_up_run_their_shard_and_merge_with_the_script():
    doc = load("github-actions.yml")
    shards = int(doc["env"]["SHARDS"])
    shard_job, merge_job = doc["jobs"]["shard"], doc["jobs"]["merge"]
    assert shard_job["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
    assert script_calls(github_job_commands(shard_job)) == [["setup"], ["shard", "${{", "matrix.shard", "}}", "$SHARDS"]]
    assert script_calls(github_job_commands(merge_job)) == [["setup"], ["merge"]]
    assert merge_job["needs"] == "shard"
    out = doc["env"]["KIEMTHU_CI_OUT"]
    uploads = [s["with"] for s in shard_job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["path"] == "${{ env.KIEMTHU_CI_OUT }}/shard-${{ matrix.shard }}"
    assert uploads[0]["name"] == "shard-${{ matrix.shard }}"  # downloaded as $KIEMTHU_CI_OUT/shard-K
    downloads = [s["with"] for s in merge_job["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact")]
    assert downloads == [{"pattern": "shard-*", "path": "${{ env.KIEMTHU_CI_OUT }}"}]
    published = [s["with"]["path"] for s in merge_job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert published == ["${{ env.KIEMTHU_CI_OUT }}/merged"] and out == "reports/out/ci"


def test_gitlab_jobs_set_up_run_their_shard_and_merge_with_the_script():
    doc = load("gitlab-ci.yml")
    shards = int(doc["variables"]["SHARDS"])
    shard_job, merge_job = doc["kiemthu-shard"], doc["kiemthu-merge"]
    assert shard_job["parallel"]["matrix"] == [{"SHARD": [str(k) for k in range(1, shards + 1)]}]
    assert script_calls(gitlab_job_commands(doc, shard_job)) == [["setup"], ["shard", "$SHARD", "$SHARDS"]]
    assert script_calls(gitlab_job_commands(doc, merge_job)) == [["setup"], ["merge"]]
    assert merge_job["needs"] == [{"job": "kiemthu-shard", "artifacts": True}]
    assert shard_job["artifacts"]["paths"] == ["reports/out/ci/shard-$SHARD"] and shard_job["artifacts"]["when"] == "always"
    assert merge_job["artifacts"]["paths"] == ["reports/out/ci/merged"]
    assert doc["variables"]["KIEMTHU_CI_OUT"] == "reports/out/ci"


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_no_template_runs_kiemthu_behind_the_scripts_back(name):
    """A kiemthu command in a template would be one the local rehearsal never ran."""
    text = (CI / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert not [line for line in lines if re.search(r"\bkiemthu (run|demo|report|submit)\b", line)]


def test_the_setup_step_is_the_readmes():
    text = (CI / "shard-and-merge.sh").read_text(encoding="utf-8")
    assert "bash scripts/quickstart setup" in text
    assert "bash scripts/quickstart" in (REPO / "README.md").read_text(encoding="utf-8")
