"""report.html: one file that opens from disk, makes no network call, and links the run's files relatively."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import RULE_NOT_EVALUATED, BUILD_DAY, requests_made_opening
from reports.model import load_run
from reports.webpage import build_html


class Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.fetched = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        for key in ("src", "srcset", "data"):
            if key in a:
                self.fetched.append(a[key])
        if tag == "link" and "href" in a:
            self.fetched.append(a["href"])


def refs(page: Path) -> Refs:
    parser = Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_no_network_and_single_file(built_run):
    page = (built_run / "report.html").read_text(encoding="utf-8")
    parsed = refs(built_run / "report.html")
    assert parsed.fetched == []  # no scripts, images, stylesheets or frames loaded from anywhere
    assert "default-src 'none'" in page  # and a policy that would block them
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", page)
    assert not [h for h in parsed.links if h.startswith(("http:", "https:", "//"))]


def test_links_to_evidence_are_relative_and_exist(built_run):
    links = refs(built_run / "report.html").links
    evidence = [h for h in links if h.startswith("evidence/")]
    assert "evidence/ket-hon/processing/trace.zip" in evidence
    assert len(evidence) == 19
    assert all((built_run / unquote(h)).is_file() for h in evidence)
    assert {"junit.xml", "summary.json", "journal.jsonl", "manifest.json"} <= set(links)


def test_content_and_allure_note(built_run):
    page = (built_run / "report.html").read_text(encoding="utf-8")
    assert "Mã số hồ sơ đã hoàn thành kiểm thử" in page and "000.00.00.G15-261116-0001" in page
    assert "Báo cáo Allure: chưa tạo được" in page  # the generator is switched off in these tests
    assert "adapter: 3" not in page and "Số bản ghi theo vai trò" not in page  # tool internals stay out


def test_load_summary_is_linked_when_present(run_dir):
    (run_dir / "load").mkdir()
    load = {"target": {"name": "BTP"}, "gate": {"passed": True, "thresholds": [{"name": "p95"}]},
            "run": {"users": 50, "duration_s": 60}, "throughput": {"rps": 12.5, "error_rate": 0.0}}
    (run_dir / "load" / "summary.json").write_text(json.dumps(load), encoding="utf-8")
    build_html(load_run(run_dir), run_dir / "report.html", "vi", BUILD_DAY)
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "load/summary.json" in refs(run_dir / "report.html").links
    assert "Tóm tắt kiểm thử tải" in page
    assert "<th>gate.passed</th><td>True</td>" in page and "<th>throughput.rps</th><td>12.5</td>" in page


def test_missing_evidence_is_flagged_not_linked(run_dir):
    (run_dir / "evidence" / "ket-hon" / "processing" / "trace.zip").unlink()
    build_html(load_run(run_dir), run_dir / "report.html", "vi", BUILD_DAY)
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "evidence/ket-hon/processing/trace.zip" not in refs(run_dir / "report.html").links
    assert "evidence/ket-hon/processing/trace.zip <em>(không tìm thấy)</em>" in page


@pytest.mark.browser
def test_opens_from_disk_in_a_browser_without_network(built_run):
    assert requests_made_opening(built_run / "report.html") == []


def test_a_rule_not_verified_shows_why(run_dir):
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    payment = summary["services"][0]["checks"]["payment"]
    payment["rules"].append({"rule_id": "ensure_24h_clock_verifiable", "clause": "Observed integrations: ThoiGianGD, 12-hour clock defect seen",
                             "title": "ThoiGianGD at an hour where a 12-hour clock would differ", "verdict": RULE_NOT_EVALUATED,
                             "note": "Không kiểm chứng được đồng hồ 24 giờ: giao dịch lúc 09:30 giờ Việt Nam"})
    (run_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    build_html(load_run(run_dir), run_dir / "report.html", "vi", BUILD_DAY)
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "giao dịch lúc 09:30 giờ Việt Nam" in page
