"""`kiemthu demo` leaves the secret variables a user has set alone, and names any other variable it replaces."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from kiemthu.demo import PLAIN_VARS, SECRET_VARS, prepare_demo_environment


@pytest.fixture
def clean_env(monkeypatch):
    saved = dict(os.environ)
    for name in (*SECRET_VARS, *PLAIN_VARS):
        monkeypatch.delenv(name, raising=False)
    yield
    os.environ.clear()
    os.environ.update(saved)


def said(run) -> str:
    console = Console(record=True, width=300)
    run(console)
    return console.export_text()


def test_a_secret_the_user_set_keeps_its_value_and_is_named_not_shown(clean_env):
    os.environ["KIEMTHU_SSO_CLIENT_SECRET"] = "my-own-sso-secret-4711"
    out = said(prepare_demo_environment)
    assert os.environ["KIEMTHU_SSO_CLIENT_SECRET"] == "my-own-sso-secret-4711"
    assert "keeping the values you set for: KIEMTHU_SSO_CLIENT_SECRET" in out
    assert "my-own-sso-secret-4711" not in out
    others = [os.environ[name] for name in SECRET_VARS if name != "KIEMTHU_SSO_CLIENT_SECRET"]
    assert all(len(v) >= 20 for v in others) and len(set(others)) == len(others)  # generated, distinct


def test_a_port_the_user_set_is_replaced_and_said_so(clean_env):
    os.environ["KIEMTHU_MOCK_PORT"] = "8800"
    out = said(prepare_demo_environment)
    assert os.environ["KIEMTHU_MOCK_PORT"] != "8800"
    assert f"replaced (the demo uses free ports and today's date): KIEMTHU_MOCK_PORT (8800 → " \
           f"{os.environ['KIEMTHU_MOCK_PORT']})" in out


def test_nothing_set_nothing_said(clean_env):
    assert said(prepare_demo_environment) == ""
    assert all(os.environ.get(name) for name in (*SECRET_VARS, *PLAIN_VARS))


def test_kiemthu_demo_says_which_values_it_keeps(cli, clean_env):
    """Through the command itself (stopped early by an unknown defect, after the variables are prepared)."""
    out = cli("demo", "--defect", "no-such-defect", env={"KIEMTHU_ADAPTER_PASSWORD": "adapter-pw-of-mine-0815"})
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert "keeping the values you set for: KIEMTHU_ADAPTER_PASSWORD" in text
    assert "adapter-pw-of-mine-0815" not in text
