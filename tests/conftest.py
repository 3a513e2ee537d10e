"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed `kiemthu` command (as a user would) and capture its output."""
    exe = Path(sys.executable).parent / "kiemthu"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


@pytest.fixture
def cli():
    return run_cli
