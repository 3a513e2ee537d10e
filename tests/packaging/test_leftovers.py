"""The session-end check of tests/tempcheck.py fails a test run that leaves a `kiemthu-*` folder in the temp
directory, and passes one that cleans up."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

LEAVES = '''
import tempfile
def test_leaves_a_folder():
    tempfile.mkdtemp(prefix="kiemthu-planted-")
'''
CLEANS = '''
import shutil, tempfile
def test_cleans_up():
    shutil.rmtree(tempfile.mkdtemp(prefix="kiemthu-planted-"))
'''


def run_pytest(tmp_path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_body.py").write_text(body, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.tempcheck", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_body.py")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


def test_a_run_that_leaves_a_kiemthu_folder_fails_and_names_it(tmp_path):
    out = run_pytest(tmp_path, LEAVES)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "left behind" in out.stdout and "kiemthu-planted-" in out.stdout
    assert "1 passed" in out.stdout  # the test itself passed: the session check is what failed the run


def test_a_run_that_cleans_up_passes(tmp_path):
    out = run_pytest(tmp_path, CLEANS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "left behind" not in out.stdout
