"""Run history in SQLite: every run, its services, dossier codes and verdicts, and where its artefacts are.

An officer who fixed one service and re-ran only that one can assemble a single submission from the
latest completed run of each service (`kiemthu report --from-history`).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiemthu.runtime import DEFAULT_OUT, VN_TZ
from reports import labels
from reports.model import SummaryError, format_time, parse_time, read_summary, run_from_summary

ENV_DB = "KIEMTHU_HISTORY_DB"
ARTEFACT_NAMES = ("report.xlsx", "report.pdf", "report.html", "allure-report.html", "manifest.json",
                  "summary.json", "junit.xml")
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, run_dir TEXT NOT NULL, recorded_at TEXT NOT NULL,
  started_at TEXT, finished_at TEXT, finished_sort TEXT,
  target_name TEXT, agency_code TEXT, base_url TEXT, profile TEXT, harness_version TEXT,
  header_json TEXT NOT NULL, artefacts_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS services (
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, service_id TEXT NOT NULL,
  ma_tthc TEXT, ten_tthc TEXT, ma_dvc TEXT, ten_dvc TEXT, level TEXT,
  completed INTEGER NOT NULL, dossier_codes_json TEXT NOT NULL, verdicts_json TEXT NOT NULL,
  service_json TEXT NOT NULL,
  PRIMARY KEY (run_id, service_id)
);
CREATE TABLE IF NOT EXISTS submissions (
  run_id TEXT NOT NULL, ma_dvc TEXT NOT NULL, submitted_at TEXT NOT NULL, portal_url TEXT,
  outcome TEXT NOT NULL, reasons_json TEXT NOT NULL, dossier_codes_json TEXT NOT NULL,
  PRIMARY KEY (run_id, ma_dvc, submitted_at)
);
"""


OUTCOME_WORDS = {"confirmed": "[green]Xác nhận / confirmed[/green]", "returned": "[red]Trả lại / returned[/red]",
                 "refused": "[red]Không tiếp nhận / refused[/red]"}


def db_path(db: Path | None = None) -> Path:
    """The history database: the argument, else $KIEMTHU_HISTORY_DB, else reports/out/history.sqlite."""
    if db:
        return Path(db)
    return Path(os.environ[ENV_DB]) if os.environ.get(ENV_DB) else DEFAULT_OUT / "history.sqlite"


def connect(db: Path | None = None) -> sqlite3.Connection:
    path = db_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def record_run(run_dir: Path, db: Path | None = None, artefacts: Iterable[Path] | None = None) -> Path:
    """Add (or replace) a run in the history. Returns the database path."""
    run_dir = Path(run_dir).resolve()
    summary = read_summary(run_dir)
    run = run_from_summary(summary, run_dir)
    # every document of the run, in each language built so far, plus the ones this build is writing
    present = {n for n in ARTEFACT_NAMES if (run_dir / n).is_file()} | {p.name for p in run_dir.glob("report.*.*")}
    names = sorted(present | {Path(p).name for p in artefacts or []})
    header = {k: v for k, v in summary.items() if k != "services"}
    with closing(connect(db)) as conn, conn:
        conn.execute("DELETE FROM services WHERE run_id = ?", (summary["run_id"],))
        conn.execute(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (summary["run_id"], str(run_dir), datetime.now(VN_TZ).isoformat(timespec="seconds"),
             summary["started_at"], summary["finished_at"], run.finished_at.isoformat(),
             run.target["name"], run.target["agency_code"], run.target["base_url"], run.profile,
             run.harness_version, json.dumps(header, ensure_ascii=False),
             json.dumps({n: str(run_dir / n) for n in names}, ensure_ascii=False)),
        )
        for raw, service in zip(summary["services"], run.services):
            conn.execute(
                "INSERT INTO services VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (summary["run_id"], service.id, service.MaTTHC, service.TenTTHC, service.MaDVC, service.TenDVC,
                 service.level, int(service.completed), json.dumps(service.dossier_codes, ensure_ascii=False),
                 json.dumps({c.name: c.verdict for c in service.ordered_checks()}),
                 json.dumps(raw, ensure_ascii=False)),
            )
    return db_path(db)


