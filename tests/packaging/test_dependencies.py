"""Every import is declared in pyproject.toml (checked by deptry): the shipped packages' imports in
`dependencies` (none of them unused), the project's own tests' imports in the `test` extra."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DEPTRY = str(Path(sys.executable).parent / "deptry")
# what deptry skips by default, minus tests/: for the second pass over the tests' own imports
WITH_TESTS = ["--exclude", r"\.venv", "--exclude", "venv", "--exclude", r"\.git", "--exclude", "reports/out",
              "--exclude", r"\.tools"]


def deptry(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DEPTRY, ".", "--no-ansi", *args], capture_output=True, text=True, timeout=300,
                          cwd=root)


def test_shipped_packages_declare_every_import_and_nothing_unused():
    out = deptry(REPO)
    assert out.returncode == 0, out.stdout + out.stderr


def test_tests_declare_every_import_in_the_test_extra():
    out = deptry(REPO, *WITH_TESTS, "--ignore", "DEP002,DEP004")
    assert out.returncode == 0, out.stdout + out.stderr


def planted_project(tmp_path: Path, drop: str, module_text: str) -> Path:
    """A copy of pyproject.toml without one dependency, and one shipped module."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(rf'^  "{re.escape(drop)}[^"]*",\n', "", text, count=1, flags=re.M)
    assert drop not in text.split("[project.optional-dependencies]")[0]
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    (tmp_path / "mocks").mkdir()
    (tmp_path / "mocks" / "__init__.py").write_text(module_text, encoding="utf-8")
    return tmp_path


def test_an_undeclared_import_fails_the_check(tmp_path):
    """The defect this check exists for: `jsonschema_rs` imported, but only present through the test extra."""
    root = planted_project(tmp_path, "jsonschema-rs", "import jsonschema_rs\n")
    out = deptry(root)
    assert out.returncode != 0
    assert re.search(r"DEP00[13] 'jsonschema_rs'", out.stderr), out.stderr


def test_a_declared_but_unused_dependency_fails_the_check(tmp_path):
    root = planted_project(tmp_path, "jsonschema-rs", "import yaml\n")
    out = deptry(root)
    assert out.returncode != 0
    assert "DEP002 'openpyxl'" in out.stderr, out.stderr
