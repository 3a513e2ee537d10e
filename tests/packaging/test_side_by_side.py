"""Two runs on one machine never share a file or a port: two `kiemthu demo` started at the same moment both pass,
and neither leaves a process or a temporary folder behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.tempcheck import leftovers

KIEMTHU = str(Path(sys.executable).parent / "kiemthu")


@pytest.mark.slow
def test_two_demos_started_at_once_both_pass(tmp_path):
    # a temp folder of their own, to see what they leave; short, as Chromium's socket path must be
    tmp = Path(tempfile.mkdtemp(prefix="kt-"))
    env = {**os.environ, "COLUMNS": "80", "TMPDIR": str(tmp)}
    runs = {name: subprocess.Popen([KIEMTHU, "demo", "-s", "khai-sinh", "-c", "sso", "-o", str(tmp_path / name)],
                                   cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name in ("first", "second")}
    outputs = {name: proc.communicate(timeout=600)[0] for name, proc in runs.items()}
    for name, proc in runs.items():
        assert proc.returncode == 0, f"{name} run:\n{outputs[name][:6000]}"
        assert (tmp_path / name / "summary.json").is_file()
    ports = {line for out in outputs.values() for line in out.splitlines() if line.startswith("Reference system:")}
    assert len(ports) == 2  # each run had its own ports
    assert not leftovers(tmp)
    shutil.rmtree(tmp)
