"""A user of the installed package (not the source tree) onboards a system whose target and scenario files live in a
folder of their own: `kiemthu init`, the variables .env.example asks for, `kiemthu run` — and the run passes."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from kiemthu.demo import start_reference_system
from kiemthu.runtime import free_port, make_run_dir
from kiemthu.target import load_target
from tests.onboarding.helpers import fill_env_example
from tests.packaging.test_clean_install import clean_install  # noqa: F401 (the cached clean virtual environment)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def kiemthu(bin_dir, cwd, *args, env=None, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "kiemthu"), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_a_target_with_its_scenarios_beside_it_passes_from_an_installed_package(clean_install, tmp_path, monkeypatch):  # noqa: F811
    """The scenario is read from beside the target (the mock publishes it from there), the run is green."""
    system, portal = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    out = kiemthu(clean_install, tmp_path, "init", "agency/target.yaml", "--non-interactive", "--base-url", system,
                  "--portal-url", portal, "--agency-code", "000.00.00.G15", "--service", "2.001417")
    assert out.returncode == 0, out.stdout + out.stderr
    folder = tmp_path / "agency"
    assert (folder / "lltp-cap-phieu.yaml").is_file() and (folder / "files" / "to-khai.pdf").is_file()
    filled = fill_env_example(folder / ".env.example")
    for name, value in filled.items():
        monkeypatch.setenv(name, value)
    target = load_target(folder / "target.yaml")
    run_dir = make_run_dir(tmp_path / "run")
    with start_reference_system(target, run_dir):
        out = kiemthu(clean_install, folder, "run", "--target", "target.yaml", "--output", str(run_dir), "--no-report")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    [svc] = summary["services"]
    verdicts = {name: check["verdict"] for name, check in svc["checks"].items()}
    assert out.returncode == 0, (verdicts, {k: v.get("reason") for k, v in svc["checks"].items()}, out.stdout[-2000:])
    assert svc["completed"] and set(verdicts.values()) <= {"passed", "passed_with_exceptions"}, verdicts
    assert "Traceback" not in out.stdout + out.stderr
