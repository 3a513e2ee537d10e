"""Benchmark of the mock portal: start-up time, and throughput/latency of the adapter's DongBoHoSoMC (schema
validation + SQLite write) against a trivial JSON endpoint of the same process, driven by Locust FastHttpUser.

    .venv/bin/python bench/bench_mock.py [--seconds 12] [--users 16] [--warmup 2] [--rounds 3]

Each round measures the trivial endpoint, then DongBoHoSoMC, in the same mock process; the targets are judged on
the median round (a shared virtual machine's speed drifts by 10 % and more from one minute to the next).

Targets (issue 3): DongBoHoSoMC >= 3000 req/s and p99 < 25 ms on one uvicorn worker; ratio to the trivial
endpoint >= 0.5; start-up to ready < 1.5 s.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiemthu.control import ENV_TOKEN, ControlAccess, new_token  # noqa: E402
from kiemthu.runtime import VN_TZ, free_port  # noqa: E402
from mocks.settings import DEMO_ADAPTER_PASSWORD, DEMO_ADAPTER_USER, DEMO_AGENCY_CODE  # noqa: E402
from tests.mocks.helpers import dossier, sync_message  # noqa: E402

HEADERS = {"dstcode": DEMO_AGENCY_CODE, "Content-Type": "application/json"}


def start_mock(port: int, db: str, control: ControlAccess) -> tuple[subprocess.Popen, float]:
    """Start `python -m mocks` and return it with the seconds it took to answer /_mock/health (control plane)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mocks", "--port", str(port), "--db", db, "--control-port",
                             control.url.rsplit(":", 1)[1]], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", ENV_TOKEN: control.token})
    url = control.health_url
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=0.5, trust_env=False).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"mock exited with {proc.returncode}")
        time.sleep(0.01)
    proc.kill()
    raise SystemExit("mock did not become ready within 20 s")


def dossier_template(session: str) -> str:
    """The JSON of one DongBoHoSoMC message (the mock's tests' sample dossier, received) with __CODE__ where each
    request puts a fresh dossier code."""
    return json.dumps(sync_message(session, [dossier("__CODE__", status="2")]), ensure_ascii=False)


