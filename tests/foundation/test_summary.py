"""The demo's terminal summary stays readable at 80 columns (a CI log, many terminals): every header and every
verdict is shown whole, never cut to "Tha…" or "Hoàn thà…"."""

from __future__ import annotations

import io

from rich.console import Console

from kiemthu.demo import CHECK_COLUMNS, VERDICT_WORDS, print_summary

HEADERS = ["Mã số hồ sơ", "Hoàn thành", *[header for _, header in CHECK_COLUMNS]]
VERDICTS = ["passed", "passed_with_exceptions", "warning", "failed", "inconclusive", "not_applicable",
            "not_evaluated", "error"]


def summary() -> dict:
    """Every verdict at least once, with the longest service ids and dossier codes of the demo."""
    services = []
    for i in range(0, len(VERDICTS), 4):
        checks = {key: {"verdict": VERDICTS[(i + n) % len(VERDICTS)], "unverified": [{"rule_id": "ensure_24h_clock_verifiable", "variant": None}]}
                  for n, (key, _) in enumerate(CHECK_COLUMNS)}
        services.append({"id": f"lltp-cap-phieu-{i}", "MaDVC": "1.001234.000.00.00.G15",
                         "dossier_codes": ["000.00.00.G15-261202-0001", "000.00.00.G15-261202-0002"],
                         "checks": checks, "completed": i == 0})
    return {"run_id": "20261202-083000-ab12", "services": services}


def render(width: int) -> str:
    out = io.StringIO()
    print_summary(summary(), Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_at_80_columns_every_header_and_verdict_is_whole():
    text = render(80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "…" not in text
    for header in HEADERS:
        assert header in text, header
    for verdict in VERDICTS:
        assert VERDICT_WORDS[verdict][0] in text, verdict
    assert "Đạt, trừ: đồng hồ 24 giờ của ThoiGianGD" in text  # named in Vietnamese, never by its id
    assert "000.00.00.G15-261202-0002" in text


def test_columns_80_from_the_environment_is_honoured(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = io.StringIO()
    print_summary(summary(), Console(file=out, color_system=None))
    assert all(len(line) <= 80 for line in out.getvalue().splitlines())
    assert "Không kết luận được" in out.getvalue() and "Hoàn thành" in out.getvalue()


def test_a_wide_terminal_gets_the_table():
    text = render(220)
    assert "┃" in text or "│" in text  # the table's column rules
    for header in HEADERS:
        assert header in text
    assert "…" not in text
