"""Services side by side on one machine (`kiemthu run --workers N`): pytest-xdist runs the suite in N worker
processes, each with its own browser; every service's checks go to one worker, in order (its flows run once).

The controlling process owns what is run-wide: the run's id and directory, the folder the workers coordinate
through (conformance/bookkeeping/shared.py), the mock portal when nobody started it, the verdicts the workers
hand back, and at the end journal.jsonl and summary.json. What a check reads from the one journal is scoped to
its own service, dossier and payment reference, so services never see each other's exchanges."""

from __future__ import annotations

import os

import pytest
from xdist.scheduler import LoadScopeScheduling

from kiemthu.runtime import remove_temp, temp_dir


class ServiceScheduling(LoadScopeScheduling):
    """pytest-xdist's scope scheduling with the service as the scope: `test_2_submission[khai-sinh]` → khai-sinh."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.endswith("]") and "[" in nodeid:
            return nodeid[nodeid.rindex("[") + 1:-1]
        return nodeid


class Controller:
    """The pytest plugin of the controlling process (registered by conformance/plugin.py)."""

    def __init__(self, config: pytest.Config, state):
        from conformance.session import Suite

        self.config, self.state = config, state
        self.shared = temp_dir("shared")
        state.opts.shared = self.shared
        suite = Suite(state.opts)  # never started here: the run's id, directory and target, for the summary
        state.opts.run_id, state.opts.run_dir = suite.run_id, suite.run_dir
        config.option.run_dir = str(suite.run_dir)  # the workers write into the same run directory
        state.suite = suite
        self.mock = None
        self._provide_mock(suite)
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        if xml is not None:  # what the fixture says in a single process: the run id in junit.xml
            xml.add_global_property("run_id", suite.run_id)

    def _provide_mock(self, suite) -> None:
        """One mock portal for every worker: started here unless the caller (`kiemthu run`) already did."""
        from conformance.portal import mock_process
        from conformance.runner import MOCK_PROVIDED, provided_mock_env

        portal = suite.target["portal"]
        health = f"{portal['base_url'].rstrip('/')}/_mock/health"
        if portal.get("mode") != "mock" or os.environ.get(MOCK_PROVIDED) == health:
            return
        self.mock = mock_process(suite.target.path, portal["base_url"], suite.run_dir).spawn()
        self.mock.wait_ready(30)
        os.environ.update(provided_mock_env(portal["base_url"], self.mock))  # the workers inherit it

    # -- pytest-xdist hooks ------------------------------------------------------------------------------------
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        return ServiceScheduling(config, log)

    def pytest_configure_node(self, node) -> None:
        node.workerinput.update(kt_run_id=self.state.opts.run_id, kt_shared=str(self.shared),
                                kt_run_dir=str(self.state.suite.run_dir))

    def pytest_testnodedown(self, node, error) -> None:
        dumped = getattr(node, "workeroutput", {}).get("kt_recorder")
        if dumped:
            self.state.recorder.merge(dumped)

    # -- pytest hooks ------------------------------------------------------------------------------------------
    def finish(self, suite) -> None:
        """After the last worker: the whole journal into the run, the controller's clients closed."""
        try:
            suite.export_journal()
        except Exception as exc:  # the journal is evidence, but its loss must not hide the verdicts
            from kiemthu.logs import get_logger

            get_logger("conformance").warning("journal export failed: %s", exc)
        suite.portal.close()
        suite.progress.close()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.mock is not None:
            self.mock.stop()
        remove_temp(self.shared)
