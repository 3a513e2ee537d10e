"""Every process the harness starts ends with it, and a child that cannot start is reported at once with its own
error (kiemthu/runtime.py `ManagedProcess`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from kiemthu.runtime import (REPO_ROOT, ChildExited, DeadlineExceeded, ManagedProcess, free_port, python_module_cmd,
                             wait_until)

from tests.tempcheck import leftovers  # noqa: E402

KIEMTHU = str(Path(sys.executable).parent / "kiemthu")
PLANTED = "planted: jsonschema_rs is broken on this machine"


@pytest.fixture
def broken_jsonschema_rs(tmp_path) -> dict[str, str]:
    """An environment whose PYTHONPATH shadows `jsonschema_rs` (imported by the mock only) with a failing module."""
    folder = tmp_path / "planted"
    folder.mkdir()
    (folder / "jsonschema_rs.py").write_text(f"raise ImportError({PLANTED!r})\n", encoding="utf-8")
    return {"PYTHONPATH": str(folder)}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def nobody_listens(port: int) -> bool:
    """No listener on the port (a bind test would also see the harmless TIME_WAIT of the last health check)."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def assert_all_end(pids: list[int], ports: list[int], timeout: float = 15.0) -> None:
    wait_until(lambda: all(gone(p) for p in pids), timeout, what=f"processes {pids} ended")
    wait_until(lambda: all(nobody_listens(p) for p in ports), timeout, what=f"ports {ports} released")


def start_cli(*args: str, tmp: Path, env: dict | None = None) -> subprocess.Popen:
    """`kiemthu ARGS` in the background, its temporary folders in `tmp` so the test can see what it leaves."""
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen([KIEMTHU, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp), "COLUMNS": "200", **(env or {})})


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    def up() -> bool:
        assert proc.poll() is None, f"exited {proc.returncode}: {proc.stderr.read()}"
        return httpx.get(url, timeout=1.0).status_code == 200

    wait_until(up, timeout, what=f"{url} answers")


