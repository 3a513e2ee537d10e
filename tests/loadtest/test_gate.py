"""Go-live gate on synthetic Locust statistics: a failing gate names the threshold it broke."""

from __future__ import annotations

import csv

from loadtest.gate import evaluate_gate, failed_names, gate_passed, read_stats_csv

HEADER = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
          "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
          "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]


def write_stats(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for method, name, n, fails, p95, rps in rows:
            w.writerow([method, name, n, fails, p95 / 2, p95 / 2, 1, p95 * 2, 100, rps, 0,
                        p95 / 2, 0, 0, 0, 0, p95, 0, p95, 0, 0, p95 * 2])
    return path


def stats(tmp_path):
    return read_stats_csv(write_stats(tmp_path / "run_stats.csv", [
        ("GET", "sso: authorize", 100, 0, 40, 10.0),
        ("POST", "submit: step 2", 100, 2, 900, 10.0),
        ("GET", "submit: step 2", 50, 0, 1200, 5.0),
        ("", "Aggregated", 250, 2, 700, 25.0),
    ]))


def test_all_thresholds_met(tmp_path):
    gate = {"p95_ms": {"sso: authorize": 100, "Aggregated": 1000}, "max_error_rate": 0.01, "min_rps": 20}
    verdicts = evaluate_gate(gate, stats(tmp_path))
    assert gate_passed(verdicts), [v.message for v in verdicts]
    assert {v.name for v in verdicts} == {"p95_ms[sso: authorize]", "p95_ms[Aggregated]", "max_error_rate", "min_rps"}


def test_p95_breach_names_the_step_and_uses_the_worst_method(tmp_path):
    verdicts = evaluate_gate({"p95_ms": {"submit: step 2": 1000}}, stats(tmp_path))
    assert failed_names(verdicts) == ["p95_ms[submit: step 2]"]
    assert verdicts[0].actual == 1200
    assert "submit: step 2" in verdicts[0].message and "1000" in verdicts[0].message


def test_error_rate_and_throughput_breaches(tmp_path):
    verdicts = evaluate_gate({"max_error_rate": 0.001, "min_rps": 30}, stats(tmp_path))
    assert failed_names(verdicts) == ["max_error_rate", "min_rps"]
    assert "2/250" in verdicts[0].message
    assert verdicts[1].actual == 25.0


def test_gate_on_a_step_that_never_ran_fails(tmp_path):
    verdicts = evaluate_gate({"p95_ms": {"pay: confirm": 500}}, stats(tmp_path))
    assert not gate_passed(verdicts)
    assert "no requests recorded" in verdicts[0].message


def test_no_requests_at_all_fails_error_rate(tmp_path):
    empty = read_stats_csv(write_stats(tmp_path / "e_stats.csv", [("", "Aggregated", 0, 0, 0, 0.0)]))
    verdicts = evaluate_gate({"max_error_rate": 0.5, "min_rps": 1}, empty)
    assert failed_names(verdicts) == ["max_error_rate", "min_rps"]


def test_reconciliation_counts_fail_the_gate(tmp_path):
    recon = {"lost": 3, "duplicated": 0, "inconsistent": 1, "checked_dossiers": 40, "checked_payments": 10}
    verdicts = evaluate_gate({}, stats(tmp_path), reconciliation=recon)
    assert failed_names(verdicts) == ["reconciliation"]
    assert "3 lost" in verdicts[0].message and "1 inconsistent" in verdicts[0].message
    assert gate_passed(evaluate_gate({"reconciliation": False}, stats(tmp_path), reconciliation=recon))


def test_journeys_per_minute_threshold(tmp_path):
    verdicts = evaluate_gate({"min_journeys_per_min": 60}, stats(tmp_path), journeys_per_min=42.0)
    assert failed_names(verdicts) == ["min_journeys_per_min"]


def test_reads_a_real_locust_header_with_na_percentiles(tmp_path):
    p = tmp_path / "x_stats.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerow(["GET", "idle", 0, 0, 0, 0, 0, 0, 0, 0, 0] + ["N/A"] * 11)
    rows = read_stats_csv(p)
    assert rows[0].p95_ms is None and rows[0].requests == 0
