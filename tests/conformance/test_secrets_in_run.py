"""A whole run leaves no credential in what it writes: "Secrets (client secrets, payment keys, tokens, passwords,
cookies) never appear in logs, reports or evidence."

The demo runs one service with a fee through all four checks, with planted secrets, while the mock portal and the
reference system run under a recorder that notes every credential they hand out over HTTP (authorization codes,
access and ID tokens, the portal's SSO cookie, the citizen's and the officer's session cookies, the login form's
session key). Then every file of the run directory is searched — zip members recursively (Playwright traces, also
inside Allure attachments), base64 inside HTML decoded (data: URIs and the files allure-report.html embeds),
SQLite dumps, JSON and logs — for those values, for any JWT, and for the unkeyed SHA-256 fingerprints
(`***#` + 8 hex digits) that would let anyone confirm a guessed secret: zero hits."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest

import conformance.portal
import kiemthu.demo
from conformance.runner import run
from kiemthu.demo import DEMO_TARGET, SECRET_VARS, demo_environment, start_reference_system
from kiemthu.logs import register_secret
from kiemthu.runtime import make_run_dir
from kiemthu.target import load_target
from tests.artefacts import hits

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICE = "lltp-cap-phieu"  # toàn trình with a fee: login, submission, payment, processing, logout
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
RECORDER = [sys.executable, "-m", "tests.conformance.recorder"]


def recorded(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        item = json.loads(line)
        out.setdefault(item["kind"], set()).add(item["value"])
    return out


def run_recorded(tmp_path: Path, monkeypatch) -> tuple[Path, dict[str, set[str]], Path]:
    """The demo of one service with both servers recorded; (run directory, issued values by kind, mock SQLite)."""
    issued_portal, issued_system = tmp_path / "issued-portal.jsonl", tmp_path / "issued-system.jsonl"
    mock_db = tmp_path / "portal" / "portal.sqlite"
    mock_db.parent.mkdir()
    plain_mock_process = conformance.portal.mock_process
    control_tokens: list[str] = []  # the mock's control-plane token of the run

    def recorded_mock(target_file, base_url, run_dir, **options):
        proc = plain_mock_process(target_file, base_url, run_dir, **options)
        control_tokens.append(proc.control.token)
        cmd = list(proc.cmd[2:])  # [python, -m] mocks --target … --db …
        cmd[cmd.index("--db") + 1] = str(mock_db)
        proc.cmd = [*RECORDER, str(issued_portal), *cmd]
        return proc

    monkeypatch.setattr(conformance.portal, "mock_process", recorded_mock)
    monkeypatch.setattr(kiemthu.demo, "python_module_cmd", lambda module, *a: [*RECORDER, str(issued_system), module, *a])
    target = load_target(DEMO_TARGET)
    run_dir = make_run_dir(tmp_path / "run")
    with start_reference_system(target, run_dir, []):
        code = run(target=DEMO_TARGET, output=run_dir, services=[SERVICE], checks=[], headed=False,
                   build_report=True, defects=[])
    assert code == 0, (run_dir / "logs" / "pytest.log").read_text(encoding="utf-8")[-3000:]
    issued = recorded(issued_portal)
    for kind, values in recorded(issued_system).items():
        issued.setdefault(kind, set()).update(values)
    issued["control_token"] = set(control_tokens)
    return run_dir, issued, mock_db


def plain_fingerprint(value: str) -> str:
    return "***#" + hashlib.sha256(value.encode()).hexdigest()[:8]


def test_no_credential_issued_or_planted_is_in_any_file_of_the_run(tmp_path, monkeypatch):
    demo_environment()
    planted = {name: f"PLANTED-{name}-7c1e9a0b" for name in SECRET_VARS}
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
        register_secret(value)
    run_dir, issued, mock_db = run_recorded(tmp_path, monkeypatch)

    # the state travels in the redirect URL by design; the system's login-binding cookie that carries it is no session
    states = issued.pop("state", set())
    credentials = {f"{kind} {value[:6]}…": value for kind, values in issued.items() for value in values
                   if value not in states and len(value) >= 8}
    kinds = {label.split()[0] for label in credentials}
    assert {"code", "access_token", "id_token", "id_token_hint", "cookie", "sessionDataKey", "control_token"} <= kinds, kinds
    needles = {**planted, **credentials}
    fingerprints = {f"plain fingerprint of {label}": plain_fingerprint(v) for label, v in needles.items()}

    assert hits(run_dir, {**needles, **fingerprints}, {"JWT": JWT}) == []
    assert hits(mock_db.parent, fingerprints) == []  # the mock's own database keeps no guessing oracle either
    assert (run_dir / "allure-report.html").is_file()
    for trace in run_dir.glob("evidence/**/trace*.zip"):  # still a trace the Playwright viewer opens
        with zipfile.ZipFile(trace) as z:
            assert z.testzip() is None
            for name in ("trace.trace", "trace.network"):
                for line in z.read(name).decode("utf-8").splitlines():
                    json.loads(line)
