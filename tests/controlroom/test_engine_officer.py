"""Officer in the loop: with `officer.mode: manual` the run asks, through its progress, for the back-office step
on one dossier code and waits (with a deadline) until the portal journal shows it or the officer answers
"Đã thực hiện"; an answer is still verified on the journal. In the CLI, Enter is the answer."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from conformance.progress import EnterAnswers, answer_path, read_answer
from controlroom.engine import PromptNotOpen
from kiemthu.demo import DEMO_TARGET
from kiemthu.runtime import VN_TZ, wait_until
from tests.controlroom.conftest import SERVICE, wait_state
from tests.ministry.driver import Officer

ENDED = ("finished", "error", "cancelled", "interrupted")


def manual_target(tmp_path: Path) -> Path:
    """The demo target with the officer's processing done by a person."""
    text = DEMO_TARGET.read_text(encoding="utf-8").replace("  mode: automated\n",
                                                           "  mode: manual\n  manual_deadline_s: 180\n", 1)
    path = tmp_path / "target.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def wait_prompt(manager, run_id: str):
    return wait_until(lambda: manager.prompts(run_id), 240, interval=0.2, what="the officer prompt of the run")[0]


def processing_check(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return summary["services"][0]["checks"]["processing"]


@pytest.mark.browser
@pytest.mark.slow
def test_the_run_waits_for_the_back_office_step_and_the_officers_answer(manager, tmp_path, known_secrets):
    """The prompt names the dossier code, what to do and a deadline; the officer processes the dossier in the
    reference system's back office (over HTTP, as its pages post), answers "Đã thực hiện" before the last step
    reaches the portal, and the suite verifies that step on the journal: processing passes; the prompt is gone."""
    run_id = manager.start(campaign_id="c-1", target=manual_target(tmp_path), services=[SERVICE],
                           checks=["processing"], started_by="canbo1")
    prompt = wait_prompt(manager, run_id)
    assert prompt.service_id == SERVICE and prompt.dossier_code.startswith("000.00.00.G15-")
    assert prompt.dossier_code in prompt.instruction and "Đã thực hiện" in prompt.instruction
    assert prompt.deadline is not None and prompt.deadline > datetime.now(VN_TZ)
    officer = Officer(f"http://127.0.0.1:{known_secrets['KIEMTHU_MINISTRY_PORT']}", "canbo",
                      known_secrets["KIEMTHU_OFFICER_PASSWORD"])
    for action in ("tiep-nhan", "xu-ly", "phe-duyet"):
        officer.act(prompt.dossier_code, action)
    manager.answer(run_id, prompt.id, by="canbo1")
    officer.act(prompt.dossier_code, "tra-ket-qua")
    info = wait_state(manager, run_id, ENDED)
    check = processing_check(info.run_dir)
    assert (info.state, info.exit_code, check["verdict"]) == ("finished", 0, "passed"), check.get("reason")
    assert read_answer(info.run_dir, prompt.id)["by"] == "canbo1"
    events = manager.progress(run_id)
    closed = [e for e in events if e["event"] == "prompt_closed"]
    assert [(e["id"], e["outcome"], e["answered"]) for e in closed] == [(prompt.id, "done", True)]
    assert manager.prompts(run_id) == []
    with pytest.raises(PromptNotOpen):
        manager.answer(run_id, prompt.id, by="canbo1")


@pytest.mark.browser
@pytest.mark.slow
def test_an_answer_without_the_step_on_the_portal_fails_processing_saying_so(manager, tmp_path, known_secrets):
    """"Đã thực hiện" while the portal shows nothing: the suite waits its sync deadline on the journal, then the
    processing check fails with a message naming the answer, the dossier code and the status not seen."""
    run_id = manager.start(campaign_id="c-1", target=manual_target(tmp_path), services=[SERVICE],
                           checks=["processing"], started_by="canbo1")
    prompt = wait_prompt(manager, run_id)
    manager.answer(run_id, prompt.id, by="canbo2")
    assert manager.prompts(run_id) == []  # answered: no longer shown
    info = wait_state(manager, run_id, ENDED)
    check = processing_check(info.run_dir)
    assert (info.state, info.exit_code) == ("finished", 1) and check["verdict"] in ("failed", "inconclusive")
    text = json.dumps(check, ensure_ascii=False)
    assert "canbo2" in text and "Đã thực hiện" in text and prompt.dossier_code in text, check.get("reason")
    closed = [e for e in manager.progress(run_id) if e["event"] == "prompt_closed"]
    assert [(e["outcome"], e["answered"]) for e in closed] == [("failed", True)]


def test_enter_in_the_cli_answers_the_open_prompt(tmp_path):
    """`kiemthu run` in a terminal: Enter answers the prompt open longest; a closed prompt is not answered."""
    shown: list[str] = []
    read, write = os.pipe()  # the terminal: a line arrives when the person presses Enter
    with open(read, encoding="utf-8") as keyboard, open(write, "w", encoding="utf-8") as keys:
        answers = EnterAnswers(tmp_path, stream=keyboard)
        answers.see({"event": "prompt", "id": "svc.closed", "dossier_code": "X-1"}, shown.append)
        answers.see({"event": "prompt_closed", "id": "svc.closed"}, shown.append)
        answers.see({"event": "prompt", "id": "svc.officer_process", "dossier_code": "X-2"}, shown.append)
        keys.write("\n")
        keys.flush()
        wait_until(lambda: answer_path(tmp_path, "svc.officer_process").is_file(), 10, what="the answer file")
        assert read_answer(tmp_path, "svc.officer_process")["by"]
    assert not answer_path(tmp_path, "svc.closed").exists()
    assert any("Enter" in line and "X-1" in line for line in shown)


def test_a_prompt_id_that_is_not_a_plain_name_is_refused(tmp_path):
    """An answer cannot be written outside the run's prompts folder."""
    for bad in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            answer_path(tmp_path, bad)
