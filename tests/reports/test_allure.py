"""allure-report.html: generated offline as one file; nothing in it may call a server."""

import base64
import json
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import requests_made_opening
from reports.allure import build_allure, embedded_credentials, find_generator, make_offline, remote_urls


def page_with_script(js: str) -> str:
    payload = base64.b64encode(js.encode()).decode()
    return f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<script src="data:text/javascript;charset=utf-8;base64,{payload}"></script></head><body></body></html>'


def test_remote_viewer_is_replaced_and_fetches_forbidden():
    page = page_with_script("const viewer=`https://trace.playwright.dev/`, origin=`https://trace.playwright.dev`;")
    assert remote_urls(page) == {"https://trace.playwright.dev"}
    offline = make_offline(page)
    assert remote_urls(offline) == set()
    assert "about:blank" in base64.b64decode(offline.split(";base64,")[1].split('"')[0]).decode()
    assert "Content-Security-Policy" in offline and "connect-src data: blob:" in offline


def test_no_results_or_no_generator_is_a_note_not_a_failure(tmp_path):
    assert build_allure(tmp_path).note == "no allure-results in the run directory"
    write_results(tmp_path / "allure-results")
    outcome = build_allure(tmp_path)  # KIEMTHU_ALLURE points nowhere in these tests
    assert outcome.path is None and "not found" in outcome.note
    assert find_generator() is None


def write_results(folder: Path) -> None:
    """Two results in the allure-pytest format (one passed, one failed) with a text attachment."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "note-attachment.txt").write_text("journal#58: TrangThaiHoSo=11", encoding="utf-8")
    for name, status in (("test_sso[lltp-cap-phieu]", "passed"), ("test_processing[ket-hon]", "failed")):
        result = {"uuid": str(uuid.uuid4()), "historyId": name, "name": name, "fullName": f"conformance.{name}",
                  "status": status, "stage": "finished", "start": 1795376100000, "stop": 1795376102000,
                  "labels": [{"name": "suite", "value": "kiemthu"}],
                  "attachments": [{"name": "journal", "source": "note-attachment.txt", "type": "text/plain"}]}
        (folder / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")


@pytest.mark.slow
def test_generated_report_is_single_file_and_offline(tmp_path, generator):
    write_results(tmp_path / "allure-results")
    outcome = build_allure(tmp_path)
    assert outcome.note is None and outcome.path == tmp_path / "allure-report.html"
    page = outcome.path.read_text(encoding="utf-8")
    assert remote_urls(page) == set()
    assert "trace.playwright.dev" not in page and "Content-Security-Policy" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["allure-report.html", "allure-results"]
    browser_requests = requests_made_opening(outcome.path)
    assert browser_requests == []


ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaXRpemVuLTEiLCJub25jZSI6Im4xIn0.c2lnbmF0dXJlLW9mLXRoZS1wb3J0YWw"
SESSION = "Qm9ndXMtc2Vzc2lvbi1jb29raWUtdmFsdWU"
CODE = "w_51fuRW6CT-Rb3itmfpXI_dL9936xAFrvpmhKkAjB0"


def write_leaky_attachments(folder: Path) -> None:
    """A text attachment and a trace attachment holding what an unscrubbed browser exchange would hold."""
    write_results(folder)
    (folder / "note-attachment.txt").write_text(
        f"GET /sso/callback?code={CODE}&state=s1\nCookie: phien={SESSION}\nlogout?id_token_hint={ID_TOKEN}\n",
        encoding="utf-8")
    entry = {"type": "resource-snapshot", "snapshot": {"request": {
        "url": f"http://sut/sso/callback?code={CODE}", "headers": [{"name": "Cookie", "value": f"phien={SESSION}"}]}}}
    with zipfile.ZipFile(folder / "trace-attachment.zip", "w") as z:
        z.writestr("trace.network", json.dumps(entry) + "\n")


@pytest.mark.slow
def test_attachments_are_scrubbed_before_the_generator_embeds_them(tmp_path, generator):
    """allure-report.html embeds every attachment again as base64: what it embeds holds no token, code or cookie."""
    from tests.artefacts import hits

    write_leaky_attachments(tmp_path / "allure-results")
    outcome = build_allure(tmp_path)
    assert outcome.note is None
    needles = {"ID token": ID_TOKEN, "session cookie": SESSION, "authorization code": CODE}
    assert hits(tmp_path, needles) == []
    assert "phien=***" in (tmp_path / "allure-results" / "note-attachment.txt").read_text(encoding="utf-8")


def test_a_report_that_would_embed_a_credential_is_not_written(tmp_path, monkeypatch):
    """The generated page is checked before it is written: a credential in an embedded file withholds it."""
    leaky = base64.b64encode(f"logout?id_token_hint={ID_TOKEN}".encode()).decode()
    clean = base64.b64encode(b"logout?id_token_hint=***").decode()
    assert embedded_credentials(f"<script>d('data/attachments/a.txt','{leaky}')</script>") == ["data/attachments/a.txt"]
    assert embedded_credentials(f"<script>d('data/attachments/a.txt','{clean}')</script>") == []
    # a generator that embeds what it was never given (here: a script standing in for one that reads stale files)
    fake = tmp_path / "allure"
    fake.write_text("#!/usr/bin/env python3\nimport sys, pathlib\n"
                    "out = pathlib.Path(sys.argv[sys.argv.index('-o') + 1])\nout.mkdir(parents=True, exist_ok=True)\n"
                    f"(out / 'index.html').write_text(\"<html><head></head><body><script>d('data/attachments/a.txt','{leaky}')"
                    "</script></body></html>\")\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("KIEMTHU_ALLURE", str(fake))
    write_results(tmp_path / "allure-results")
    outcome = build_allure(tmp_path)
    assert outcome.path is None and "data/attachments/a.txt" in outcome.note and "credential" in outcome.note
    assert not (tmp_path / "allure-report.html").exists()
