"""Browser traces (one file per check), the flow timeline (flows.json) and closing a service's contexts."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from kiemthu.logs import get_logger, redact

from conformance.evidence import CHECK_OF_FLOW, scrub_zip

if TYPE_CHECKING:
    from conformance.service import ServiceRun

log = get_logger("conformance")


def trace_segment(run: ServiceRun, flow: str) -> None:
    """Citizen flows are traced in chunks, one file per check; the officer's login never is (password)."""
    check = CHECK_OF_FLOW[flow]
    if flow.startswith("officer"):
        if flow == "officer_process" and run.officer and run._tracing != "officer":
            run.officer.context.tracing.start(snapshots=True, screenshots=False, sources=False)
            run._tracing = "officer"
        return
    if run.citizen is None:
        return
    if run._tracing == check:
        return
    ctx = run.citizen.context
    if run._tracing is not None:
        save_trace(run, ctx, run._tracing)
    ctx.tracing.start_chunk(title=f"run {run.suite.run_id} — {run.id} / {check}")
    run._tracing = check


def save_trace(run: ServiceRun, ctx, check: str, final: bool = False) -> None:
    path = run.suite.evidence.trace_path(run.id, check)
    t0 = time.monotonic()
    try:
        (ctx.tracing.stop if final else ctx.tracing.stop_chunk)(path=str(path))
        scrub_zip(path, run.suite.secrets())
        run.suite.evidence.add_file(run.id, check, path)
        log.debug("trace %s/%s saved in %.2fs", run.id, check, time.monotonic() - t0)
    except Exception as exc:
        log.warning("trace of %s/%s not saved: %s", run.id, check, exc)


def flush_traces(run: ServiceRun, check: str) -> None:
    """Save the trace of `check` now, so the test can attach it."""
    if check == "processing" and run.officer is not None and run._tracing == "officer":
        save_trace(run, run.officer.context, "processing", final=True)
        run._tracing = None
    elif run.citizen is not None and run._tracing == check:
        save_trace(run, run.citizen.context, check)
        run._tracing = None


def timeline(run: ServiceRun) -> list[dict[str, Any]]:
    """Every flow with its steps and durations (written as evidence/<service>/flows.json)."""
    out = []
    for name, f in run.flows.items():
        out.append({"flow": name, "ok": f.ok, "skipped": f.skipped, "error": str(f.error) if f.error else None,
                    "started": f.started.isoformat() if f.started else None,
                    "finished": f.finished.isoformat() if f.finished else None, "steps": f.steps})
    return out


def close(run: ServiceRun) -> None:
    try:
        path = run.suite.run_dir / "evidence" / run.id / "flows.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"run_id": run.suite.run_id, "service": run.id, "flows": timeline(run)}
        path.write_text(redact(json.dumps(data, ensure_ascii=False, indent=2, default=str)), encoding="utf-8")
    except Exception as exc:
        log.warning("flows.json of %s not written: %s", run.id, exc)
    if run.citizen is not None:
        if run._tracing and run._tracing != "officer":
            save_trace(run, run.citizen.context, run._tracing)
        try:
            run.citizen.context.tracing.stop()
        except Exception:
            pass
        run.citizen.context.close()
    if run.officer is not None:
        if run._tracing == "officer":
            save_trace(run, run.officer.context, "processing", final=True)
        run.officer.context.close()
    run.citizen = run.officer = None
