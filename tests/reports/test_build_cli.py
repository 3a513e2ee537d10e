"""`kiemthu report` end to end through the CLI, and its one-line errors for a bad summary.json."""

import json

from typer.testing import CliRunner

from conftest import sample_summary, write_run_dir
from kiemthu.cli import app
from reports.build import build_all, build_cli
from reports.history import connect, record_run

runner = CliRunner()


def test_build_all_writes_every_artefact_signature_last_and_records_history(run_dir, history_db):
    paths = build_all(run_dir)
    assert [p.name for p in paths] == ["report.xlsx", "report.pdf", "report.html", "manifest.json", "manifest.sig"]
    assert all(p.is_file() for p in paths)
    with connect(history_db) as conn:
        recorded = conn.execute("SELECT run_id, artefacts_json FROM runs").fetchall()
    assert [r[0] for r in recorded] == ["20261116-091502-a3f9"]
    assert set(json.loads(recorded[0][1])) >= {"report.xlsx", "report.pdf", "report.html", "manifest.json",
                                               "manifest.sig"}


def test_cli_report_in_english_then_verify(run_dir):
    result = runner.invoke(app, ["report", str(run_dir), "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "report.en.pdf" in result.output and "not generated" in result.output  # Allure note, not a failure
    assert "Codes of dossiers that completed testing" in (run_dir / "report.en.html").read_text(encoding="utf-8")
    assert "Mã số hồ sơ đã hoàn thành kiểm thử" in (run_dir / "report.html").read_text(encoding="utf-8")  # beside it
    assert runner.invoke(app, ["report", "--verify", str(run_dir)]).exit_code == 0
    (run_dir / "summary.json").write_text((run_dir / "summary.json").read_text() + " ", encoding="utf-8")
    result = runner.invoke(app, ["report", "--verify", str(run_dir)])
    assert result.exit_code == 1 and "modified: summary.json" in result.output


def test_missing_summary_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert build_cli(tmp_path / "empty") == 2
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "summary.json not found" in out and "Traceback" not in out


def test_invalid_summary_names_field_rule_and_value(tmp_path, capsys):
    data = sample_summary()
    data["services"][2]["level"] = "toan-trinh"
    run = write_run_dir(tmp_path / "run", data)
    assert build_cli(run) == 2
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    assert "services[2].level" in out and "'enum'" in out and '"toan-trinh"' in out


def test_missing_required_field_is_named(tmp_path, capsys):
    data = sample_summary()
    del data["services"][0]["MaDVC"]
    run = write_run_dir(tmp_path / "run", data)
    assert build_cli(run) == 2
    out = capsys.readouterr().out
    assert "services[0]" in out and "'required'" in out and "MaDVC" in out


def test_not_json(tmp_path, capsys):
    run = write_run_dir(tmp_path / "run")
    (run / "summary.json").write_text("{not json", encoding="utf-8")
    assert build_cli(run) == 2
    assert "valid JSON" in capsys.readouterr().out


def test_unknown_language(run_dir, capsys):
    assert build_cli(run_dir, language="fr") == 2
    assert "language" in capsys.readouterr().out


def test_history_and_from_history_commands(run_dir, tmp_path, monkeypatch):
    import reports.build as build_module

    # the PDF is covered elsewhere; this checks the command wiring
    monkeypatch.setattr(build_module, "DOCUMENTS", tuple(d for d in build_module.DOCUMENTS if d[0] != "report.pdf"))
    record_run(run_dir)
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 0 and "lltp-cap-phieu" in result.output
    out = tmp_path / "sub"
    result = runner.invoke(app, ["report", "--from-history", "-s", "khai-sinh", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "submission.json").read_text())["services"][0]["service"] == "khai-sinh"


def test_one_failing_document_does_not_cost_the_others(run_dir, monkeypatch, capsys):
    import reports.build as build_module

    def broken_pdf(*args, **kwargs):
        raise OSError("no space left on device")

    documents = tuple((n, broken_pdf if n == "report.pdf" else f) for n, f in build_module.DOCUMENTS)
    monkeypatch.setattr(build_module, "DOCUMENTS", documents)
    assert build_cli(run_dir) == 1
    out = capsys.readouterr().out
    assert "report.pdf: chưa lập được" in out and "no space left on device" in out
    assert (run_dir / "report.xlsx").is_file() and (run_dir / "report.html").is_file()
    assert not (run_dir / "report.pdf").exists() and (run_dir / "manifest.json").is_file()
    assert "report.pdf: chưa lập được" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_without_a_run_directory_says_how_to_call_it():
    """Not 'run directory not found: None': the missing argument is named, with the ways to call the command."""
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 2
    assert "None" not in result.output and "RUN_DIR" in result.output and "--from-history" in result.output


def test_help_texts_name_placeholders_and_keep_the_vietnamese_whole(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    top = runner.invoke(app, ["--help"]).output
    for short in ("Lập báo cáo kết quả kiểm thử", "Lịch sử kiểm thử", "Chạy thử toàn bộ"):
        assert short in top, short
    assert "..." not in top.split("Commands:")[1]  # no command's help cut short
    demo = runner.invoke(app, ["demo", "--help"]).output
    assert "<list[str]>" not in demo and "--defect DEFECT" in demo
    report = runner.invoke(app, ["report", "--help"]).output
    assert "report.en" in report and "<list[str]>" not in report


def test_demo_console_shows_no_code_for_a_service_that_did_not_complete(tmp_path):
    from rich.console import Console

    from kiemthu.demo import _print_summary

    run_dir = write_run_dir(tmp_path / "run", sample_summary())
    console = Console(record=True, width=200)
    _print_summary(run_dir, console)
    row = next(line for line in console.export_text().splitlines() if "ket-hon" in line)
    assert "000.00.00.G15-261116-0003" not in row and "Không" in row
