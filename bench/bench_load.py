"""Load-test figures (loopback only, bounded): prints

1. one Locust worker process's req/s on simple portal traffic (FastHttpUser), against a minimal loopback
   responder so the figure is the generator's own ceiling, and against the mock portal (its ceiling);
2. citizen journeys per minute against the reference ministry system (SSO, submission with files, payment);
3. a 60 s soak with a 10 s mid-run portal outage (mock fault injection on the adapter): the reference system
   recovers and the reconciliation reports zero lost updates.

Run: .venv/bin/python bench/bench_load.py [--quick] [--only generator,mock,journeys,soak]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kiemthu.demo import DEMO_TARGET, demo_environment, start_reference_system  # noqa: E402
from kiemthu.runtime import ManagedProcess, free_port  # noqa: E402
from kiemthu.target import load_target  # noqa: E402

RESPONDER = r'''
import asyncio, sys
BODY = b'{"status":"ok"}'
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)) + BODY

class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.t, self.buf = transport, b""
    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")   # GET requests only: no bodies to skip
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
            self.t.write(REPLY * n)

async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()

try:
    import uvloop
    uvloop.install()
except ImportError:
    pass
asyncio.run(main(int(sys.argv[1])))
'''


def write_target(folder: Path, load: dict, *, portal_url: str | None = None, name: str = "target.yaml") -> Path:
    data = yaml.safe_load(DEMO_TARGET.read_text(encoding="utf-8"))
    data["load"] = load
    if portal_url:
        data["portal"]["mode"] = "external"
        data["portal"]["base_url"] = portal_url
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run(target: Path, out: Path, **kw) -> tuple[int, dict]:
    from loadtest.run import run_load

    rc = run_load(target, output=out, **kw)
    summary = out / "load" / "summary.json"
    return rc, (json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {})


def portal_load(services: list[str], users: int, duration: str) -> dict:
    return {"users": users, "spawn_rate": users, "duration": duration, "stop_timeout_s": 2,
            "journeys": {"citizen": {"weight": 0}, "officer": {"weight": 0},
                         "portal": {"weight": 1, "services": services}}}


def bench_generator(work: Path, duration: str, master_worker: bool) -> dict:
    """Locust against a trivial loopback responder: what one load-generating process can drive."""
    port = free_port()
    responder = ManagedProcess("responder", [sys.executable, "-c", RESPONDER, str(port)],
                               f"http://127.0.0.1:{port}/_mock/health", work / "logs" / "responder.log").start(15)
    try:
        target = write_target(work, portal_load(["health"], 64, duration), portal_url=f"http://127.0.0.1:{port}",
                              name="generator.yaml")
        if not master_worker:
            rc, s = run(target, work / "generator")
            return {"rc": rc, "mode": "one local Locust process", **_throughput(s)}
        mport = free_port()
        worker = subprocess.Popen([str(Path(sys.executable).parent / "kiemthu"), "load", "--target", str(target),
                                   "--worker", "--master-port", str(mport), "--output", str(work / "gen-worker")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            rc, s = run(target, work / "generator-mw", master=True, expect_workers=1,
                        extra=["--master-bind-port", str(mport)])
            worker.wait(60)
        finally:
            if worker.poll() is None:
                worker.kill()
        return {"rc": rc, "mode": "master + one worker process", **_throughput(s)}
    finally:
        responder.stop()


def bench_mock(work: Path, duration: str) -> dict:
    """The same user against the mock portal: look-ups and sync through the adapter, and its cheapest document
    (the `health` service: the OIDC discovery document)."""
    out = {}
    for label, services in (("health", ["health"]), ("adapter look-ups", ["TraCuuHoSo", "LayDanhSachTTHC"]),
                            ("adapter sync+look-ups", ["DongBoHoSoMC", "TraCuuHoSo", "LayDanhSachTTHC"])):
        demo_environment()
        target = write_target(work, portal_load(services, 32, duration), name=f"mock-{len(out)}.yaml")
        rc, s = run(target, work / f"mock-{len(out)}")
        out[label] = {"rc": rc, **_throughput(s), "mock_cpu": (s.get("mock") or {}).get("process", {})}
    return out


def bench_journeys(work: Path, duration: str, users: int) -> dict:
    demo_environment()
    target = write_target(work, {
        "users": users, "spawn_rate": users, "duration": duration, "stop_timeout_s": 15,
        "journeys": {"citizen": {"weight": 4, "think_time": {"min_s": 0, "max_s": 0}},
                     "officer": {"weight": 1, "think_time": {"min_s": 0, "max_s": 0}}},
        "back_office": {"login_path": "/can-bo/dang-nhap", "list_path": "/can-bo/ho-so",
                        "username_field": "ten_dang_nhap", "password_field": "mat_khau"},
        "reconciliation": {"submitted_status": ["1"]},
        "gate": {"max_error_rate": 0.01, "reconciliation": True}}, name="journeys.yaml")
    with start_reference_system(load_target(target), work / "journeys-ministry"):
        rc, s = run(target, work / "journeys")
    return {"rc": rc, **_throughput(s), "journeys": s.get("journeys"), "reconciliation": _recon(s),
            "mock_cpu": (s.get("mock") or {}).get("process", {}), "p95_ms": _p95(s)}


def bench_soak(work: Path, duration_s: int, outage_at: float, outage_s: float, defects: list[str]) -> dict:
    demo_environment()
    target = write_target(work, {
        "users": 10, "spawn_rate": 5, "duration": f"{duration_s}s", "stop_timeout_s": 15,
        "journeys": {"citizen": {"weight": 3, "think_time": {"min_s": 0.2, "max_s": 1.0}},
                     "officer": {"weight": 1, "think_time": {"min_s": 0.2, "max_s": 1.0}}},
        "back_office": {"login_path": "/can-bo/dang-nhap", "list_path": "/can-bo/ho-so",
                        "username_field": "ten_dang_nhap", "password_field": "mat_khau"},
        "outbox": {"url": "/van-hanh/outbox.json", "drain_timeout_s": 60},
        "reconciliation": {"submitted_status": ["1"]},
        "faults": [{"at_s": outage_at, "target": "adapter", "kind": "http_5xx", "value": 503, "duration_s": outage_s}],
        "gate": {"max_error_rate": 0.01, "reconciliation": True}}, name="soak.yaml")
    with start_reference_system(load_target(target), work / "soak-ministry", defects):
        rc, s = run(target, work / "soak")
    return {"rc": rc, "defects": defects, **_throughput(s), "journeys": s.get("journeys"),
            "reconciliation": _recon(s), "outbox": s.get("outbox"), "faults": (s.get("run") or {}).get("faults")}


def _throughput(s: dict) -> dict:
    t = s.get("throughput") or {}
    g = s.get("generator") or {}
    return {"requests": t.get("requests"), "rps": t.get("rps"), "error_rate": t.get("error_rate"),
            "generator_cpu_share": g.get("cpu_share"), "requests_per_cpu_s": g.get("requests_per_cpu_s")}


def _recon(s: dict) -> dict:
    r = s.get("reconciliation") or {}
    return {k: r.get(k) for k in ("checked_dossiers", "checked_payments", "lost", "duplicated", "inconsistent")}


def _p95(s: dict) -> dict:
    return {k: v["p95_ms"] for k, v in (s.get("steps") or {}).items()
            if k in ("sso: callback", "submit: step 2", "pay: confirm", "officer: action")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter runs (soak 20 s with a 5 s outage)")
    ap.add_argument("--only", default="generator,mock,journeys,soak")
    ap.add_argument("--keep", action="store_true", help="keep the run directories")
    args = ap.parse_args()
    only = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="kiemthu-bench-load-"))
    (work / "logs").mkdir()
    demo_environment()
    figures: dict = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    t0 = time.time()
    if "generator" in only:
        figures["generator_local"] = bench_generator(work, "6s" if args.quick else "15s", master_worker=False)
        figures["generator_worker"] = bench_generator(work, "6s" if args.quick else "15s", master_worker=True)
        for key, label in (("generator_local", "one local Locust process"),
                           ("generator_worker", "one Locust worker under a master")):
            g = figures[key]
            print(f"generator, {label} (FastHttpUser → loopback responder): {g['rps']} req/s measured; "
                  f"the process got {g['generator_cpu_share']} of a core → {g['requests_per_cpu_s']} req per CPU-second "
                  f"(= req/s with one full core)", flush=True)
    if "mock" in only:
        figures["mock"] = bench_mock(work, "5s" if args.quick else "10s")
        for label, f in figures["mock"].items():
            print(f"mock portal, {label}: {f['rps']} req/s, errors {f['error_rate']}, "
                  f"mock CPU p90 {f['mock_cpu'].get('cpu_percent_p90')}%", flush=True)
    if "journeys" in only:
        figures["journeys"] = bench_journeys(work, "10s" if args.quick else "30s", 16)
        j = figures["journeys"]
        print(f"reference system: {j['journeys'].get('citizen_per_min')} citizen journeys/min "
              f"({j['journeys'].get('citizen_completed')} completed, {j['rps']} req/s, errors {j['error_rate']}); "
              f"reconciliation {j['reconciliation']}", flush=True)
    if "soak" in only:
        dur, at, length = (20, 6, 5) if args.quick else (60, 25, 10)
        figures["soak"] = bench_soak(work, dur, at, length, [])
        s = figures["soak"]
        print(f"soak {dur}s with a {length}s adapter outage at +{at}s: reconciliation {s['reconciliation']}, "
              f"outbox {s['outbox'] and s['outbox'].get('note')}, rc {s['rc']}", flush=True)
    figures["elapsed_s"] = round(time.time() - t0, 1)
    figures["load_average_after"] = os.getloadavg()
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"run directories kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