def test_a_mock_that_cannot_start_is_reported_within_3_s_with_its_own_error(tmp_path, broken_jsonschema_rs):
    """A child that exits during start-up is noticed at once (not after the 30 s start-up deadline) and reported
    with the last lines of its output, which name the real cause."""
    port = free_port()
    cmd = python_module_cmd("mocks", "--port", str(port))
    mock = ManagedProcess("mock portal", cmd, f"http://127.0.0.1:{port}/_mock/health", tmp_path / "mock.log",
                          env=broken_jsonschema_rs)
    # alongside, the same broken mock unsupervised: how long it takes to die by itself on this machine right now
    started = time.monotonic()
    alone = subprocess.Popen(python_module_cmd("mocks", "--port", str(free_port())), cwd=REPO_ROOT, env={**os.environ, **broken_jsonschema_rs},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with pytest.raises(ChildExited) as caught:
        mock.start(timeout=30)
    reported = time.monotonic() - started
    alone.wait(60)
    dies_after = time.monotonic() - started
    assert reported < max(3.0, dies_after + 1.0), (reported, dies_after)
    assert caught.value.code == 1
    assert f"ImportError: {PLANTED}" in str(caught.value)
    assert str(caught.value).startswith("mock portal exited with code 1 during start-up")


def test_kiemthu_run_reports_a_dead_mock_once_and_stops(tmp_path, broken_jsonschema_rs):
    """`kiemthu run` prints the mock's own error once, not one 'setup failed … not met within 30 s' per check."""
    env = {**broken_jsonschema_rs, "KIEMTHU_MOCK_PORT": str(free_port()), "KIEMTHU_MINISTRY_PORT": str(free_port()),
           "KIEMTHU_PUBLICATION_DATE": "2026-12-01", "KIEMTHU_SSO_CLIENT_SECRET": "sso-secret-1234",
           "KIEMTHU_PAYMENT_SECRET": "payment-secret-1234", "KIEMTHU_ADAPTER_PASSWORD": "adapter-secret-1234",
           "KIEMTHU_OFFICER_PASSWORD": "officer-secret-1234"}
    started = time.monotonic()
    proc = start_cli("run", "--target", str(REPO_ROOT / "examples/ministry/target.yaml"), "-o", str(tmp_path / "run"),
                     tmp=tmp_path / "tmp", env=env)
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - started
    text = out + err
    assert proc.returncode == 2, text
    assert text.count(f"ImportError: {PLANTED}") == 1, text
    assert "not met within" not in text and "setup failed" not in text
    assert elapsed < 30  # it used to wait out the 30 s start-up deadline (per check) before saying anything
    assert not leftovers(tmp_path / "tmp")


def test_a_child_that_never_answers_is_stopped_with_its_output(tmp_path):
    """The start-up deadline still holds for a child that runs but never serves; it is stopped, its output shown."""
    code = "import sys, time; print('listening nowhere', flush=True); time.sleep(60)"
    port = free_port()
    proc = ManagedProcess("silent", [sys.executable, "-c", code], f"http://127.0.0.1:{port}/", tmp_path / "silent.log")
    with pytest.raises(DeadlineExceeded) as caught:
        proc.start(timeout=1.5)
    assert "listening nowhere" in str(caught.value)
    assert gone(proc.proc.pid)


SERVER_WITH_GRANDCHILD = textwrap.dedent("""
    import http.server, subprocess, sys
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
""")


def test_stop_ends_the_child_its_children_and_deletes_its_scratch_folder(tmp_path):
    """stop() ends the child's whole process group, frees its port, and deletes the folders it was given."""
    port, scratch = free_port(), tmp_path / "scratch"
    scratch.mkdir()
    proc = ManagedProcess("server", [sys.executable, "-c", SERVER_WITH_GRANDCHILD, str(port)],
                          f"http://127.0.0.1:{port}/", tmp_path / "server.log", scratch=[scratch])
    with proc:
        family = [proc.proc.pid] + [c.pid for c in psutil.Process(proc.proc.pid).children(recursive=True)]
        assert len(family) == 2
    assert_all_end(family, [port], timeout=5)
    assert not scratch.exists()


PARENT_SCRIPT = textwrap.dedent("""
    import sys
    from kiemthu.runtime import ManagedProcess, exit_on_signals
    exit_on_signals()
    port, how = int(sys.argv[1]), sys.argv[2]
    child = ManagedProcess("server", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                           f"http://127.0.0.1:{port}/", log_path=None).start(20)
    print(f"child={child.proc.pid}", flush=True)
    if how == "exception":
        raise RuntimeError("boom")
    child.wait()
""")


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL", "exception"])
def test_a_child_ends_with_its_parent_on_every_exit_path(tmp_path, how):
    """Whatever ends the parent (a signal, even SIGKILL, or an uncaught exception), its child ends and the port is
    released."""
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-c", PARENT_SCRIPT, str(port), how], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child = int(next(line for line in parent.stdout if line.startswith("child="))[len("child="):])
    if how != "exception":
        parent.send_signal(getattr(signal, how))
    parent.wait(15)
    assert_all_end([child], [port])


def test_kiemthu_ministry_leaves_no_child_and_no_port_on_sigterm_or_ctrl_c(tmp_path):
    """`kiemthu ministry` runs the reference system as a child; SIGTERM or SIGINT to the command ends both, and the
    system's private database folder goes with them."""
    runs = {}
    for sig in (signal.SIGTERM, signal.SIGINT):  # both at once: the slow part is the start-up
        port = free_port()
        runs[sig] = (port, start_cli("ministry", "--port", str(port), tmp=tmp_path / f"tmp-{sig.name}"))
    for sig, (port, proc) in runs.items():
        wait_healthy(f"http://127.0.0.1:{port}/health", proc)
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert children, "the reference system runs as a child of `kiemthu ministry`"
        proc.send_signal(sig)
        proc.wait(20)
        assert_all_end(children, [port])
        assert not leftovers(tmp_path / f"tmp-{sig.name}")


def test_kiemthu_ministry_reports_a_failed_start_with_its_error(tmp_path):
    """A reference system that refuses to start (an unknown defect) is reported with its own message."""
    proc = start_cli("ministry", "--port", str(free_port()), "--defect", "no-such-defect", tmp=tmp_path / "tmp")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "no-such-defect" in err and "exited with code" in err
    assert "Traceback" not in out + err


def test_kiemthu_mock_on_sigterm_deletes_its_database_unless_asked_to_keep_it(tmp_path):
    """`kiemthu mock` without --db keeps its state in a folder of its own, deleted when it ends; --keep-temp is the
    explicit way to keep it for inspection."""
    ports = {"plain": free_port(), "kept": free_port()}
    procs = {"plain": start_cli("mock", "--port", str(ports["plain"]), tmp=tmp_path / "plain"),
             "kept": start_cli("mock", "--port", str(ports["kept"]), "--keep-temp", tmp=tmp_path / "kept")}
    for name, proc in procs.items():
        wait_healthy(f"http://127.0.0.1:{ports[name]}/oauth2/jwks", proc)  # the portal side (control API apart)
        assert len(list((tmp_path / name).glob("kiemthu-mock-*"))) == 1
    for name, proc in procs.items():
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        assert_all_end([proc.pid], [ports[name]])
    assert not leftovers(tmp_path / "plain")
    kept = list((tmp_path / "kept").glob("kiemthu-mock-*"))
    assert len(kept) == 1 and list(kept[0].glob("portal-*.sqlite"))
