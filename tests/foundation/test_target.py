"""Target files are validated before anything runs; every error names field, rule and value."""

from __future__ import annotations

import copy
import textwrap

import pytest
import yaml

from kiemthu.target import TargetError, load_target, validate_target

VALID = yaml.safe_load(textwrap.dedent("""
    version: 1
    system: {name: "Một cửa", base_url: "http://127.0.0.1:9001", agency_code: "000.00.00.G15"}
    portal:
      mode: mock
      base_url: "http://127.0.0.1:9000"
      sso_client:
        client_id: motcua
        client_secret: {env: T_SSO_SECRET}
        redirect_uris: ["http://127.0.0.1:9001/sso/callback"]
    services: [{scenario: lltp-cap-phieu.yaml}]
"""))


def write(tmp_path, data):
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_valid_target_loads_and_resolves_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("T_SSO_SECRET", "s3cr3t-value")
    target = load_target(write(tmp_path, VALID))
    assert target.secret("portal.sso_client.client_secret") == "s3cr3t-value"
    assert target.scenario_paths()[0].name == "lltp-cap-phieu.yaml"


def test_wrong_type_is_named(tmp_path):
    data = copy.deepcopy(VALID)
    data["portal"]["sso_client"]["redirect_uris"] = "http://127.0.0.1:9001/cb"
    problems = validate_target(data)
    assert any(p.startswith("portal.sso_client.redirect_uris: rule 'type'") and "http://127.0.0.1:9001/cb" in p
               for p in problems), problems


def test_unknown_key_is_named(tmp_path):
    data = copy.deepcopy(VALID)
    data["system"]["base_ulr"] = "http://x"
    problems = validate_target(data)
    assert problems == ["system: rule 'known keys only' — unknown key(s) 'base_ulr'"]


def test_missing_required_field_is_named():
    data = copy.deepcopy(VALID)
    del data["system"]["agency_code"]
    problems = validate_target(data)
    assert problems == ["system: rule 'required' — 'agency_code' is a required property"]


def test_inline_secret_is_refused_without_echoing_it(tmp_path):
    data = copy.deepcopy(VALID)
    data["portal"]["sso_client"]["client_secret"] = "hunter2-inline"
    with pytest.raises(TargetError) as err:
        load_target(write(tmp_path, data))
    text = err.value.render()
    assert "portal.sso_client.client_secret" in text and "no inline secret" in text
    assert "hunter2-inline" not in text


def test_unset_secret_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("T_SSO_SECRET", raising=False)
    with pytest.raises(TargetError) as err:
        load_target(write(tmp_path, VALID))
    assert "portal.sso_client.client_secret" in str(err.value) and "T_SSO_SECRET is not set" in str(err.value)


def test_yaml_syntax_error_gives_line(tmp_path):
    path = tmp_path / "target.yaml"
    path.write_text("version: 1\nsystem: [unclosed\n", encoding="utf-8")
    with pytest.raises(TargetError) as err:
        load_target(path)
    assert "line" in str(err.value)


def test_reference_target_is_valid(monkeypatch):
    from kiemthu.demo import DEMO_TARGET, demo_environment

    demo_environment()
    target = load_target(DEMO_TARGET)
    assert target["system"]["agency_code"] == "000.00.00.G15"
