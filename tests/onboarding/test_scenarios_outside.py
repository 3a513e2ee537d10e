"""Scenario files that live beside a target, outside the harness's own scenarios/ folder: the mock portal publishes
them, a procedure it does not publish is refused with how to publish it, and a missing sample file is named by the
path tried."""

from __future__ import annotations

import pytest

from conformance.adapter import Executor, Variables, load_adapter
from conformance.adapter.dsl import AdapterError
from kiemthu.target import load_target
from mocks.catalogue import Catalogue
from mocks.rules import procedure_published
from mocks.settings import MockSettings
from scenarios import load_scenario
from tests.conformance.test_adapter_dsl import BASE, Hooks, site  # noqa: F401 (site: a fixture)
from tests.conftest import run_cli
from tests.onboarding.helpers import fill_env_example

NEW_PROCEDURE = "1.008472"  # not among the harness's own scenarios


@pytest.fixture
def outside_target(tmp_path, monkeypatch):
    """A target written by `kiemthu init` in a folder of its own, with a stub for a procedure the harness lacks."""
    path = tmp_path / "agency" / "target.yaml"
    out = run_cli("init", str(path), "--non-interactive", "--base-url", "http://127.0.0.1:8601",
                  "--agency-code", "000.00.00.G15", "--service", NEW_PROCEDURE, "--service", "2.001417")
    assert out.returncode == 0, out.stdout + out.stderr
    for name, value in fill_env_example(path.parent / ".env.example").items():
        monkeypatch.setenv(name, value)
    return load_target(path)


def test_the_mock_publishes_the_scenarios_beside_the_target(outside_target):
    """The procedure database of a mock started for a target holds the target's own services, read from
    wherever their files are, the target's copy first; the harness's own procedures stay published."""
    settings = MockSettings.from_target(outside_target, db_path=":memory:")
    assert str(outside_target.path.parent / "tthc-1-008472.yaml") in settings.scenario_files
    catalogue = Catalogue(settings.profile, settings.scenario_files)
    assert catalogue.find(NEW_PROCEDURE)["MaTTHC"] == NEW_PROCEDURE
    assert catalogue.find("2.001417") and catalogue.find("1.001193")  # beside the target, and shipped


def test_without_the_target_the_procedure_is_refused_saying_how_to_publish_it(outside_target):
    catalogue = Catalogue(MockSettings.from_target(outside_target, db_path=":memory:").profile)
    [problem] = procedure_published("data[0]", NEW_PROCEDURE, catalogue)
    text = str(problem)
    assert NEW_PROCEDURE in text and "services:" in text and "--target" in text


@pytest.mark.browser
def test_a_missing_sample_file_is_named_by_the_path_tried(site, tmp_path):  # noqa: F811
    """sample_file resolves in the scenario file's folder; when it is not there the error shows that path."""
    scenario_file = tmp_path / "svc.yaml"
    scenario = {"_file": str(scenario_file), "fields": [],
                "documents": [{"MaThanhPhanHoSo": "TP-1", "TenThanhPhanHoSo": "Tờ khai", "required": True,
                               "sample_file": "files/to-khai.pdf"}]}
    spec = load_adapter({"flows": {"citizen_login": [{"goto": "{system.base_url}/form"}],
                                   "submit": [{"goto": "{system.base_url}/step2"}, {"upload": {"documents": "required"}}]},
                         "timeouts": {"step_s": 3}})
    from scenarios import sample_file

    ex = Executor(spec, Variables(system={"base_url": BASE}), scenario=scenario, identity={}, base_dir=tmp_path,
                  hooks=Hooks(), sample_file=lambda d: sample_file(scenario, d))
    with pytest.raises(AdapterError) as refused:  # a configuration error: the run stops, naming it
        ex.run_flow("submit", site)
    assert str(tmp_path / "files" / "to-khai.pdf") in str(refused.value) and "Tờ khai" in str(refused.value)


def test_the_stub_scenario_validates_beside_the_target(outside_target):
    stub = load_scenario(outside_target.path.parent / "tthc-1-008472.yaml")
    assert stub["MaTTHC"] == NEW_PROCEDURE


@pytest.mark.slow
def test_a_mock_started_for_the_target_lists_the_procedure_beside_it(outside_target, tmp_path):
    """The mock process `kiemthu run` starts (`python -m mocks --target`) publishes the target's own procedure."""
    from conformance.portal import mock_process
    from kiemthu.runtime import free_port, make_run_dir

    base_url = f"http://127.0.0.1:{free_port()}"
    mock = mock_process(outside_target.path, base_url, make_run_dir(tmp_path / "run"))
    with mock.start(60):
        with mock.control.client(timeout=10) as http:
            procedures = http.get("/_mock/catalogue").json()["procedures"]
    codes = {p["MaTTHC"] for p in procedures}
    assert NEW_PROCEDURE in codes and "2.001417" in codes
