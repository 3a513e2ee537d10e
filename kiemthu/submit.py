"""`kiemthu submit RUN_DIR`: send a run's test summary to the portal's admin system and keep the answer.

QT-VPB-16 Bước 4–5: the summary names, per service that completed testing, the procedure, the service and the
dossier codes. The mock portal judges it (mocks/admin.py) and answers per service; the answer is stored as
`submission.json` in the run directory and in the run history, and the reports are rebuilt to show it. The real
admin system is a web application: `--dry-run` prints exactly what would be sent (what to enter there).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiemthu.runtime import VN_TZ

SUBMISSION_FILE = "submission.json"
OUTCOME_VI = {"confirmed": "Xác nhận", "returned": "Trả lại", "refused": "Không tiếp nhận"}


class SubmitError(Exception):
    """A one-line, user-facing reason the summary cannot be sent."""


def read_summary(run_dir: Path) -> dict[str, Any]:
    from reports.model import SummaryError
    from reports.model import read_summary as read

    try:
        return read(Path(run_dir))
    except SummaryError as exc:
        raise SubmitError(str(exc)) from None


def build_submission(summary: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The KetQuaKiemThu message: every service that completed testing with its dossier codes."""
    from schemas import load_profile

    profile = load_profile(summary.get("profile"))
    services = [{"MaTTHC": s["MaTTHC"], "TenTTHC": s["TenTTHC"], "MaDVC": s["MaDVC"], "TenDVC": s["TenDVC"],
                 "DanhSachMaHoSo": list(s["dossier_codes"])}
                for s in summary["services"] if s.get("completed") and s.get("dossier_codes")]
    if not services:
        raise SubmitError(f"run {summary['run_id']}: no service completed testing with a dossier code "
                          "(không có dịch vụ nào hoàn thành kiểm thử) — nothing to submit")
    target = summary["target"]
    msg = {"MaDonVi": target["agency_code"], "TenDonVi": target.get("agency_name") or target["name"],
           "NgayGui": (now or datetime.now(VN_TZ)).strftime(profile.get("date_format", "%Y%m%d%H%M%S")),
           "MaLuotKiemThu": summary["run_id"], "DanhSachDichVu": services}
    if summary.get("tester"):
        msg["NguoiGui"] = summary["tester"]
    from schemas import validator

    errors = [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
              for e in validator(profile["admin"]["messages"]["submission"], profile["name"]).iter_errors(msg)]
    if errors:
        raise SubmitError("the summary does not make a valid submission (bài gửi không hợp lệ): " + "; ".join(errors[:3]))
    return msg


def endpoint(summary: dict[str, Any], portal_url: str | None) -> tuple[str, dict[str, str]]:
    from schemas import load_profile

    admin = load_profile(summary.get("profile"))["admin"]
    base = (portal_url or summary["target"].get("portal_url") or "").rstrip("/")
    if not base:
        raise SubmitError("no portal URL: the run's summary names none; give --portal URL")
    return base + admin["paths"]["submit_results"], {admin.get("agency_header", "dstcode"): summary["target"]["agency_code"]}


def send(url: str, headers: dict[str, str], msg: dict[str, Any], timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
    try:
        r = httpx.post(url, json=msg, headers=headers, timeout=timeout, trust_env=False)
    except httpx.HTTPError as exc:
        raise SubmitError(f"the portal at {url} does not answer ({type(exc).__name__}) — is the run's mock portal "
                          "still running? A finished demo's mock is gone: use `kiemthu demo --submit`, "
                          "`--portal URL`, or `--dry-run`") from None
    try:
        body = r.json()
    except ValueError:
        raise SubmitError(f"the portal answered HTTP {r.status_code} without JSON: {r.text[:200]!r}") from None
    return r.status_code, body


def record(run_dir: Path, url: str, msg: dict[str, Any], status: int, reply: dict[str, Any]) -> dict[str, Any]:
    """submission.json in the run directory, the history row per service, then the reports rebuilt to show it."""
    stored = {"submitted_at": datetime.now(VN_TZ).isoformat(timespec="seconds"), "portal_url": url,
              "status_code": status, "request": msg, "reply": reply}
    (Path(run_dir) / SUBMISSION_FILE).write_text(json.dumps(stored, ensure_ascii=False, indent=2), encoding="utf-8")
    from reports.history import record_submission

    record_submission(Path(run_dir), stored)
    return stored


def outcomes(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return list(((reply or {}).get("result") or {}).get("DanhSachDichVu") or [])


def print_answer(stored: dict[str, Any], console: Console) -> None:
    reply = stored["reply"]
    if reply.get("errors"):
        for e in reply["errors"]:
            console.print(f"  [red]✗[/red] {escape(e.get('field', ''))}: {escape(e.get('vi', ''))} | "
                          f"{escape(e.get('en', ''))}", highlight=False)
    table = Table(title=f"Trả lời của hệ thống quản trị — HTTP {stored['status_code']}")
    for col in ("Dịch vụ (Mã DVC)", "Kết quả", "Lý do"):
        table.add_column(col)
    for s in outcomes(reply):
        reasons = "\n".join(f"{r['vi']}" + (f" ({r['detail']})" if r.get("detail") else "") for r in s.get("LyDo", []))
        colour = "green" if s["KetQua"] == "confirmed" else "red"
        table.add_row(escape(f"{s.get('TenDVC', '')}\n{s['MaDVC']}"),
                      f"[{colour}]{OUTCOME_VI.get(s['KetQua'], s['KetQua'])}[/{colour}]", escape(reasons) or "—")
    console.print(table)


def rebuild_reports(run_dir: Path, console: Console) -> None:
    from reports.build import build_all

    try:
        build_all(run_dir)
    except Exception as exc:  # the answer is stored; a report failure must not hide it
        console.print(f"[yellow]report not rebuilt:[/yellow] {escape(str(exc))}", highlight=False)


def submit_run(run_dir: Path, portal_url: str | None = None, dry_run: bool = False,
               console: Console | None = None, rebuild: bool = True) -> int:
    """0 when every submitted service is confirmed, 1 when one is returned or refused, 2 on bad input, 3 when the
    portal cannot be reached."""
    console = console or Console()
    run_dir = Path(run_dir)
    try:
        summary = read_summary(run_dir)
        msg = build_submission(summary)
        url, headers = endpoint(summary, portal_url)
    except SubmitError as exc:
        console.print(f"[red]Không gửi được / cannot submit:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    if dry_run:
        head = " ".join(f"{k}: {v}" for k, v in headers.items())
        console.print(f"POST {url}\n{head}\nContent-Type: application/json\n", markup=False, highlight=False)
        console.print(json.dumps(msg, ensure_ascii=False, indent=2), markup=False, highlight=False, soft_wrap=True)
        console.print("\n(dry run: nothing sent — bản xem trước, chưa gửi; on the real admin system enter these "
                      "values for each service)", markup=False, highlight=False)
        return 0
    try:
        status, reply = send(url, headers, msg)
    except SubmitError as exc:
        console.print(f"[red]Không gửi được / cannot submit:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 3
    stored = record(run_dir, url, msg, status, reply)
    if rebuild:  # (a caller that builds the reports next passes rebuild=False)
        rebuild_reports(run_dir, console)
    print_answer(stored, console)
    console.print(f"Stored: {run_dir / SUBMISSION_FILE}", highlight=False)
    answers = outcomes(reply)
    return 0 if answers and all(s["KetQua"] == "confirmed" for s in answers) else 1
