"""Flows run as the adapter declares them (submit, the officer's); after the submission, the disallowed-upload probe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.adapter import FlowOutcome, PageSet
from conformance.upload_probe import disallowed_upload

if TYPE_CHECKING:
    from conformance.service import ServiceRun


def run_declared_flow(run: ServiceRun, flow: str, pages: PageSet, out: FlowOutcome) -> None:
    run.executor.run_flow(flow, pages, out)
    if flow == "submit" and out.ok:
        out.observations["dossier_code"] = run.dossier_code
        if "submission" in run.checks:  # while the citizen is still logged in
            out.observations["upload_probe"] = disallowed_upload(run)
