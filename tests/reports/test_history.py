"""Run history: every run recorded; one submission assembled from the latest completed run of each service."""

import json

from openpyxl import load_workbook

from conftest import sample_summary, write_run_dir
from reports.history import connect, history_cli, latest_service_runs, record_run, report_from_history
from reports.xlsx import HEADER_ROW


def rerun_of_ket_hon_fixed():
    """A later run of only the failed service, now passing, with a new dossier code."""
    data = sample_summary()
    data["run_id"] = "20261117-101500-b7c1"
    data["started_at"], data["finished_at"] = "2026-11-17T10:15:00+07:00", "2026-11-17T10:17:30+07:00"
    kh = data["services"][2]
    kh["dossier_codes"] = ["000.00.00.G15-261117-0001"]
    kh["checks"]["processing"]["verdict"] = "passed"
    kh["checks"]["processing"]["reason"] = ""
    for rule in kh["checks"]["processing"]["rules"]:
        rule["verdict"] = "passed"
    kh["completed"] = True
    data["services"] = [kh]
    return data


def test_record_run(run_dir, history_db):
    (run_dir / "report.pdf").write_bytes(b"%PDF-1.7")
    record_run(run_dir)
    with connect(history_db) as conn:
        run = conn.execute("SELECT * FROM runs").fetchone()
        services = conn.execute("SELECT service_id, completed, dossier_codes_json FROM services ORDER BY service_id").fetchall()
    assert run["run_id"] == "20261116-091502-a3f9" and run["agency_code"] == "000.00.00.G15"
    assert "report.pdf" in json.loads(run["artefacts_json"])
    assert [(s[0], s[1]) for s in services] == [("ket-hon", 0), ("khai-sinh", 1), ("lltp-cap-phieu", 1)]


def test_latest_passing_code_per_service(tmp_path, history_db, capsys):
    record_run(write_run_dir(tmp_path / "r1"))
    record_run(write_run_dir(tmp_path / "r2", rerun_of_ket_hon_fixed()))
    with connect(history_db) as conn:
        latest = latest_service_runs(conn)
    assert {k: json.loads(v["dossier_codes_json"])[-1] for k, v in latest.items()} == {
        "ket-hon": "000.00.00.G15-261117-0001",
        "khai-sinh": "000.00.00.G15-261116-0002",
        "lltp-cap-phieu": "000.00.00.G15-261116-0001",
    }
    assert history_cli([], None) == 0
    out = capsys.readouterr().out
    assert "20261117-101500-b7c1" in out and "000.00.00.G15-261117-0001" in out


def test_report_from_history_takes_each_service_from_its_latest_completed_run(tmp_path):
    record_run(write_run_dir(tmp_path / "r1"))
    record_run(write_run_dir(tmp_path / "r2", rerun_of_ket_hon_fixed()))
    out = tmp_path / "submission"
    assert report_from_history(["lltp-cap-phieu", "ket-hon"], out, "vi") == 0
    ws = load_workbook(out / "report.xlsx").active
    rows = [r for r in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + 2, values_only=True)]
    assert [(r[4], r[6]) for r in rows] == [("2.001417.01", "000.00.00.G15-261116-0001"),
                                            ("1.000894.01", "000.00.00.G15-261117-0001")]
    sources = json.loads((out / "submission.json").read_text(encoding="utf-8"))["services"]
    assert [s["run_id"] for s in sources] == ["20261116-091502-a3f9", "20261117-101500-b7c1"]
    assert (out / "report.pdf").is_file() and (out / "manifest.json").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "../r2/evidence/ket-hon/processing/journal.json" in page  # evidence linked from its own run


def test_report_from_history_unknown_service(tmp_path):
    record_run(write_run_dir(tmp_path / "r1"))
    assert report_from_history(["no-such-service"], tmp_path / "out", "vi") == 1
