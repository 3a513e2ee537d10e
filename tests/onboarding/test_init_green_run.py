"""`kiemthu init --non-interactive` for the reference system, then only what the generated comments ask for (the
secret variables of .env.example), gives a green `kiemthu run`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kiemthu.demo import start_reference_system
from kiemthu.runtime import free_port, make_run_dir
from kiemthu.scaffold import today
from kiemthu.target import load_target
from tests.conftest import run_cli
from tests.onboarding.helpers import fill_env_example

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICE_CODE, SERVICE = "2.001417", "lltp-cap-phieu"  # toàn trình with a fee: all four checks


RECORDING = Path(__file__).parent / "data" / "recorded-submit.py"


@pytest.mark.parametrize("recorded", [False, True], ids=["scaffold", "recorded-submission"])
def test_init_then_the_env_variables_only_gives_a_green_run(tmp_path, monkeypatch, recorded):
    """The scaffold's target, scenario and adapter (its submit flow as written, or converted from a codegen
    recording of the reference system's form) run unedited against the reference system: every check passes."""
    system, portal = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    target_file = tmp_path / "project" / "target.yaml"
    extra: list[str] = []
    if recorded:  # recorded on the reference system at the address it has in this test
        recording = tmp_path / "recorded-submit.py"
        recording.write_text(RECORDING.read_text(encoding="utf-8").replace("http://127.0.0.1:8601", system),
                             encoding="utf-8")
        extra = ["--from-recording", str(recording)]
    out = run_cli("init", str(target_file), "--non-interactive", "--base-url", system, "--portal-url", portal,
                  "--agency-code", "000.00.00.G15", "--agency-name", "Bộ Tư pháp", "--service", SERVICE_CODE, *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    filled = fill_env_example(target_file.parent / ".env.example")
    for name, value in filled.items():
        monkeypatch.setenv(name, value)
    target = load_target(target_file)  # every variable the target needs was asked for
    run_dir = make_run_dir(tmp_path / "run")
    with start_reference_system(target, run_dir):  # `kiemthu run` does not start the system under test
        out = run_cli("run", "--target", str(target_file), "--output", str(run_dir), "--no-report",
                      env={**os.environ, **filled}, timeout=900)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    svc = summary["services"][0]
    verdicts = {name: check["verdict"] for name, check in svc["checks"].items()}
    assert out.returncode == 0, (verdicts, {k: v.get("reason") for k, v in svc["checks"].items()}, out.stdout[-3000:])
    assert svc["id"] == SERVICE and svc["completed"]
    assert set(verdicts) == {"sso", "submission", "payment", "processing"}
    assert set(verdicts.values()) <= {"passed", "passed_with_exceptions"}, verdicts
    # no fixed date: the services count as published today, so the report's deadline is live, not overdue
    assert summary["publication_date"] == today()
