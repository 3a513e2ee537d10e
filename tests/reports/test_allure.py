"""allure-report.html: generated offline as one file; nothing in it may call a server."""

import base64
import json
import shutil
import uuid
from pathlib import Path

import pytest

from conftest import requests_made_opening
from reports.allure import build_allure, find_generator, make_offline, remote_urls


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


@pytest.fixture
def generator(monkeypatch, real_allure):
    """The real Allure generator, or skip (it needs npm allure-commandline and Java)."""
    if real_allure:
        monkeypatch.setenv("KIEMTHU_ALLURE", real_allure)
    else:
        monkeypatch.delenv("KIEMTHU_ALLURE")
    found = find_generator()
    if found is None or not shutil.which("java"):
        pytest.skip("Allure generator not installed")
    return found


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
