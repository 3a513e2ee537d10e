"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tempcheck import pytest_configure, pytest_sessionfinish, pytest_unconfigure  # noqa: F401

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed `kiemthu` command (as a user would) and capture its output."""
    exe = Path(sys.executable).parent / "kiemthu"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def signing_key_path(tmp_path_factory) -> Path:
    """One bundle-signing key for the whole test session, in a temporary folder."""
    return tmp_path_factory.mktemp("signing") / "signing-key.pem"


@pytest.fixture(autouse=True)
def signing_key(signing_key_path, monkeypatch) -> Path:
    """Reports built by tests (and the commands they start) sign with the session's key, never the user's."""
    monkeypatch.setenv("KIEMTHU_SIGNING_KEY", str(signing_key_path))
    return signing_key_path


@pytest.fixture
def demo_env():
    """Fresh loopback ports and random secrets for the demo target's placeholders; the environment is restored."""
    from kiemthu.demo import demo_environment

    saved = dict(os.environ)
    try:
        yield demo_environment()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, launched once per test module."""
    from playwright.sync_api import sync_playwright

    from kiemthu.runtime import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
