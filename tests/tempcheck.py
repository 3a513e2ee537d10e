"""Nothing left behind: the test session gets a temp directory of its own (TMPDIR, inherited by every process it
starts), and fails if a `kiemthu-*` folder is still there when it ends. Loaded by tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_private: Path | None = None


def pytest_configure(config) -> None:
    global _private
    # a folder of this session alone, so other runs on the machine can neither hide nor add leftovers
    _private = Path(tempfile.mkdtemp(prefix="kt-session-"))
    os.environ["TMPDIR"] = str(_private)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


def leftovers(folder: Path) -> list[Path]:
    """`kiemthu-*` folders still there; the per-user control folder counts only if a run left a token in it."""
    return sorted(p for p in folder.glob("kiemthu-*")
                  if not (p.name.startswith("kiemthu-control-") and p.is_dir() and not any(p.iterdir())))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    if _private is None:
        return
    from kiemthu.runtime import stop_all

    stop_all()  # what this process would delete at its exit, deleted now
    left = leftovers(_private)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "temporary folders left behind by the tests (each run must delete what it creates): " + ", ".join(
            p.name for p in left)
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config) -> None:
    if _private is not None:
        shutil.rmtree(_private, ignore_errors=True)
