"""A new user's install works: `pip install .` alone (no extras) into a fresh virtual environment gives a `kiemthu`
whose mock portal, reference system and doctor start.

The environment is built with `pip install .` once per set of declared dependencies (pyproject.toml's
build-system, dependencies and requires-python) and kept in the user's cache; each run reinstalls the project itself from a clean copy of the sources, so a
changed module is what is tested. Runs that share the cache take turns (a file lock).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from kiemthu.runtime import free_port, wait_until
from tests.conftest import REPO

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kiemthu-tests"
SOURCES_IGNORED = shutil.ignore_patterns(".venv", ".git", ".tools", "reports/out", "out", "build", "dist", "*.egg-info",
                                         "__pycache__", "*.pyc", ".pytest_cache", "test-results")

PARTS = ("kiemthu", "conformance", "mocks", "schemas", "scenarios", "reports", "loadtest", "examples")

pytestmark = pytest.mark.slow


def run(cmd: list, cwd: Path, timeout: float = 900) -> None:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"


@pytest.fixture(scope="module")
def clean_install(tmp_path_factory) -> Path:
    """The bin/ folder of a virtual environment holding only `pip install .` of this source tree."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    deps = [project["build-system"], project["project"]["dependencies"], project["project"]["requires-python"]]
    key = hashlib.sha256(json.dumps(deps).encode()).hexdigest()[:16]
    venv = CACHE / f"venv-{key}"
    work = tmp_path_factory.mktemp("clean-install")
    sources = work / "src"
    shutil.copytree(REPO, sources, ignore=SOURCES_IGNORED)  # builds leave nothing in the worktree
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (venv / "complete").is_file():
                for old in CACHE.glob("venv-*"):
                    shutil.rmtree(old, ignore_errors=True)
                run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv], work)
                run([venv / "bin/pip", "install", "-q", "."], sources)
                (venv / "complete").write_text(key)
            else:  # same dependencies: only the project itself is new
                run([venv / "bin/pip", "install", "-q", "--no-deps", "--force-reinstall", "."], sources)
            run([venv / "bin/pip", "check"], work)
            yield venv / "bin"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start(bin_dir: Path, cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(bin_dir / "kiemthu"), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})


def wait_answering(url: str, proc: subprocess.Popen, timeout: float = 90) -> httpx.Response:
    def answered():
        if proc.poll() is not None:
            return "exited"
        try:
            return httpx.get(url, timeout=2.0, trust_env=False)
        except httpx.HTTPError:
            return None

    reply = wait_until(answered, timeout, what=f"{url} answers")
    assert reply != "exited", f"exited with {proc.returncode}: {proc.stderr.read()[-3000:]}"
    return reply


def test_every_file_of_the_sources_is_installed(clean_install):
    """Data files (schemas, scenarios, templates, fonts) reach the install, not only the Python modules."""
    site = next((clean_install.parent / "lib").glob("python3*/site-packages"))
    tracked = subprocess.run(["git", "ls-files", *PARTS], cwd=REPO, capture_output=True, text=True, check=True)
    missing = [f for f in tracked.stdout.splitlines() if not f.endswith(".md") and not (site / f).exists()]
    assert not missing, missing


def test_mock_and_reference_system_start_from_a_clean_install(clean_install, tmp_path):
    """`kiemthu mock` and `kiemthu ministry` serve from an install without the test extra (outside the sources)."""
    mock_port, ministry_port = free_port(), free_port()
    mock = start(clean_install, tmp_path, "mock", "--port", str(mock_port))
    ministry = start(clean_install, tmp_path, "ministry", "--port", str(ministry_port))
    try:
        jwks = wait_answering(f"http://127.0.0.1:{mock_port}/oauth2/jwks", mock)
        assert jwks.status_code == 200 and jwks.json()["keys"][0]["kty"] == "RSA"
        health = wait_answering(f"http://127.0.0.1:{ministry_port}/health", ministry)
        assert health.status_code == 200
    finally:
        for proc in (mock, ministry):
            proc.send_signal(signal.SIGTERM)
    for proc in (mock, ministry):
        proc.wait(30)
        assert "Traceback" not in proc.stderr.read()


def test_doctor_finds_every_part_importable_in_a_clean_install(clean_install, tmp_path):
    env = {**os.environ, "COLUMNS": "200", "KIEMTHU_ALLURE": str(REPO / ".tools/allure/node_modules/.bin/allure")}
    out = subprocess.run([str(clean_install / "kiemthu"), "doctor"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=env)
    assert "Traceback" not in out.stdout + out.stderr
    line = next(line for line in out.stdout.splitlines() if "Parts import" in line)
    assert line.startswith("OK"), out.stdout