def codes():
    """Distinct valid dossier codes: 9999 per day (4-digit daily sequence), going back one day at a time."""
    today = datetime.now(VN_TZ)
    for n in itertools.count():
        day = today - timedelta(days=n // 9999)
        yield f"{DEMO_AGENCY_CODE}-{day:%y%m%d}-{n % 9999 + 1:04d}"


def cpu_seconds(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def run_phase(host: str, name: str, make_user, users: int, seconds: float, warmup: float, server_pid: int) -> dict:
    import gevent
    from locust.env import Environment

    env = Environment(user_classes=[make_user], host=host)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)
    env.stats.reset_all()
    t0, cpu0, gen0 = time.perf_counter(), cpu_seconds(server_pid), cpu_seconds(os.getpid())
    gevent.sleep(seconds)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(server_pid) - cpu0
    generator = (cpu_seconds(os.getpid()) - gen0) / elapsed
    total = env.stats.total
    result = {"name": name, "requests": total.num_requests, "failures": total.num_failures,
              "rps": total.num_requests / elapsed, "p50_ms": total.get_response_time_percentile(0.5),
              "p99_ms": total.get_response_time_percentile(0.99),
              # requests per CPU-second of the mock's worker: its capacity with a whole core, whatever else runs
              "server_cpu_share": cpu / elapsed, "per_cpu_s": total.num_requests / cpu if cpu else 0.0,
              # Locust runs in this process: at ~100% of a core it, not the mock, sets the request rate
              "generator_cpu_share": generator}
    runner.quit()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    port = free_port()
    db = tempfile.mktemp(prefix="bench-mock-", suffix=".sqlite")
    control = ControlAccess(f"http://127.0.0.1:{free_port()}", new_token())
    proc, startup = start_mock(port, db, control)
    startup_cpu = cpu_seconds(proc.pid)  # CPU the process needed to get ready: comparable across machine loads
    host = f"http://127.0.0.1:{port}"
    try:
        auth = httpx.post(f"{host}/adapter/auth", json={"username": DEMO_ADAPTER_USER, "password": DEMO_ADAPTER_PASSWORD},
                          headers={"dstcode": DEMO_AGENCY_CODE}, trust_env=False).json()
        # bodies are prepared before the clock starts: the generator shares this machine's two cores with the
        # mock, and every microsecond it spends per request is one the mock cannot have; one round's worth at a
        # time (all rounds at once would hold a few hundred MB)
        head, tail = (part.encode("utf-8") for part in dossier_template(auth["session"]).split("__CODE__"))
        fresh_codes = codes()

        from locust import FastHttpUser, constant, task

        class NoCookies(FastHttpUser):
            abstract = True
            wait_time = constant(0)

            def on_start(self):
                self.client.client.cookiejar = None  # neither endpoint sets cookies: skip the jar on every request

        class Trivial(NoCookies):
            @task
            def health(self):
                self.client.get("/_mock/health", name="health")

        class Sync(NoCookies):
            default_headers = HEADERS

            @task
            def sync(self):
                # any status but 2xx counts as a failure in FastHttpUser; the portal's count is checked after the run
                self.client.post("/adapter/integration", data=next(feed), name="DongBoHoSoMC")

        rounds, sent = [], 0
        for _ in range(max(1, args.rounds)):
            # the same process and event loop, on its control listener (readiness needs no token)
            trivial = run_phase(control.url, "trivial JSON (/_mock/health)", Trivial, args.users, args.seconds,
                                args.warmup, proc.pid)
            # more bodies than Locust can send in the phase: its rate on the trivial endpoint is its ceiling
            per_round = int((args.warmup + args.seconds + 1) * max(6000.0, trivial["rps"] * 1.25))
            bodies = [head + code.encode() + tail for code in itertools.islice(fresh_codes, per_round)]
            feed = iter(bodies)
            sync = run_phase(host, "DongBoHoSoMC (validate + SQLite)", Sync, args.users, args.seconds, args.warmup,
                             proc.pid)
            rounds.append((trivial, sync, sync["rps"] / trivial["rps"] if trivial["rps"] else 0.0))
            sent += len(bodies) - sum(1 for _ in feed)
        stored = httpx.get(f"{control.url}/_mock/stats", headers=control.headers(), trust_env=False).json()["dossiers"]
    finally:
        proc.terminate()
        proc.wait(10)
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)

    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"Python {sys.version.split()[0]} ({os.path.realpath(sys.executable)}), the mock's too")
    print(f"start-up to ready: {startup:.2f} s wall, {startup_cpu:.2f} s CPU (target < 1.5 s)")
    for n, (trivial, sync, ratio) in enumerate(rounds, 1):
        print(f"round {n}:")
        for r in (trivial, sync):
            print(f"  {r['name']:<34} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:5.1f} ms  p99 {r['p99_ms']:5.1f} ms  "
                  f"requests {r['requests']}  failures {r['failures']}  | mock worker busy {r['server_cpu_share']:.0%}"
                  f" of a core, {r['per_cpu_s']:.0f} req per CPU-second | Locust busy {r['generator_cpu_share']:.0%}")
        busy = [name for name, share in (("mock worker", sync["server_cpu_share"]),
                                         ("Locust (load generator)", sync["generator_cpu_share"])) if share > 0.9]
        print(f"  ratio DongBoHoSoMC / trivial: {ratio:.2f}; DongBoHoSoMC limited by: "
              f"{' and '.join(busy) if busy else 'neither (latency-bound)'}")
    trivial, sync, ratio = sorted(rounds, key=lambda r: r[1]["rps"])[len(rounds) // 2]
    each = ", ".join(f"{r[1]['rps']:.0f}" for r in rounds)
    print(f"median round: DongBoHoSoMC {sync['rps']:.0f} req/s, p99 {sync['p99_ms']:.1f} ms, ratio {ratio:.2f}, "
          f"mock capacity with a whole core {sync['per_cpu_s']:.0f} req/s (rounds: "
          f"{each} req/s)")
    print(f"targets: >= 3000 req/s {'OK' if sync['rps'] >= 3000 else 'MISSED'}; p99 < 25 ms "
          f"{'OK' if sync['p99_ms'] < 25 else 'MISSED'}; ratio >= 0.5 {'OK' if ratio >= 0.5 else 'MISSED'}; "
          f"start-up < 1.5 s {'OK' if startup < 1.5 else 'MISSED'}")
    print(f"dossiers sent {sent}, stored by the mock {stored}: {'none lost' if stored == sent else 'MISMATCH'}")
    return 0 if all(r[1]["failures"] == 0 for r in rounds) and stored == sent else 1


if __name__ == "__main__":
    sys.exit(main())
