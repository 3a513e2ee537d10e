"""The `load` section: schema validation, defaults, command-line overrides."""

from __future__ import annotations

import pytest

from loadtest.settings import LoadConfigError, parse_duration, resolve_settings


def target(load=None, officer=True):
    data = {
        "version": 1,
        "system": {"name": "x", "base_url": "http://127.0.0.1:9001/", "agency_code": "000.00.00.G15"},
        "portal": {"mode": "mock", "base_url": "http://127.0.0.1:9000"},
        "services": [{"scenario": "lltp-cap-phieu.yaml"}, {"scenario": "khai-sinh.yaml"}],
    }
    if officer:
        data["officer"] = {"username": "canbo", "password": {"env": "X_OFFICER"}}
    if load is not None:
        data["load"] = load
    return data


def test_defaults_without_a_load_section():
    s = resolve_settings(target())
    assert (s.users, s.spawn_rate, s.duration_s) == (10, 5.0, 30.0)
    assert s.weights == {"citizen": 3, "officer": 0, "portal": 0}  # no back office declared
    assert s.services == []  # every service of the target
    assert s.outbox_url == "http://127.0.0.1:9001/van-hanh/outbox.json"


def test_options_override_the_file_and_back_office_takes_officer_credentials():
    s = resolve_settings(target({"users": 50, "duration": "2m", "back_office": {
        "login_path": "/can-bo/dang-nhap", "list_path": "/can-bo/ho-so"}}), users=4, duration="15s")
    assert (s.users, s.duration_s) == (4, 15.0)
    assert s.weights["officer"] == 1
    assert s.back_office["username"] == "canbo" and s.back_office["password"] == {"env": "X_OFFICER"}


def test_schema_problems_name_the_field():
    with pytest.raises(LoadConfigError) as exc:
        resolve_settings(target({"users": 0, "gate": {"p95": {}}, "journeys": {"citizen": {"weight": -1}}}))
    text = str(exc.value)
    assert "load.users" in text and "load.gate" in text and "'p95'" in text and "load.journeys.citizen.weight" in text


def test_duration_bounds_and_format():
    assert parse_duration("1h30m") == 5400 and parse_duration(12) == 12 and parse_duration("7") == 7
    with pytest.raises(LoadConfigError, match="max_duration_s"):
        resolve_settings(target({"max_duration_s": 60}), duration="5m")
    with pytest.raises(LoadConfigError, match="duration"):
        resolve_settings(target(), duration="soon")


def test_officer_weight_without_back_office_is_refused():
    with pytest.raises(LoadConfigError, match="back_office"):
        resolve_settings(target({"journeys": {"officer": {"weight": 2}}}))


def test_all_weights_zero_is_refused():
    with pytest.raises(LoadConfigError, match="nothing to run"):
        resolve_settings(target({"journeys": {"citizen": {"weight": 0}}}))


def test_faults_sorted_and_outbox_absolute_url():
    s = resolve_settings(target({
        "outbox": {"url": "http://127.0.0.1:7000/q.json"},
        "faults": [{"at_s": 9, "target": "adapter", "kind": "http_5xx", "value": 503, "duration_s": 3},
                   {"at_s": 2, "target": "payment", "kind": "latency", "value": 100}]}))
    assert [f["at_s"] for f in s.faults] == [2, 9]
    assert s.outbox_url == "http://127.0.0.1:7000/q.json"
