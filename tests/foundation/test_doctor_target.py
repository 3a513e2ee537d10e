"""`kiemthu doctor --target FILE` says whether a system, its portal registration and its secrets are ready, one
line per problem with its fix, against the reference system really running on a free port."""

from __future__ import annotations

import os

import pytest
import yaml

from kiemthu.demo import DEMO_TARGET, SECRET_VARS, demo_environment, start_reference_system
from kiemthu.doctor_target import check_target
from kiemthu.runtime import free_port
from kiemthu.target import load_target


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The demo variables set and the reference system started for them (the reachable, well-configured system)."""
    saved = dict(os.environ)
    env = demo_environment()
    system = start_reference_system(load_target(DEMO_TARGET), tmp_path_factory.mktemp("ministry"))
    try:
        yield env
    finally:
        system.stop()
        os.environ.clear()
        os.environ.update(saved)


def variant(tmp_path, change) -> "os.PathLike":
    """A copy of the demo target (variables expanded by the loader as usual) with `change(data)` applied."""
    data = yaml.safe_load(DEMO_TARGET.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems(findings) -> list[str]:
    return [f"{f.name}: {f.detail} → {f.fix}" for f in findings if not f.ok]


def test_a_well_configured_reachable_system_has_no_problem(reference, cli):
    """The reference system, running, with every secret set: every line OK, exit 0 (the doctor can pass)."""
    assert problems(check_target(DEMO_TARGET)) == []
    out = cli("doctor", "--target", str(DEMO_TARGET), "--no-machine")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Đường dẫn sâu / deep link" in out.stdout and "HTTP" in out.stdout
    for name in SECRET_VARS:  # named, never shown
        assert name in out.stdout and os.environ[name] not in out.stdout


def test_a_missing_secret_is_its_own_line_with_its_fix(reference, cli, monkeypatch):
    """An unset secret variable is named with what it is for and how to set it; the other checks still run."""
    monkeypatch.delenv("KIEMTHU_PAYMENT_SECRET")
    out = cli("doctor", "--target", str(DEMO_TARGET), "--no-machine")
    assert out.returncode == 1
    fixes = [line for line in out.stdout.splitlines() if line.startswith("FIX")]
    assert len(fixes) == 1, out.stdout
    assert "portal.payment_partner.secret" in fixes[0] and "KIEMTHU_PAYMENT_SECRET is not set" in fixes[0]
    assert "'BTP'" in fixes[0]  # what it is for: the signing key of partner BTP
    assert "→ export KIEMTHU_PAYMENT_SECRET=" in fixes[0]
    assert any(line.startswith("OK") and "system health" in line for line in out.stdout.splitlines())


def test_an_unreachable_system_is_its_own_line_with_its_fix(reference, tmp_path, monkeypatch):
    """A system that does not listen where system.base_url says: the line names the URL and says to start it."""
    monkeypatch.setenv("KIEMTHU_MINISTRY_PORT", str(free_port()))  # nobody listens there
    found = problems(check_target(DEMO_TARGET))
    assert len(found) == 1, found
    assert found[0].startswith("Hệ thống / system base_url: http://127.0.0.1:")
    assert "does not answer" in found[0] and "→ start the system under test first" in found[0]


def test_a_redirect_uri_off_the_systems_host_is_its_own_line_with_its_fix(reference, tmp_path):
    """A redirect URI registered on another port than the system's: named, with the URL to register instead."""
    other = free_port()

    def elsewhere(data):
        data["portal"]["sso_client"]["redirect_uris"] = [f"http://127.0.0.1:{other}/sso/callback"]

    found = problems(check_target(variant(tmp_path, elsewhere)))
    assert len(found) == 1, found
    assert found[0].startswith(f"Cổng / portal sso_client.redirect_uris[0]: http://127.0.0.1:{other}/sso/callback "
                               "is not on the system's host")
    assert f"http://127.0.0.1:{reference['KIEMTHU_MINISTRY_PORT']}/sso/callback" in found[0].split("→")[1]


def test_an_ipn_url_off_the_systems_host_is_named(reference, tmp_path):
    """The payment platform calls back the IPN URL: on another host, the system never hears of a payment."""
    def elsewhere(data):
        data["portal"]["payment_partner"]["callback_url"] = "http://10.0.0.9:9000/thanh-toan/ipn"

    found = problems(check_target(variant(tmp_path, elsewhere)))
    assert len(found) == 1 and "payment_partner.callback_url (IPN)" in found[0], found


def test_a_deep_link_the_system_does_not_serve_is_named(reference, tmp_path):
    def wrong(data):
        data["adapter"]["pages"]["deep_link"] = "{system.base_url}/khong-co-trang-nay?MaDVC={service.MaDVC}"

    found = problems(check_target(variant(tmp_path, wrong)))
    assert len(found) == 1 and found[0].startswith("Đường dẫn sâu / deep link:"), found
    assert "HTTP 404" in found[0] and "→ correct adapter.pages.deep_link" in found[0]


def test_a_system_on_another_machine_needs_a_mock_it_can_reach(reference, tmp_path):
    """system.base_url on another machine with the mock on loopback: said, with the guide to follow."""
    def remote(data):
        data["system"]["base_url"] = "http://192.0.2.10:8080"
        data["adapter"]["pages"]["deep_link"] = "{system.base_url}/dvc"

    found = [p for p in problems(check_target(variant(tmp_path, remote))) if p.startswith("Cổng / portal base_url")]
    assert len(found) == 1 and "cannot reach the mock" in found[0] and "docs/guides/remote-system.md" in found[0]


def test_unset_plain_variables_are_listed_with_where_they_are_used(tmp_path, monkeypatch):
    """A target that cannot load for its ${NAME} values: one line per variable, naming the fields that use it."""
    for name in ("KIEMTHU_MOCK_PORT", "KIEMTHU_MINISTRY_PORT", "KIEMTHU_PUBLICATION_DATE", *SECRET_VARS):
        monkeypatch.delenv(name, raising=False)
    found = problems(check_target(DEMO_TARGET))
    assert len(found) == 7, found
    port = next(p for p in found if "KIEMTHU_MINISTRY_PORT" in p)
    assert "system.base_url" in port and "→ export KIEMTHU_MINISTRY_PORT=" in port


def test_an_external_portal_that_does_not_answer_is_named(reference, tmp_path):
    def external(data):
        data["portal"]["mode"] = "external"
        data["portal"]["base_url"] = f"http://127.0.0.1:{free_port()}"

    found = problems(check_target(variant(tmp_path, external)))
    assert len(found) == 1 and found[0].startswith("Cổng / portal (external):"), found
    assert "does not answer" in found[0] and "kiemthu mock --target" in found[0]
