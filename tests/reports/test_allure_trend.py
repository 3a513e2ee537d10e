"""The Allure trend across days: a run's allure-report.html goes on from the last run of the same system and the
same services (its history files, carried inside the single-file report), so a daily catalogue job shows how
the verdicts moved from one run to the next."""

import base64
import copy
import json
import uuid
from pathlib import Path

import pytest

from conftest import requests_made_opening, sample_summary, write_run_dir
from reports.allure import build_allure, carry_trend, history_files
from reports.history import earlier_runs_alike, record_run
from reports.model import read_summary


def single_file(files: dict[str, bytes]) -> str:
    """A page shaped as Allure's single-file output: each data file registered by d('name', 'base64')."""
    calls = "".join(f"d('{name}', '{base64.b64encode(data).decode()}');\n" for name, data in files.items())
    return f"<html><head><script>\n{calls}</script></head><body></body></html>"


def test_history_files_are_read_from_a_single_file_report():
    page = single_file({"history/history-trend.json": b'[{"data": {"passed": 3}}]', "data/suites.json": b"{}",
                        "history/history.json": b"{}", "widgets/history-trend.json": b"[]"})
    assert history_files(page) == {"history-trend.json": b'[{"data": {"passed": 3}}]', "history.json": b"{}"}


def test_the_trend_goes_on_from_the_latest_earlier_run_that_has_one(tmp_path):
    """The newest earlier run without a report is passed over; the history files land in allure-results/history;
    a second build of the same run keeps what the first carried."""
    older, newer, current = tmp_path / "older", tmp_path / "newer", tmp_path / "current"
    older.mkdir()
    newer.mkdir()
    (older / "allure-report.html").write_text(single_file({"history/history-trend.json": b"[1]"}), encoding="utf-8")
    (current / "allure-results").mkdir(parents=True)
    assert carry_trend(current / "allure-results", [newer, older]) == older
    assert (current / "allure-results" / "history" / "history-trend.json").read_bytes() == b"[1]"
    (newer / "allure-report.html").write_text(single_file({"history/history-trend.json": b"[2]"}), encoding="utf-8")
    assert carry_trend(current / "allure-results", [newer, older]) is None
    assert (current / "allure-results" / "history" / "history-trend.json").read_bytes() == b"[1]"


def test_a_run_without_allure_results_gets_no_history_folder(tmp_path):
    older = tmp_path / "older"
    older.mkdir()
    (older / "allure-report.html").write_text(single_file({"history/history-trend.json": b"[1]"}), encoding="utf-8")
    assert carry_trend(tmp_path / "current" / "allure-results", [older]) is None
    assert not (tmp_path / "current").exists()


def variant(run_id: str, started: str, services: list[str] | None = None, agency: str | None = None) -> dict:
    data = copy.deepcopy(sample_summary())
    data["run_id"], data["started_at"] = run_id, started
    if services is not None:
        data["services"] = [s for s in data["services"] if s["id"] in services]
    if agency:
        data["target"]["agency_code"] = agency
    return data


def test_only_earlier_runs_of_the_same_system_and_services_are_alike(tmp_path, history_db):
    """Compared with: the same target, agency and profile over the same services, started before, latest first.
    Not with: a run of other services (a shard of another share), of another agency, or started later."""
    runs = {
        "first": variant("20261114-091500-aaaa", "2026-11-14T09:15:00+07:00"),
        "second": variant("20261115-091500-bbbb", "2026-11-15T09:15:00+07:00"),
        "shard": variant("20261115-101500-cccc", "2026-11-15T10:15:00+07:00", services=["lltp-cap-phieu"]),
        "other": variant("20261115-111500-dddd", "2026-11-15T11:15:00+07:00", agency="000.00.00.H29"),
        "later": variant("20261117-091500-eeee", "2026-11-17T09:15:00+07:00"),
        "now": variant("20261116-091500-ffff", "2026-11-16T09:15:00+07:00"),
    }
    folders = {name: write_run_dir(tmp_path / name, data) for name, data in runs.items()}
    for folder in folders.values():
        record_run(folder)
    def alike(name: str) -> list[Path]:
        return earlier_runs_alike(read_summary(folders[name]), folders[name])

    assert alike("now") == [folders["second"].resolve(), folders["first"].resolve()]
    assert alike("first") == []


def write_day(folder: Path, statuses: dict[str, str], day: int) -> None:
    """One run's Allure results: the same tests each day, with the day's statuses and build order."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, status in statuses.items():
        start = 1795376100000 + day * 86_400_000
        result = {"uuid": str(uuid.uuid4()), "historyId": name, "name": name, "fullName": f"conformance.{name}",
                  "status": status, "stage": "finished", "start": start, "stop": start + 2000,
                  "labels": [{"name": "suite", "value": "kiemthu"}]}
        (folder / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")
    (folder / "executor.json").write_text(json.dumps({"name": "kiemthu", "type": "kiemthu", "buildOrder": day,
                                                      "buildName": f"Lần chạy {day}"}), encoding="utf-8")


@pytest.mark.slow
def test_the_second_days_report_shows_both_days_in_its_trend(tmp_path, generator):
    """Day 1: one check fails. Day 2, carried over from day 1: both pass, and the report's trend holds both days
    (the trend widget draws two points) with each test's history; opened in Chromium it calls no server."""
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    write_day(day1 / "allure-results", {"test_sso[khai-sinh]": "passed", "test_processing[khai-sinh]": "failed"}, 1)
    assert build_allure(day1).path is not None
    write_day(day2 / "allure-results", {"test_sso[khai-sinh]": "passed", "test_processing[khai-sinh]": "passed"}, 2)
    assert carry_trend(day2 / "allure-results", [day1]) == day1
    outcome = build_allure(day2)
    assert outcome.path is not None, outcome.note
    page = outcome.path.read_text(encoding="utf-8")
    trend = json.loads(history_files(page)["history-trend.json"])
    assert [(point["data"]["passed"], point["data"]["failed"]) for point in trend] == [(2, 0), (1, 1)]
    history = json.loads(history_files(page)["history.json"])
    assert sorted(len(entry["items"]) for entry in history.values()) == [2, 2]  # each test: both days
    assert requests_made_opening(outcome.path) == []


def test_a_trend_given_with_trend_from_is_carried_and_sealed(tmp_path, signing_key_path, monkeypatch):
    """`kiemthu report RUN_DIR --trend-from YESTERDAY` (a fresh CI machine has no history of its own): the trend
    comes from that folder, and the files it brought are in the signed manifest like every other."""
    from reports.build import build

    monkeypatch.setenv("KIEMTHU_SIGNING_KEY", str(signing_key_path))
    yesterday = tmp_path / "yesterday"
    yesterday.mkdir()
    (yesterday / "allure-report.html").write_text(single_file({"history/history-trend.json": b"[7]"}), encoding="utf-8")
    run = write_run_dir(tmp_path / "out" / "20261116-091502-abcd", sample_summary())
    write_day(run / "allure-results", {"test_sso[khai-sinh]": "passed"}, 2)
    build(run, "vi", db=tmp_path / "h.sqlite", trend_from=yesterday)
    assert (run / "allure-results" / "history" / "history-trend.json").read_bytes() == b"[7]"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert "allure-results/history/history-trend.json" in json.dumps(manifest)
