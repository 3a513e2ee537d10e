"""Every verdict cites the law: each rule has a catalogue entry (conformance/rules/catalogue.yaml) whose source is
in the sources table of docs/domain/, with a Vietnamese title and citation; no "DOMAIN x.y" reference pointing
outside the repository remains in the tracked files."""

from __future__ import annotations

import inspect
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conformance.requirements import table
from conformance.rules import core, payment, processing, sso, submission
from conformance.rules.core import Checker, RuleViolation, rule

ROOT = Path(__file__).resolve().parents[2]
RULES = [fn for m in (sso, submission, payment, processing) for _, fn in inspect.getmembers(m, inspect.isfunction)
         if getattr(fn, "is_rule", False)]


def source_ids(path: Path) -> list[str]:
    """The ids of the sources table (the table after the 'Nguồn' / 'Sources' heading)."""
    text = path.read_text(encoding="utf-8").split("## 4.", 1)[1]
    return re.findall(r"^\| `([A-Z0-9-]+)` \|", text, re.M)


def test_the_sources_table_is_the_same_in_vietnamese_and_english():
    vi, en = source_ids(ROOT / "docs/domain/README.md"), source_ids(ROOT / "docs/domain/README.en.md")
    assert len(vi) >= 10 and vi == en
    assert {"QT-VPB-16", "TT01-2018", "QD31-2021", "ND42-2022", "CV8025", "CV5632", "OIDC-CORE", "RFC6749",
            "OBSERVED"} <= set(vi)


def test_every_rule_has_a_catalogue_entry_whose_source_is_in_the_table():
    book = yaml.safe_load((ROOT / "conformance/rules/catalogue.yaml").read_text(encoding="utf-8"))
    known = set(source_ids(ROOT / "docs/domain/README.md"))
    assert len(RULES) >= 50
    for fn in RULES:
        entry = book.get(fn.rule_id)
        assert entry, f"{fn.rule_id}: no catalogue entry"
        assert entry["source"] in known, f"{fn.rule_id}: source {entry['source']} is not in docs/domain/"
        assert entry["article"] and entry["title_vi"] and entry["citation_vi"], fn.rule_id
        assert fn.clause and "DOMAIN" not in fn.clause and fn.legal["source"] == entry["source"]
    # every id in the catalogue is a rule (or a `complete_*` flow finding): no stale entries
    ids = {fn.rule_id for fn in RULES}
    assert {k for k in book if not k.startswith("complete_")} == ids


def test_a_result_carries_source_vietnamese_title_and_citation():
    c = Checker(where="evidence/x/")
    c.require(submission.ensure_dossier_code_format, "BAD", "000.00.00.G15", __import__("datetime").date(2026, 12, 2),
              {"pattern": r"^(?P<agency>x)-(?P<date>[0-9]{6})-(?P<seq>[0-9]{4})$", "date_format": "%y%m%d"})
    out = c.results[0].as_dict()
    assert out["verdict"] == "failed" and out["source"] == "TT01-2018"
    assert out["citation_vi"] == "Thông tư 01/2018/TT-VPCP, Điều 19 khoản 1"
    assert out["title_vi"].startswith("Mã số hồ sơ")
    # a flow that could not be completed is cited too, through the complete_flow entry
    c.record_error("complete_submit", "Hà Giang testing procedure §3.1 test content (2)", "Every step", "x", "y")
    assert c.results[-1].as_dict()["source"] == "HG-KTDVC"


def test_a_rule_missing_from_the_catalogue_keeps_its_english_title():
    @rule("Somewhere §1", "A rule nobody catalogued")
    def ensure_uncatalogued() -> None:
        raise RuleViolation("a", "b")

    c = Checker()
    c.require(ensure_uncatalogued)
    out = c.results[0].as_dict()
    assert out["title"] == "A rule nobody catalogued" and "title_vi" not in out and "source" not in out


def test_the_requirements_table_lists_source_and_vietnamese_title_and_is_current():
    text = table()
    assert "| check | rule | source | clause | nội dung (tiếng Việt) |" in text
    assert "| submission | `ensure_dossier_code_format` | TT01-2018 | TT 01/2018/TT-VPCP Art. 19(1) |" in text
    assert (ROOT / "conformance/REQUIREMENTS.md").read_text(encoding="utf-8") == text, \
        "REQUIREMENTS.md is stale: python -m conformance.requirements > conformance/REQUIREMENTS.md"


def test_no_tracked_file_points_to_domain_sections_outside_the_repo():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    pattern = re.compile("DOMAIN" + r" [0-9]|\.\./shared/|DOMAIN\.md")  # split so this file does not match itself
    hits = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".png", ".pdf", ".zip", ".ttf", ".sqlite") or not path.is_file():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="ignore").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{name}:{n}: {line.strip()[:100]}")
    assert hits == []