def earlier_runs_alike(summary: dict[str, Any], run_dir: Path, db: Path | None = None, limit: int = 20) -> list[Path]:
    """Folders of the runs recorded before this one (`summary`, by start time) of the same system (target name,
    agency code, contract profile) over the same services, latest first: the runs a trend compares it with. A shard
    is compared with the same shard of earlier days, a merged run with earlier merged runs."""
    run = run_from_summary(summary, Path(run_dir))  # the names as record_run stores them
    services = sorted(s["id"] for s in summary["services"])
    with closing(connect(db)) as conn:
        rows = conn.execute(
            "SELECT r.run_dir, GROUP_CONCAT(s.service_id, ',') AS ids FROM runs r JOIN services s USING (run_id) "
            "WHERE r.run_id != ? AND r.target_name = ? AND r.agency_code = ? AND r.profile = ? AND r.started_at < ? "
            "GROUP BY r.run_id ORDER BY r.started_at DESC LIMIT 200",
            (summary["run_id"], run.target["name"], run.target["agency_code"], run.profile, summary["started_at"]),
        ).fetchall()
    alike = [Path(r["run_dir"]) for r in rows if sorted((r["ids"] or "").split(",")) == services]
    return alike[:limit]


def record_submission(run_dir: Path, stored: dict[str, Any], db: Path | None = None) -> Path:
    """The admin system's answer to a run's submission, one row per service (`kiemthu submit`)."""
    run_id = read_summary(Path(run_dir))["run_id"]
    sent = {s["MaDVC"]: s.get("DanhSachMaHoSo", []) for s in stored["request"].get("DanhSachDichVu", [])}
    answers = ((stored.get("reply") or {}).get("result") or {}).get("DanhSachDichVu") or []
    with closing(connect(db)) as conn, conn:
        for a in answers:
            conn.execute("INSERT OR REPLACE INTO submissions VALUES (?,?,?,?,?,?,?)",
                         (run_id, a["MaDVC"], stored["submitted_at"], stored.get("portal_url"), a["KetQua"],
                          json.dumps(a.get("LyDo", []), ensure_ascii=False),
                          json.dumps(sent.get(a["MaDVC"], []), ensure_ascii=False)))
    return db_path(db)


