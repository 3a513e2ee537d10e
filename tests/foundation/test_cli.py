"""The command line works for a new user: help, doctor, init."""

from __future__ import annotations

import yaml

from kiemthu.target import validate_target

COMMANDS = ["demo", "mock", "ministry", "run", "report", "history", "load", "init", "doctor"]


def test_help_lists_every_command(cli):
    out = cli("--help")
    assert out.returncode == 0, out.stderr
    for name in COMMANDS:
        assert name in out.stdout


def test_each_command_has_plain_help(cli):
    for name in COMMANDS:
        out = cli(name, "--help")
        assert out.returncode == 0, (name, out.stderr)
        assert "Traceback" not in out.stdout + out.stderr
        assert "Usage" in out.stdout


def test_doctor_runs_and_checks_chromium(cli):
    out = cli("doctor")
    assert "Chromium" in out.stdout and "Python" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_doctor_reports_missing_chromium_with_the_fix(cli, tmp_path):
    out = cli("doctor", env={"KIEMTHU_CHROMIUM": str(tmp_path / "no-chromium")})
    assert out.returncode == 1
    line = next(l for l in out.stdout.splitlines() if "Chromium" in l)
    assert "FIX" in line and "not found" in line
    assert "apt-get install -y chromium" in out.stdout.replace("\n", " ")
    assert "KIEMTHU_CHROMIUM" in out.stdout


def test_init_writes_a_template_that_validates(cli, tmp_path):
    path = tmp_path / "target.yaml"
    flags = ("--non-interactive", "--base-url", "https://motcua.example.gov.vn", "--agency-code", "000.00.00.G15",
             "--service", "2.001417")
    out = cli("init", str(path), *flags)
    assert out.returncode == 0, out.stderr
    assert validate_target(yaml.safe_load(path.read_text(encoding="utf-8"))) == []
    again = cli("init", str(path), *flags)
    assert again.returncode == 2 and "already exists" in again.stdout + again.stderr


def test_run_with_an_invalid_target_names_the_problem_without_traceback(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsystem: {name: x, base_url: 'not a url', agency_code: G15}\n", encoding="utf-8")
    out = cli("run", "--target", str(bad))
    text = out.stdout + out.stderr
    assert out.returncode == 2
    assert "Traceback" not in text
    assert "system.base_url" in text and "system.agency_code" in text and "portal" in text
