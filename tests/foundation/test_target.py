"""Target files are validated before anything runs; every error names field, rule and value."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

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


def alias_bomb(levels: int, width: int = 9) -> str:
    lines = ['version: 1', 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels + 1):
        refs = ", ".join(f"*a{i - 1}" for _ in range(width))
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_refused_fast(tmp_path):
    """Rule: a YAML document whose aliases expand past the size limit is refused before it is built, quickly
    (an 8-level bomb stands for 9^9 values)."""
    import time

    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(8), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(TargetError) as err:
        load_target(path)
    assert time.monotonic() - started < 2
    assert str(path) in str(err.value) and "bounded YAML" in str(err.value) and "alias" in str(err.value)


def test_aliases_within_the_limit_are_fine(tmp_path, monkeypatch):
    """Rule: ordinary aliases (a shared list reused twice) are expanded as usual."""
    monkeypatch.setenv("T_SSO_SECRET", "s3cr3t-value")
    text = write(tmp_path, VALID).read_text(encoding="utf-8")
    text = text.replace("redirect_uris:\n    - http://127.0.0.1:9001/sso/callback",
                        "redirect_uris: &cb\n    - http://127.0.0.1:9001/sso/callback\n    post_logout_redirect_uris: *cb")
    path = tmp_path / "aliases.yaml"
    path.write_text(text, encoding="utf-8")
    target = load_target(path)
    assert target["portal"]["sso_client"]["post_logout_redirect_uris"] == ["http://127.0.0.1:9001/sso/callback"]


def test_recursive_alias_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("version: 1\nsystem: &s {name: x, self: *s}\n", encoding="utf-8")
    with pytest.raises(TargetError) as err:
        load_target(path)
    assert str(path) in str(err.value)


def test_oversized_file_refused(tmp_path):
    """Rule: a target file is at most 1 MiB; a larger one is refused naming the file and the limit."""
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\n# " + "x" * (1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(TargetError) as err:
        load_target(path)
    assert str(path) in str(err.value) and "file size" in str(err.value) and "1048576" in str(err.value)


@pytest.mark.parametrize("content, rule", [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text file"),
                                           (b"system: {name: 'H\xe0 N\xf4i'}\n", "UTF-8 text"),
                                           ("system: {name: 'Một cửa'}\n".encode("utf-16"), "text file")])
def test_binary_or_non_utf8_file_refused_naming_it(tmp_path, content, rule):
    """Rule: a binary or non-UTF-8 file is refused with a message naming the file (no traceback)."""
    path = tmp_path / "target.yaml"
    path.write_bytes(content)
    with pytest.raises(TargetError) as err:
        load_target(path)
    assert str(path) in err.value.render() and rule in err.value.render()


def test_cli_reports_a_binary_target_without_traceback(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "target.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    kiemthu = Path(sys.executable).with_name("kiemthu")
    r = subprocess.run([str(kiemthu), "mock", "--target", str(path), "--port", "9"], capture_output=True,
                       text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 2 and "Traceback" not in out and path.name in out and "text file" in out, out


@pytest.mark.parametrize("var, value", [("KIEMTHU_SSO_CLIENT_SECRET", "another-value-entirely"),
                                        ("KIEMTHU_SOMETHING", "s3cr3t-value")])
def test_secret_expanded_into_a_plain_field_refused(tmp_path, monkeypatch, var, value):
    """Rule: ${VAR} expanded into a non-secret field (here system.name, shown in reports) is refused naming the
    field when the variable is named as a secret or holds the value of a secret field; the value is not shown."""
    monkeypatch.setenv("T_SSO_SECRET", "s3cr3t-value")
    monkeypatch.setenv(var, value)
    data = copy.deepcopy(VALID)
    data["system"]["name"] = f"Một cửa ${{{var}}}"
    with pytest.raises(TargetError) as err:
        load_target(write(tmp_path, data))
    text = err.value.render()
    assert "system.name: rule 'no secret in a plain field'" in text and value not in text


def test_plain_variable_expanded_into_a_plain_field_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("T_SSO_SECRET", "s3cr3t-value")
    monkeypatch.setenv("KIEMTHU_SYSTEM_NAME", "Một cửa tỉnh")
    data = copy.deepcopy(VALID)
    data["system"]["name"] = "${KIEMTHU_SYSTEM_NAME}"
    assert load_target(write(tmp_path, data))["system"]["name"] == "Một cửa tỉnh"
