"""The officer's side: processing by hand (manual mode) and the portal outage injected mid-processing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kiemthu.runtime import VN_TZ, DeadlineExceeded, wait_until

from conformance.adapter import FlowOutcome

if TYPE_CHECKING:
    from conformance.service import ServiceRun

# the outage: the adapter refuses the next request (whenever the system sends it), and lapses after OUTAGE_S anyway;
# a count rather than a time span fails the same sync on a slow or a fast machine, and costs one retry interval
OUTAGE_REQUESTS, OUTAGE_S = 1, 5.0


def manual_processing(run: ServiceRun) -> FlowOutcome:
    """Ask a person to process the dossier in the back office, then wait (up to the officer's deadline) until the
    portal shows the final status, or until the person answers "Đã thực hiện"; an answer is still verified on the
    portal, and the step fails, saying so, when the portal does not show it."""
    from rich.console import Console

    from conformance.progress import prompt_id, read_answer

    out = FlowOutcome("officer_process", started=datetime.now(VN_TZ))
    out.journal_after = run.suite.sync_journal()
    run.fault = {"injected": False, "why": "manual officer mode: no outage can be timed between a person's actions"}
    code = run.dossier_code
    officer = run.suite.target.get("officer") or {}
    deadline = float(officer.get("manual_deadline_s", 1800))
    final = max(run.suite.profile["dossier_status"], key=int)
    final_name = run.suite.profile["dossier_status"][final]
    pid = prompt_id(run.id, "officer_process")
    due = datetime.now(VN_TZ) + timedelta(seconds=deadline)
    instruction = (f"Trong hệ thống một cửa «{run.suite.target['system']['name']}», xử lý hồ sơ {code} "
                   f"({run.scenario['TenDVC']}) đến trạng thái «{final_name}» (mã {final}), rồi bấm «Đã thực hiện».")
    run.suite.progress.emit("prompt", run.id, check="processing", id=pid, dossier_code=code, instruction=instruction,
                            deadline=due.isoformat(timespec="seconds"), deadline_s=deadline, status=final)
    with run.suite.uncaptured():
        Console(stderr=True).print(
            f"[bold yellow]Cần cán bộ xử lý / officer action needed[/]: in the back office of "
            f"{run.suite.target['system']['name']}, process dossier [bold]{code}[/] ({run.scenario['TenDVC']}) "
            f"through to '{final_name}' (status {final}). "
            f"Waiting up to {deadline:.0f}s, watching the portal journal…")

    def on_portal() -> bool:
        return run.hooks.portal_status(code) == final

    answer = None
    try:
        wait_until(lambda: on_portal() or read_answer(run.suite.run_dir, pid) is not None, deadline, interval=0.5,
                   what=f"dossier {code} at status {final} on the portal")
        answer = read_answer(run.suite.run_dir, pid)
        if answer is not None and not on_portal():  # the person says done: the portal must show it soon after
            wait_until(on_portal, run.suite.sync_s, interval=0.5, what=f"dossier {code} at status {final} on the portal")
        out.ok = True
    except DeadlineExceeded as exc:
        from conformance.adapter import StepFailed

        if answer is not None:
            seen = run.hooks.portal_status(code)
            error = (f"cán bộ {answer.get('by') or '?'} báo «Đã thực hiện» nhưng Cổng DVCQG không ghi nhận hồ sơ {code} "
                     f"ở trạng thái {final} ({final_name}) trong {run.suite.sync_s:.0f}s; trạng thái trên Cổng: "
                     f"{seen or 'không có'} / the officer answered 'done' but the portal does not show the step")
        else:
            error = str(exc)
        out.error = StepFailed("officer_process", "manual", "officer processes the dossier by hand", error)
    out.observations["prompt"] = {"id": pid, "answered_by": (answer or {}).get("by"), "answered": answer is not None}
    run.suite.progress.emit("prompt_closed", run.id, check="processing", id=pid, dossier_code=code,
                            outcome="done" if out.ok else "failed", answered=answer is not None)
    out.finished = datetime.now(VN_TZ)
    out.journal_until = run.suite.sync_journal()
    return out


def before_status_action(run: ServiceRun, status: str) -> None:
    """Before the second status-changing action, take the portal's adapter down for a few seconds (once per run)."""
    if "processing" not in run.checks or len(run.status_actions) != 1 or run.fault.get("injected"):
        return
    if run.suite.target["portal"]["mode"] != "mock":
        run.fault = {"injected": False, "why": "the portal is not the harness's mock: no outage can be injected"}
        return
    owner = run.suite.run_shared.claim("outage", run.id)  # once per run, whichever worker gets there first
    if owner != run.id:
        run.fault = {"injected": False, "why": f"outage case run once per run, on {owner}"}
        return
    duration = OUTAGE_S
    # the outage is this dossier's: the services running beside it keep syncing
    run.suite.portal.fault(target="adapter", kind="http_5xx", value=503, count=OUTAGE_REQUESTS,
                            duration_s=duration, dossier=run.dossier_code)
    run.suite.shared["outage_done"] = run.id
    run.fault = {"injected": True, "duration_s": duration, "requests": OUTAGE_REQUESTS, "at_status": status, "from": datetime.now(VN_TZ),
                  "journal_after": run.suite.sync_journal(), "where": "journal.json (entries with error fault:http_5xx)"}
