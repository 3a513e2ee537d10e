"""The plugin is inert without --target, and its options and configuration errors are readable."""

from __future__ import annotations

import subprocess
import sys

from kiemthu.runtime import REPO_ROOT


def pytest_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=120)


def test_without_target_the_checks_are_skipped_and_nothing_starts():
    out = pytest_run("conformance", "-q")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 skipped" in out.stdout


def test_options_are_listed():
    out = pytest_run("--help")
    for opt in ("--target", "--run-dir", "--kt-service", "--kt-check", "--kt-defects", "--kt-headed"):
        assert opt in out.stdout


def test_unknown_check_is_a_usage_error(tmp_path):
    out = pytest_run("conformance", "--target", str(REPO_ROOT / "examples" / "ministry" / "target.yaml"),
                     "--kt-check", "billing")
    assert out.returncode == 4 and ("billing" in out.stderr or "billing" in out.stdout)


def test_no_fixture_is_autouse():
    import conformance.plugin as plugin

    for name in ("kt_suite", "kt_run", "kt_check"):
        marker = getattr(getattr(plugin, name), "_fixture_function_marker", None) or getattr(getattr(plugin, name), "_pytestfixturefunction", None)
        if marker is not None:
            assert not marker.autouse