def latest_submissions(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    """Per service code (MaDVC), the admin system's latest answer."""
    latest: dict[str, sqlite3.Row] = {}
    for row in conn.execute("SELECT * FROM submissions ORDER BY submitted_at DESC"):
        latest.setdefault(row["ma_dvc"], row)
    return latest


def list_runs(conn: sqlite3.Connection, services: list[str] | None = None) -> list[sqlite3.Row]:
    rows = conn.execute(
        "SELECT r.*, COUNT(s.service_id) AS n_services, SUM(s.completed) AS n_completed, "
        "GROUP_CONCAT(s.service_id, ', ') AS service_ids FROM runs r LEFT JOIN services s USING (run_id) "
        "GROUP BY r.run_id ORDER BY r.finished_sort DESC"
    ).fetchall()
    if services:
        rows = [r for r in rows if set((r["service_ids"] or "").split(", ")) & set(services)]
    return rows


def latest_service_runs(conn: sqlite3.Connection, services: list[str] | None = None,
                        completed_only: bool = True) -> dict[str, sqlite3.Row]:
    """Per service id, its row from the most recent run (the most recent completed one when completed_only)."""
    query = ("SELECT s.*, r.run_dir, r.finished_at, r.finished_sort, r.header_json, r.target_name "
             "FROM services s JOIN runs r USING (run_id) "
             + ("WHERE s.completed = 1 " if completed_only else "")
             + "ORDER BY r.finished_sort DESC, r.recorded_at DESC")
    latest: dict[str, sqlite3.Row] = {}
    for row in conn.execute(query):
        if (not services or row["service_id"] in services) and row["service_id"] not in latest:
            latest[row["service_id"]] = row
    return latest


def later_failures(conn: sqlite3.Connection, row: sqlite3.Row) -> list[dict[str, Any]]:
    """Runs of the same service that finished after `row`'s run and did not complete, newest first."""
    found = conn.execute(
        "SELECT s.run_id, r.finished_at, s.verdicts_json FROM services s JOIN runs r USING (run_id) "
        "WHERE s.service_id = ? AND s.completed = 0 AND r.finished_sort > ? ORDER BY r.finished_sort DESC",
        (row["service_id"], row["finished_sort"])).fetchall()
    return [{"run_id": f["run_id"], "finished": format_time(parse_time(f["finished_at"])),
             "verdicts": json.loads(f["verdicts_json"])} for f in found]


def code_reused_later(conn: sqlite3.Connection, code: str, row: sqlite3.Row) -> str | None:
    """A later run whose services used the same dossier code (the reference system restarts its numbering)."""
    for other in conn.execute(
            "SELECT s.run_id, s.dossier_codes_json FROM services s JOIN runs r USING (run_id) "
            "WHERE r.finished_sort > ? ORDER BY r.finished_sort DESC", (row["finished_sort"],)):
        if code in json.loads(other["dossier_codes_json"]):
            return other["run_id"]
    return None


def known_services(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT service_id FROM services ORDER BY service_id")]


def history_cli(services: list[str] | None = None, db: Path | None = None) -> int:
    """`kiemthu history`: recorded runs, then per service the latest passing dossier code."""
    console = Console()
    path = db_path(db)
    if not path.is_file():
        console.print(f"No run history yet (chưa có lịch sử): {path}")
        return 0
    with closing(connect(db)) as conn:
        console.print(runs_table(list_runs(conn, services)))
        console.print(services_table(conn, services or known_services(conn)))
    return 0


def runs_table(rows: list[sqlite3.Row]) -> Table:
    """Three columns, each cell stacked on lines, so it reads in an 80-column terminal."""
    table = Table(title="Lần chạy / Runs", title_justify="left", show_lines=True)
    table.add_column("Run id / Kết thúc", no_wrap=True)
    table.add_column("Cơ quan · DVC (đạt/tổng)")
    table.add_column("Thư mục / Run directory", overflow="fold", min_width=PATH_LINE)
    for r in rows:
        services = escape((r["service_ids"] or "").replace(", ", "\n"))
        table.add_row(f"{r['run_id']}\n{format_time(parse_time(r['finished_at']))}",
                      f"{escape(r['agency_code'] or '')} · {r['n_completed'] or 0}/{r['n_services']}\n{services}",
                      escape(path_lines(r["run_dir"])))
    return table


PATH_LINE = 24  # characters of a path per line in the runs table, which fits an 80-column terminal


def path_lines(path: str, width: int = PATH_LINE) -> str:
    """A path on lines broken only after a '/', so a narrow terminal never cuts a folder name."""
    lines, line = [], ""
    for part in re.split(r"(?<=/)", path):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return "\n".join(lines + [line])


def services_table(conn: sqlite3.Connection, services: list[str]) -> Table:
    """Per service its latest passing run's dossier code, that run, and any later run that did not pass."""
    passing = latest_service_runs(conn, services, completed_only=True)
    latest = latest_service_runs(conn, services, completed_only=False)
    table = Table(title="Mã số hồ sơ đạt gần nhất / Latest passing dossier code per service", title_justify="left",
                  show_lines=True)
    table.add_column("DVC")
    table.add_column("Mã số hồ sơ (lần chạy)", no_wrap=True)
    table.add_column("Ghi chú · xác nhận của VPCP / Notes · admin answer")
    answers = latest_submissions(conn)
    for sid in services:
        row = passing.get(sid) or latest.get(sid)
        if row is None:
            table.add_row(escape(sid), "[yellow]không có / not in history[/yellow]", "", "")
            continue
        codes = json.loads(row["dossier_codes_json"])
        code = (codes[-1] if codes else "—") if sid in passing else "[red]chưa đạt / none passing[/red]"
        notes = [f"kết thúc {format_time(parse_time(row['finished_at']))}"]
        if sid in passing:
            notes += [f"[red]lần chạy sau {f['run_id']} không đạt[/red]" for f in later_failures(conn, row)[:2]]
            reused = code_reused_later(conn, code, row) if codes else None
            if reused:
                notes.append(f"[yellow]mã này được dùng lại ở lần chạy {reused}[/yellow]")
        answer = answers.get(row["ma_dvc"])
        if answer:
            notes.append(f"VPCP: {OUTCOME_WORDS.get(answer['outcome'], escape(answer['outcome']))} "
                         f"{escape(answer['submitted_at'])}")
        table.add_row(f"{escape(sid)} · {escape(row['ma_dvc'])}\n{escape(row['ten_dvc'])}",
                      f"{code}\n{row['run_id']}", "\n".join(notes))
    return table


def assemble_summary(rows: list[sqlite3.Row], later: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """One summary from several runs: the newest run's header, each service from its own run."""
    newest = max(rows, key=lambda r: r["finished_sort"])
    summary = json.loads(newest["header_json"])
    summary["_run_ids"] = sorted({r["run_id"] for r in rows})
    summary["started_at"] = min((json.loads(r["header_json"])["started_at"] for r in rows), key=parse_time)
    summary["finished_at"] = max((r["finished_at"] for r in rows), key=parse_time)
    summary["services"] = []
    defects: set[str] = set()
    for r in rows:
        header = json.loads(r["header_json"])
        service = json.loads(r["service_json"])
        # a service of a merged run keeps its own run and folder (relative to the merged run's)
        inner_dir = service.get("_run_dir")
        service["_run_id"] = service.get("_run_id") or r["run_id"]
        service["_run_dir"] = str(Path(r["run_dir"]) / inner_dir) if inner_dir else r["run_dir"]
        service["_target"] = service.get("_target") or header.get("target") or {}
        service["_defects"] = service.get("_defects") or header.get("defects") or []
        service["_later_failures"] = later.get(r["service_id"], []) if later else []
        defects.update(service["_defects"])
        summary["services"].append(service)
    summary["defects"] = sorted(defects)  # every run's own, never the newest run's for all
    summary["_run_ids"] = sorted({s["_run_id"] for s in summary["services"]})
    for key in ("merged_from", "shard"):  # facts of the newest run alone, not of this assembly
        summary.pop(key, None)
    return summary


def report_from_history(services: list[str] | None = None, output: Path | None = None, language: str = "vi",
                        db: Path | None = None) -> int:
    """`kiemthu report --from-history`: xlsx, PDF and HTML from the latest completed run of each service."""
    from reports.build import build_documents
    from reports.manifest import write_manifest

    console = Console()
    try:
        labels.check_language(language)
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 2
    if not db_path(db).is_file():
        console.print(f"[red]No run history (chưa có lịch sử): {db_path(db)}[/red]")
        return 1
    with closing(connect(db)) as conn:
        wanted = list(services or known_services(conn))
        passing = latest_service_runs(conn, wanted, completed_only=True)
        latest = latest_service_runs(conn, wanted, completed_only=False)
        later = {sid: later_failures(conn, row) for sid, row in passing.items()}
    unknown = [s for s in wanted if s not in latest]
    if unknown:
        console.print(f"[red]service(s) not in history (không có trong lịch sử): {', '.join(unknown)}[/red]")
        return 1
    for sid in wanted:
        if sid not in passing:
            console.print(f"[yellow]{sid}: no completed run; using its latest run {latest[sid]['run_id']} "
                          f"(chưa có lần chạy đạt)[/yellow]")
    rows = [passing.get(sid) or latest[sid] for sid in wanted]
    out = Path(output) if output else DEFAULT_OUT / f"submission-{datetime.now(VN_TZ):%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    summary = assemble_summary(rows, later)
    for sid, failures in later.items():
        for f in failures[:1]:
            console.print(f"[yellow]{sid}: lần chạy sau {f['run_id']} ({f['finished']}) không đạt — báo cáo ghi rõ "
                          f"(a later run did not pass)[/yellow]", highlight=False)
    try:
        run = run_from_summary(summary, out)
    except (KeyError, ValueError) as exc:
        raise SummaryError(f"history: stored summary unreadable ({exc})") from None
    sources = write_sources(out, rows)
    result = build_documents(run, out, language)
    paths = [*result.paths, sources, write_manifest(out)]
    for p in paths:
        console.print(str(p), markup=False, highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"! {note}", markup=False, highlight=False, soft_wrap=True)
    return 1 if result.failed else 0


def write_sources(out: Path, rows: list[sqlite3.Row]) -> Path:
    """submission.json: which run each service of the submission comes from."""
    sources = [{"service": r["service_id"], "run_id": r["run_id"], "run_dir": r["run_dir"],
                "completed": bool(r["completed"]), "dossier_codes": json.loads(r["dossier_codes_json"])} for r in rows]
    path = out / "submission.json"
    path.write_text(json.dumps({"services": sources}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
