"""A port held by a server the harness did not start is refused, naming the port and its process: never adopted
("already running: using it" once sent a whole load test to someone else's mock)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiemthu.demo import DEMO_TARGET, start_reference_system
from kiemthu.runtime import ManagedProcess, PortTaken, free_port, taken_port_message
from kiemthu.target import load_target


@pytest.fixture
def foreign_server(tmp_path):
    """Start a plain HTTP server (not kiemthu's) on a port; returns its process. Stopped afterwards."""
    started = []

    def start(port: int) -> ManagedProcess:
        proc = ManagedProcess(name="foreign server", health_url=f"http://127.0.0.1:{port}/",
                              cmd=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                   "--directory", str(tmp_path)],
                              log_path=tmp_path / f"foreign-{port}.log").start(20)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def assert_names_port_and_process(text: str, port: int, proc: ManagedProcess) -> None:
    assert f"port {port}" in text, text
    assert f"process {proc.proc.pid}" in text and "http.server" in text, text
    assert "did not start" in text and "using it" not in text


def test_load_refuses_a_foreign_server_on_the_mock_port(demo_env, foreign_server, tmp_path, capsys):
    """`kiemthu load`: something else answers on the portal port → the run stops before any load, naming it."""
    from loadtest.run import EXIT_RUN, run_load

    port = int(demo_env["KIEMTHU_MOCK_PORT"])
    holder = foreign_server(port)
    assert run_load(DEMO_TARGET, output=tmp_path / "run", duration="5s") == EXIT_RUN
    out = capsys.readouterr().out
    assert_names_port_and_process(out, port, holder)
    assert not (tmp_path / "run" / "load" / "locust_stats.csv").exists()  # no load was sent anywhere


def test_run_refuses_a_foreign_server_on_the_mock_port(demo_env, foreign_server, tmp_path, capsys):
    """`kiemthu run`: the mock cannot start where a foreign server listens; said before anything starts."""
    from conformance.runner import run

    port = int(demo_env["KIEMTHU_MOCK_PORT"])
    holder = foreign_server(port)
    assert run(target=DEMO_TARGET, output=tmp_path / "run", services=[], checks=[], headed=False) == 2
    err = capsys.readouterr().err
    assert_names_port_and_process(err.replace("\n", " "), port, holder)
    assert not (tmp_path / "run").exists()


def test_the_mock_names_who_holds_its_port(foreign_server, tmp_path):
    """`kiemthu mock` / `python -m mocks` on a held port: exit 2, the port and the holder named, no traceback."""
    port = free_port()
    holder = foreign_server(port)
    out = subprocess.run([sys.executable, "-m", "mocks", "--port", str(port)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert_names_port_and_process(out.stderr, port, holder)


def test_the_reference_system_is_not_started_over_a_foreign_server(demo_env, foreign_server, tmp_path):
    """Its health URL would be answered by the foreign server: refused instead of taken for the system."""
    port = int(demo_env["KIEMTHU_MINISTRY_PORT"])
    holder = foreign_server(port)
    with pytest.raises(PortTaken) as err:
        start_reference_system(load_target(DEMO_TARGET), tmp_path)
    assert_names_port_and_process(str(err.value), port, holder)


def test_a_free_port_has_no_holder():
    assert taken_port_message(free_port(), "127.0.0.1", "mock portal") is None


def test_run_portal_host_binds_there_and_warns(demo_env, foreign_server, cli):
    """`kiemthu run --portal-host 0.0.0.0`: the warning is printed and the mock's port is checked on that address
    (here held, so the run stops before starting anything)."""
    port = int(demo_env["KIEMTHU_MOCK_PORT"])
    holder = foreign_server(port)
    out = cli("run", "--target", str(DEMO_TARGET), "--portal-host", "0.0.0.0")
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert "SECURITY WARNING" in text and f"0.0.0.0:{port}" in text
    assert_names_port_and_process(text.replace("\n", " "), port, holder)
