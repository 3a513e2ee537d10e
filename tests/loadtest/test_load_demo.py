"""`kiemthu load --demo` load-tests the reference system without any variable to set; `kiemthu load --target`
with unset variables lists them all, each with what it is for."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from kiemthu.demo import DEMO_TARGET, PLAIN_VARS, SECRET_VARS
from kiemthu.runtime import port_listened


def test_load_demo_starts_the_reference_system_and_the_mock_and_runs_the_journeys(cli, tmp_path, monkeypatch):
    """No variable set by the user: the demo generates them, journeys complete and reconcile, nothing stays up."""
    for name in (*SECRET_VARS, *PLAIN_VARS):
        monkeypatch.delenv(name, raising=False)
    out = cli("load", "--demo", "--duration", "5s", "--users", "2", "--spawn-rate", "2", "-o", str(tmp_path / "run"),
              timeout=300)
    assert out.returncode in (0, 1), out.stdout + out.stderr  # 1 would be the gate's verdict, not a broken run
    assert "Traceback" not in out.stdout + out.stderr
    summary = json.loads((tmp_path / "run" / "load" / "summary.json").read_text(encoding="utf-8"))
    assert summary["throughput"]["requests"] > 0
    assert summary["journeys"]["citizen_completed"] > 0
    assert summary["reconciliation"]["checked_dossiers"] > 0
    assert summary["run"]["duration_s"] == 5
    # both servers ended with the command: nothing listens on their ports any more
    urls = summary["target"]["base_url"], summary["target"]["portal_url"]
    assert not any(port_listened(urlparse(u).port) for u in urls)


def test_load_demo_and_target_exclude_each_other(cli):
    out = cli("load", "--demo", "--target", str(DEMO_TARGET))
    assert out.returncode == 2 and "--target FILE or --demo" in out.stdout + out.stderr


def test_load_with_unset_variables_lists_each_with_its_purpose(cli, monkeypatch):
    """The reference target without its variables: all 7 named once, each with what it is for, and the command
    that sets them; no Python function to call."""
    for name in (*SECRET_VARS, *PLAIN_VARS):
        monkeypatch.delenv(name, raising=False)
    out = cli("load", "--target", str(DEMO_TARGET))
    text = out.stdout + out.stderr
    assert out.returncode == 2 and "Traceback" not in text
    assert "set these 7 environment variable(s)" in text
    for name in (*SECRET_VARS, *PLAIN_VARS):
        lines = [line for line in text.splitlines() if line.strip().startswith(f"{name}:")]
        assert len(lines) == 1, (name, text)
    assert "the signing key of payment partner 'BTP'" in text
    assert "KIEMTHU_MINISTRY_PORT: giá trị thay cho" in text and "system.base_url" in text
    assert "`kiemthu load --demo` sets every one of these" in text
    assert "demo_environment" not in text
