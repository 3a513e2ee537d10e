"""The disallowed-upload probe on a wizard served on loopback, in real Chromium: a wizard that refuses the file as
it is chosen gives a pass (the refusal is on screen) without playing the rest of the submission; one that refuses
when the dossier is sent gives a pass; one that takes the file gives the accepted outcome with its dossier code."""

from __future__ import annotations

import json

import pytest

from conformance.adapter import validate_adapter
from conformance.upload_probe import disallowed_upload
from tests.conformance import wizard

pytestmark = pytest.mark.browser


def probe(browser, tmp_path, variant: str, **adapter_options):
    spec = wizard.adapter(**adapter_options)
    assert validate_adapter(spec) == []
    with wizard.serve(variant) as site:
        run = wizard.probe_run(browser, site, tmp_path, spec)
        try:
            result = disallowed_upload(run)
        finally:
            run.citizen.context.close()
    return result, site, run


def test_a_refusal_at_the_upload_step_is_a_refusal(browser, tmp_path):
    """The wizard refuses the program as it is chosen: the probe sees the refusal right after the upload step and
    stops there (the dossier is never sent), and the outcome is shared with the run's other services."""
    result, site, run = probe(browser, tmp_path, "at-upload", step_s=10)
    assert result.get("outcome") == "refused", result
    assert result["refused_at"].startswith("upload") and result["codes"] == [] and result["uploaded"] == ["TP-1"]
    assert site.posts == ["/tai-len"]  # the refused file was sent once, the dossier never
    assert run.suite.shared["upload_probe"][0] == "wizard"
    stored = json.loads((tmp_path / "evidence" / "wizard" / "submission" / "upload-probe.json").read_text(encoding="utf-8"))
    assert stored["outcome"] == "refused"


def test_without_the_refusal_marker_a_refusal_at_upload_is_skipped_saying_what_to_declare(browser, tmp_path):
    """Without `markers.upload_refused` nothing tells a refusal from a broken step: not evaluated, with the fix."""
    result, site, _ = probe(browser, tmp_path, "at-upload", step_s=0.5, marker=False)
    assert "outcome" not in result, result
    assert "stopped before the final click" in result["skipped"] and "markers.upload_refused" in result["skipped"]


def test_a_refusal_when_the_dossier_is_sent_is_a_refusal(browser, tmp_path):
    result, site, _ = probe(browser, tmp_path, "at-submit")
    assert result.get("outcome") == "refused" and "refused_at" not in result, result
    assert site.posts == ["/nop"]


def test_a_wizard_that_takes_the_program_is_caught(browser, tmp_path):
    result, site, run = probe(browser, tmp_path, "accepts")
    assert result.get("outcome") == "accepted" and result["codes"] == [wizard.CODE], result
    assert run.extra_codes == [wizard.CODE]


def test_the_refusal_words_shown_before_the_upload_prove_nothing(browser, tmp_path):
    """A hint on the upload step with the marker's words, shown before any file: not taken for a refusal."""
    result, site, _ = probe(browser, tmp_path, "accepts-hinted")
    assert result.get("outcome") == "accepted" and "refused_at" not in result, result
    assert site.posts == ["/nop"]
