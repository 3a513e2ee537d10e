"""`kiemthu init`: what it writes is complete and runnable, asked in Vietnamese or given as flags, and a wrong
answer is named by field, rule and value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from kiemthu.scaffold import ENV_FILE, PORTAL_SETTINGS_FILE, today
from kiemthu.target import secret_fields, validate_target
from scenarios import load_scenario
from tests.conftest import REPO, run_cli
from tests.onboarding.helpers import asked_variables

FLAGS = ("--non-interactive", "--base-url", "https://motcua.bo.gov.vn", "--agency-code", "000.00.00.G15",
         "--agency-name", "Bộ Tư pháp")


def read_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def secret_variables(target: dict) -> set[str]:
    out = set()
    for dotted in secret_fields(target):
        node = target
        for part in dotted.split("."):
            node = node[part]
        out.add(node["env"])
    return out


def test_non_interactive_init_writes_target_scenarios_env_and_portal_settings(tmp_path):
    """One command (CI) writes a valid target, a scenario per service beside it, every secret variable in
    .env.example, and the values the agency enters in its own system."""
    path = tmp_path / "target.yaml"
    out = run_cli("init", str(path), *FLAGS, "--service", "2.001417", "--service", "1.001193",
                  "--client-id", "btp-motcua", "--payment-partner", "BTP", "--adapter-user", "btp")
    assert out.returncode == 0, out.stdout + out.stderr
    target = read_yaml(path)
    assert validate_target(target) == []
    assert [s["scenario"] for s in target["services"]] == ["lltp-cap-phieu.yaml", "khai-sinh.yaml"]
    for s in target["services"]:  # beside the target, with the sample files they upload
        scenario = load_scenario(tmp_path / s["scenario"])
        for doc in scenario["documents"]:
            assert (tmp_path / doc["sample_file"]).is_file(), doc
    assert set(asked_variables(tmp_path / ENV_FILE)) == secret_variables(target) == {
        "KIEMTHU_SSO_CLIENT_SECRET", "KIEMTHU_PAYMENT_SECRET", "KIEMTHU_ADAPTER_PASSWORD", "KIEMTHU_OFFICER_PASSWORD"}
    settings = (tmp_path / PORTAL_SETTINGS_FILE).read_text(encoding="utf-8")
    for value in ("btp-motcua", "https://motcua.bo.gov.vn/sso/callback", "https://motcua.bo.gov.vn/thanh-toan/ipn",
                  "http://127.0.0.1:8800/oauth2/token", "BTP", "`btp`", "000.00.00.G15"):
        assert value in settings, value
    # every flow of the reference adapter is there, each with a comment saying where it begins
    text = path.read_text(encoding="utf-8")
    for flow in ("citizen_login", "open_service", "submit", "pay", "logout", "officer_login", "officer_process"):
        assert flow in target["adapter"]["flows"] and f"# {flow} — begins" in text, flow


def test_init_takes_today_as_publication_date_and_the_officer_steps_as_automated(tmp_path):
    """No fixed publication date (the report would say overdue) and no silent 900 s wait for a person."""
    path = tmp_path / "target.yaml"
    assert run_cli("init", str(path), *FLAGS, "--service", "2.001417").returncode == 0
    target = read_yaml(path)
    assert target["report"]["publication_date"] == today()
    assert target["officer"]["mode"] == "automated" and target["officer"]["username"]


def test_manual_officer_mode_is_said_loudly(tmp_path):
    path = tmp_path / "target.yaml"
    out = run_cli("init", str(path), *FLAGS, "--service", "2.001417", "--officer-mode", "manual",
                  "--publication-date", "2026-11-20")
    assert out.returncode == 0, out.stderr
    assert "officer.mode manual" in out.stdout and "waits" in out.stdout
    target = read_yaml(path)
    assert target["officer"]["mode"] == "manual" and target["report"]["publication_date"] == "2026-11-20"
    assert "KIEMTHU_OFFICER_PASSWORD" not in asked_variables(tmp_path / ENV_FILE)
    assert "CHÚ Ý: manual" in path.read_text(encoding="utf-8")


def test_an_unknown_procedure_gets_a_valid_stub_marking_what_to_copy(tmp_path):
    """A procedure the harness does not ship: a scenario that validates, each value to copy marked TODO."""
    path = tmp_path / "target.yaml"
    assert run_cli("init", str(path), *FLAGS, "--service", "1.008472").returncode == 0
    stub = tmp_path / "tthc-1-008472.yaml"
    scenario = load_scenario(stub)
    assert scenario["MaTTHC"] == "1.008472" and scenario["agency_code"] == "000.00.00.G15"
    assert "TODO" in stub.read_text(encoding="utf-8")
    assert (tmp_path / scenario["documents"][0]["sample_file"]).is_file()


def test_bad_flags_are_named_with_rule_and_value(tmp_path):
    path = tmp_path / "target.yaml"
    cases = [
        (("--non-interactive", "--agency-code", "000.00.00.G15", "--service", "2.001417"), "--base-url"),
        ((*FLAGS[:3], "--agency-code", "G15", "--service", "2.001417"), "'G15'"),
        ((*FLAGS, "--service", "2001417"), "'2001417'"),
        ((*FLAGS, "--service", "2.001417", "--publication-date", "20/11/2026"), "'20/11/2026'"),
        ((*FLAGS, "--service", "2.001417", "--officer-mode", "robot"), "'robot'"),
    ]
    for args, named in cases:
        out = run_cli("init", str(path), *args)
        text = out.stdout + out.stderr
        assert out.returncode == 2 and named in text and "rule" in text and "Traceback" not in text, (args, text)
        assert not path.exists()


def test_init_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "target.yaml"
    assert run_cli("init", str(path), *FLAGS, "--service", "2.001417").returncode == 0
    again = run_cli("init", str(path), *FLAGS, "--service", "2.001417")
    assert again.returncode == 2 and "already exists" in again.stdout + again.stderr
    assert run_cli("init", str(path), *FLAGS, "--service", "2.001417", "--force").returncode == 0


def run_interactive(tmp_path: Path, answers: list[str]) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "kiemthu"
    return subprocess.run([str(exe), "init", str(tmp_path / "target.yaml")], input="\n".join(answers) + "\n",
                          capture_output=True, text=True, timeout=120, cwd=REPO, env={**os.environ, "COLUMNS": "200"})


def test_interactive_init_asks_in_vietnamese_and_asks_again_after_a_wrong_answer(tmp_path):
    """Questions with defaults: Enter keeps a default, a wrong agency code is refused and asked again."""
    answers = [
        "http://127.0.0.1:8601",        # địa chỉ hệ thống
        "G15",                           # mã cơ quan: wrong, asked again
        "000.00.00.G15",
        "Bộ Tư pháp",
        "2.001417, 1.001193",            # MaTTHC
        "",                              # Cổng giả lập: default
        "btp-motcua", "", "",            # client_id, MaDoiTac default, adapter default
        "", "", "",                      # officer mode, officer user, publication date: defaults
        "Nguyễn Văn An",                 # người kiểm thử
        "/dich-vu/nop",                  # deep link path
        *[""] * 11,                      # the other journey labels: the reference system's
    ]
    out = run_interactive(tmp_path, answers)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Mã định danh cơ quan" in out.stdout and "Mã thủ tục (MaTTHC)" in out.stdout
    assert "'G15'" in out.stdout and "TT 10/2016/TT-BTTTT" in out.stdout  # the refusal, then the question again
    target = read_yaml(tmp_path / "target.yaml")
    assert validate_target(target) == []
    assert target["system"]["base_url"] == "http://127.0.0.1:8601"
    assert target["portal"]["sso_client"]["client_id"] == "btp-motcua"
    assert target["portal"]["payment_partner"]["code"] == "G15"
    assert target["officer"]["mode"] == "automated" and target["report"]["publication_date"] == today()
    assert target["report"]["tester"] == "Nguyễn Văn An"
    assert [s["scenario"] for s in target["services"]] == ["lltp-cap-phieu.yaml", "khai-sinh.yaml"]
    assert target["adapter"]["pages"]["deep_link"].startswith("{system.base_url}/dich-vu/nop?")


def test_interactive_init_without_answers_points_to_the_flags(tmp_path):
    out = run_interactive(tmp_path, [])
    text = out.stdout + out.stderr
    assert out.returncode == 2 and "--non-interactive" in text and "Traceback" not in text
    assert not (tmp_path / "target.yaml").exists()


def test_init_never_overwrites_a_scenario_the_user_already_has(tmp_path):
    """A scenario file of the same name beside the target is the user's work: refused without --force."""
    mine = tmp_path / "lltp-cap-phieu.yaml"
    mine.write_text("# my edited scenario\n", encoding="utf-8")
    out = run_cli("init", str(tmp_path / "target.yaml"), *FLAGS, "--service", "2.001417")
    assert out.returncode == 2 and str(mine) in out.stdout + out.stderr
    assert mine.read_text(encoding="utf-8") == "# my edited scenario\n" and not (tmp_path / "target.yaml").exists()
