"""A clean run of the reference system, submitted to the mock portal's admin system while it is still up (as
`kiemthu demo --submit` does): every service is confirmed (QT-VPB-16 Bước 6: "Đối với các DVCTT hoàn thành kiểm thử
giữ nguyên trạng thái công khai"), and every rule in summary.json carries its legal source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from conformance.runner import run
from kiemthu.demo import DEMO_TARGET, demo_environment, start_reference_system
from kiemthu.runtime import make_run_dir
from kiemthu.submit import submit_run
from kiemthu.target import load_target

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_clean_run_is_submitted_and_every_service_confirmed(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("KIEMTHU_HISTORY_DB", str(tmp_path / "history.sqlite"))
    demo_environment()  # publishes the services today, through the target's report.publication_date
    target = load_target(DEMO_TARGET)
    run_dir = make_run_dir(tmp_path / "run-submitted")
    answers: list[int] = []
    console = Console(record=True, width=160)
    with start_reference_system(target, run_dir):
        code = run(target=DEMO_TARGET, output=run_dir, services=[], checks=[], headed=False, build_report=False,
                   while_portal_up=lambda rd: answers.append(submit_run(rd, console=console, rebuild=False)))
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert code == 0 and all(s["completed"] for s in summary["services"]), \
        {s["id"]: {k: c.get("reason") for k, c in s["checks"].items()} for s in summary["services"]}
    assert answers == [0], console.export_text()
    stored = json.loads((run_dir / "submission.json").read_text(encoding="utf-8"))
    answered = {s["MaDVC"]: s for s in stored["reply"]["result"]["DanhSachDichVu"]}
    assert set(answered) == {s["MaDVC"] for s in summary["services"]}
    for s in summary["services"]:
        assert answered[s["MaDVC"]]["KetQua"] == "confirmed", answered[s["MaDVC"]]
        assert [h["MaHoSo"] for h in answered[s["MaDVC"]]["HoSo"]] == s["dossier_codes"]
    rules = [r for s in summary["services"] for c in s["checks"].values() for r in c.get("rules", [])]
    assert rules and all(r.get("source") and r.get("citation_vi") and r.get("title_vi") for r in rules)
