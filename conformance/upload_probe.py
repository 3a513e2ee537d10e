"""The disallowed-upload probe: the submit flow once more, in a fresh tab of the logged-in citizen, with every
uploaded document replaced by a file the system must refuse (by default a program: `.exe`, starting with `MZ`).

Refused when the `upload_refused` marker shows right after an upload step (a wizard that refuses the file as it is
chosen: the probe stops there), or when, once the page after the final click has loaded, no dossier code shows
within a short deadline and the portal receives no dossier sync for a new code; accepted when either appears. It tests the system's upload
handling, not a service, so it runs once per run (on the first service that submits) and the other services reuse
the outcome. Nothing of it is screenshotted unless it goes wrong.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

from kiemthu.logs import get_logger
from kiemthu.runtime import DeadlineExceeded, wait_until

from conformance.adapter import Executor, FlowOutcome, PageSet, Variables
from conformance.journal import data_items

log = get_logger("conformance")
WAIT_S = 2.0  # after the page has loaded: a receipt shows its code at once, a refusal shows no code at all
PROGRAM = b"MZ" + b"\x90" * 62 + b"kiemthu upload probe - not a program\r\n"  # inert, but typed by content as a PE
DOSSIER_SERVICE = "DongBoHoSoMC"


# after an upload step: how long a request the upload started may take to show, and the refusal to render
REQUEST_GRACE_S, RENDER_S = 0.15, 0.2


class RefusedAtUpload(Exception):
    """The refusal marker showed right after an upload step: the probe need not go on."""

    def __init__(self, step: dict):
        self.step = step
        super().__init__("refused at the upload step")


class _Quiet:
    """Executor hooks for the probe: no screenshot per step, no status bookkeeping (the probe shoots its failures);
    after each upload step, a look for the refusal (once the requests the upload started have been answered)."""

    def __init__(self, page=None, refused=None, page_s: float = 15.0):
        self.page, self.refused, self.page_s = page, refused, page_s
        self.in_flight: set = set()
        self.started = 0.0
        self.shown_before = False

    def screenshot(self, page, flow: str, label: str) -> None:
        return None

    def portal_status(self, code: str) -> None:
        return None

    def before_step(self, flow: str, step: dict) -> None:
        if "upload" in step and self.page is not None and self.refused is not None:
            # a page that shows the marker's text before any file (a hint about formats) tells nothing by it
            self.shown_before = self._shown()
            self.in_flight.clear()
            self.page.on("request", self._sent)
            self.page.on("requestfinished", self._ended)
            self.page.on("requestfailed", self._ended)
            self.started = time.monotonic()

    def after_step(self, flow: str, step: dict) -> None:
        if "upload" not in step or self.page is None or self.refused is None or self.shown_before:
            if "upload" in step and self.page is not None and self.refused is not None:
                self._stop_listening()
            return
        try:
            def settled():
                if self._shown():
                    return "refused"
                quiet = not self.in_flight and time.monotonic() - self.started >= REQUEST_GRACE_S
                return "settled" if quiet else None

            seen = wait_until(settled, self.page_s, interval=0.05, what="the upload's requests answered")
            if seen == "settled":  # answered: a refusal renders at once, or not at all
                seen = wait_until(lambda: "refused" if self._shown() else None, RENDER_S,
                                  interval=0.05, what="the refusal")
        except DeadlineExceeded:
            seen = None
        finally:
            self._stop_listening()
        if seen == "refused":
            raise RefusedAtUpload(step)

    def _shown(self) -> bool:
        try:
            return self.refused.is_visible()
        except Exception:
            return False

    def _stop_listening(self) -> None:
        for event, handler in (("request", self._sent), ("requestfinished", self._ended), ("requestfailed", self._ended)):
            with contextlib.suppress(Exception):
                self.page.remove_listener(event, handler)

    def _sent(self, request) -> None:
        self.in_flight.add(request)

    def _ended(self, request) -> None:
        self.in_flight.discard(request)


def disallowed_upload(run) -> dict[str, Any]:
    """The probe's outcome for `run` (played once per run, then reused): {outcome, file, codes, where, seconds}
    or {skipped}."""
    suite = run.suite
    if "upload_probe" in suite.shared:
        first, result = suite.shared["upload_probe"]
        return {**result, "note": f"evaluated on {first}"}
    elsewhere = suite.run_shared.played_elsewhere("upload_probe", run.id, suite.sync_s + 4 * suite.page_s)
    if elsewhere and elsewhere[1].get("outcome"):  # another worker process played it (once per run)
        suite.shared["upload_probe"] = elsewhere
        return {**elsewhere[1], "note": f"evaluated on {elsewhere[0]}"}
    t0 = time.monotonic()
    try:
        result = _probe(run)
    except Exception as exc:  # the probe is an extra case: its breakage must not break the genuine submission
        log.warning("disallowed-upload probe on %s failed: %s", run.id, exc)
        result = {"skipped": f"the probe could not run: {type(exc).__name__}: {str(exc)[:200]}"}
    result["seconds"] = round(time.monotonic() - t0, 2)
    log.info("disallowed-upload probe on %s: %s in %.2fs", run.id, result.get("outcome") or "skipped", result["seconds"])
    suite.evidence.write_json(run.id, "submission", "upload-probe.json", result)
    if result.get("outcome"):
        suite.shared["upload_probe"] = (run.id, result)
    if elsewhere is None:  # this service claimed the case: the other worker processes wait for its outcome
        suite.run_shared.publish("upload_probe", result)
    return result


def _probe(run) -> dict[str, Any]:
    suite, adapter = run.suite, run.suite.adapter
    config = (adapter.get("probes") or {}).get("disallowed_upload", True)
    if config is False:
        return {"skipped": "turned off by the adapter (probes.disallowed_upload: false)"}
    config = config if isinstance(config, dict) else {}
    steps = (adapter.get("flows") or {}).get("submit") or []
    captures = [i for i, s in enumerate(steps) if (s.get("capture") or {}).get("name") == "dossier_code"]
    last = captures[-1] if captures else None
    deep_link = (adapter.get("pages") or {}).get("deep_link")
    if last is None or not deep_link or run.citizen is None:
        return {"skipped": "needs the deep_link page, a logged-in citizen and a submit flow that captures dossier_code"}
    bad, generated = _disallowed_file(run, config)
    if not bad.is_file():
        return {"skipped": f"adapter.probes.disallowed_upload.file: {bad} not found"}
    # every document uploaded, none taken from Kho DL; inventories and named screenshots are the genuine flow's
    probe_steps = [_without_khodl(s) for s in steps[:last] if not {"inventory", "screenshot_as"} & set(s)]
    known = {c for r in suite.runs.values() for c in [r.dossier_code, *r.extra_codes] if c}
    before = suite.sync_journal()
    page = run.citizen.context.new_page()
    marker = (adapter.get("markers") or {}).get("upload_refused")
    quiet = _Quiet(page, None, suite.page_s)
    ex = Executor({**adapter, "flows": {"submit": probe_steps}}, Variables(**run.vars.data), scenario=run.scenario,
                  identity=run.identity, base_dir=run.executor.base_dir, hooks=quiet, sample_file=lambda doc: bad)
    if marker:
        quiet.refused = ex.locate(page, marker, "adapter.markers.upload_refused").first
    try:
        pages = PageSet(page)
        with run.login_lock:  # a login round trip of this citizen: not while a negative case is armed for it
            page.goto(run.vars.expand(deep_link, "adapter.pages.deep_link"))
            opened = ex.marker("service_form", pages, timeout_s=suite.page_s)
        refused_at = None
        out = None
        if opened is not False:
            out = FlowOutcome("submit")
            try:
                ex.run_flow("submit", pages, out)
            except RefusedAtUpload as exc:
                refused_at = ex.describe(exc.step)
        if refused_at is None and out is not None and not out.ok and quiet.refused is not None and \
                out.observations.get("uploaded") and not quiet.shown_before and quiet._shown():
            refused_at = f"{out.error.description} (stopped after the upload, the refusal on screen)"
        if refused_at is None and (out is None or not out.ok):
            where = suite.evidence.screenshot(page, run.id, "submission", "upload-probe-stopped")
            hint = "" if marker else "; declare markers.upload_refused so a refusal at the upload step is recognised"
            return {"skipped": f"the probe's submission stopped before the final click: "
                               f"{out.error if out else 'the service form did not open'}{hint}", "where": where}
        if not out.observations.get("uploaded"):
            return {"skipped": "the submit flow uploads no document"}
        code = None if refused_at else \
            _code_shown(ex, page, steps[last]["capture"], float(config.get("wait_s", WAIT_S)), suite.page_s)
        # dossiers of this procedure only: services running beside the probe sync their own meanwhile
        synced = {item.get("MaHoSo") for e in suite.portal.journal(after_id=before) if e.get("service") == DOSSIER_SERVICE
                  for item in data_items(e) if item.get("MaHoSo") and item.get("MaTTHC") == run.scenario["MaTTHC"]}
        codes = sorted(({code} | synced if code else synced) - known)
        result = {"outcome": "accepted" if codes else "refused", "file": bad.name,
                  "codes": codes, "uploaded": out.observations["uploaded"],
                  "where": f"evidence/{run.id}/submission/trace.zip"}
        if refused_at and not codes:
            result["refused_at"] = refused_at
        if codes:
            result["where"] = suite.evidence.screenshot(page, run.id, "submission", "upload-probe-accepted")
            for c in codes:
                run.extra_codes.append(c)
                run.extra_notes[c] = (f"Hồ sơ {c} được tạo khi thử nộp tệp không được phép ({bad.name}) "
                                      f"(dossier created by the disallowed-upload probe: the system accepted the file).")
        return result
    finally:
        page.close()
        if generated:
            bad.unlink(missing_ok=True)
            for folder in (bad.parent, bad.parent.parent):  # evidence/tmp/<service>, then evidence/tmp when empty
                try:
                    folder.rmdir()
                except OSError:
                    pass


def _disallowed_file(run, config: dict) -> tuple[Path, bool]:
    """The adapter's file, or a generated one in the run's evidence/tmp (removed after the probe)."""
    if config.get("file"):
        return (run.executor.base_dir / run.vars.expand(config["file"], "adapter.probes")).resolve(), False
    folder = run.suite.run_dir / "evidence" / "tmp" / run.id  # the service's own: probes may run side by side
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "to-khai.exe"
    path.write_bytes(PROGRAM)
    return path, True


def _without_khodl(step: dict) -> dict:
    if "upload" in step and "khodl" in step["upload"]:
        return {**step, "upload": {k: v for k, v in step["upload"].items() if k != "khodl"}}
    return step


def _code_shown(ex: Executor, page, capture: dict, wait_s: float, page_s: float) -> str | None:
    """The dossier code the page shows within `wait_s` of loading, None if none (or the refusal marker) shows."""
    where = "adapter.flows.submit (capture)"
    try:
        page.wait_for_load_state("load", timeout=page_s * 1000)
    except Exception:
        pass
    rx = re.compile(ex.vars.expand(capture["pattern"], where))
    source = (ex.locate(page, capture["from"], where) if capture.get("from") else page.locator("body")).first
    refusal = (ex.adapter.get("markers") or {}).get("upload_refused")
    refused = ex.locate(page, refusal, "adapter.markers.upload_refused").first if refusal else None

    def seen():
        if refused is not None and refused.is_visible():
            return ("refused", None)
        if source.count():
            m = rx.search(source.inner_text(timeout=500) or "")
            if m:
                return ("code", m.group(1) if m.groups() else m.group(0))
        return None

    try:
        return wait_until(seen, wait_s, interval=0.1, what="a dossier code or the refusal")[1]
    except DeadlineExceeded:
        return None
