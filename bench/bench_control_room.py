"""Benchmark of the control room: the campaign page with a long run history, and the live progress latency.

    .venv/bin/python bench/bench_control_room.py [--runs 1000] [--requests 200] [--poll-ms 400]

1. Campaign page: `kiemthu serve` (a real uvicorn server on a free loopback port) over a SQLite file seeded
   directly with `--runs` finished runs of one campaign (history rows: 3 services each, and the engine's rows),
   then `--requests` GETs of the campaign page (and of the home page) by a signed-in officer, one at a time.
   Target (issue 12): p95 < 200 ms on this machine.
2. Live progress: a real run of the demo target (reference system, mock portal, Chromium; SSO check of one
   service) started through the page's form; a client polls the progress endpoint as the page's script does
   (every `--poll-ms`), and for every step event measures the time from its writing in progress.jsonl (its `t`)
   to the client receiving it. A second run is followed with a 50 ms poll, which shows the engine's own delay.
   Target: < 1 s (step done → shown).

It prints figures; nothing here asserts. Timings on a shared machine are noisy: run it more than once.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import secrets
import statistics
import sys
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from controlroom import auth, db  # noqa: E402
from controlroom.app import DEMO_TARGET, ensure_demo_target, target_services  # noqa: E402
from controlroom.engine import SCHEMA as ENGINE_SCHEMA  # noqa: E402
from kiemthu.runtime import VN_TZ, ManagedProcess, free_port, remove_temp, temp_dir  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAGE_TARGET_MS = 200.0
LATENCY_TARGET_S = 1.0
PASSWORD = "bench-" + secrets.token_hex(8)


def seed(db_path: Path, runs_root: Path, n_runs: int, failed_share: float = 0.3) -> str:
    """An officer, the demo target, one campaign and `n_runs` finished runs of it, written straight to SQLite."""
    rng = random.Random(12)
    services = target_services(DEMO_TARGET)
    campaign_id = "20261201-bench"
    started = datetime(2026, 12, 1, 8, 0, tzinfo=VN_TZ)
    with closing(db.connect(db_path)) as conn:
        conn.executescript(ENGINE_SCHEMA)
        ensure_demo_target(conn)
        auth.add_user(conn, "canbo", PASSWORD, "can_bo", "Cán bộ đo hiệu năng")
        db.add_campaign(conn, campaign_id, "Đợt đo hiệu năng", "demo", started.date(), services, "canbo")
        with conn:
            for i in range(n_runs):
                run_id = f"{started + timedelta(minutes=i):%Y%m%d-%H%M%S}-{i:04x}"
                run_dir = str((runs_root / run_id).resolve())
                begin = started + timedelta(minutes=i)
                end = begin + timedelta(seconds=40)
                header = {"run_id": run_id, "started_at": begin.isoformat(), "finished_at": end.isoformat()}
                conn.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (run_id, run_dir, end.isoformat(), begin.isoformat(), end.isoformat(), end.isoformat(),
                              "Hệ thống tham chiếu", "000.00.00.G15", "http://127.0.0.1:1", "dvcqg-1.0", "0.1.0",
                              json.dumps(header), json.dumps({"report.pdf": f"{run_dir}/report.pdf"})))
                for svc in services:
                    failed = rng.random() < failed_share
                    verdicts = {c: "passed" for c in ("sso", "submission", "payment", "processing")}
                    if failed:
                        verdicts[rng.choice(list(verdicts))] = "failed"
                    code = f"000.00.00.G15-{begin:%y%m%d}-{i % 10000:04d}"
                    conn.execute("INSERT INTO services VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                 (run_id, svc["id"], svc["MaTTHC"], svc["TenTTHC"], svc["MaDVC"], svc["TenDVC"],
                                  "toan_trinh", int(not failed), json.dumps([code]), json.dumps(verdicts),
                                  json.dumps({"id": svc["id"], "dossier_codes": [code]})))
                conn.execute("INSERT INTO room_runs (id, campaign_id, target, services_json, checks_json, "
                             "defects_json, state, run_dir, started_at, finished_at, exit_code, started_by, server) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (run_id, campaign_id, str(DEMO_TARGET.resolve()), "[]", "[]", "[]", "finished",
                              run_dir, begin.isoformat(timespec="seconds"), end.isoformat(timespec="seconds"),
                              0, "canbo", "bench"))
    return campaign_id


def start_server(folder: Path, db_path: Path, runs_root: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    kiemthu = str(Path(sys.executable).parent / "kiemthu")
    proc = ManagedProcess("control room", [kiemthu, "serve", "--port", str(port), "--db", str(db_path),
                                           "--runs", str(runs_root)],
                          health_url=f"http://127.0.0.1:{port}/suc-khoe", log_path=folder / "serve.log",
                          env={"KIEMTHU_SIGNING_KEY": str(folder / "signing-key.pem")})
    return proc.start(timeout=60), f"http://127.0.0.1:{port}"


def login(url: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=60, trust_env=False, headers={"Accept": "text/html"})
    token = CSRF.search(client.get("/dang-nhap").text).group(1)
    r = client.post("/dang-nhap", data={"csrf": token, "username": "canbo", "password": PASSWORD})
    if r.status_code != 303:
        raise SystemExit(f"login refused: HTTP {r.status_code}")
    home = client.get("/")
    found = CSRF.search(home.text)
    if home.status_code != 200 or found is None:
        raise SystemExit(f"home page: HTTP {home.status_code}: {home.text[:500]}")
    return client, found.group(1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def time_page(client: httpx.Client, path: str, requests: int, warmup: int = 5) -> list[float]:
    """Milliseconds of each GET (whole response read), one at a time."""
    for _ in range(warmup):
        client.get(path).raise_for_status()
    out = []
    for _ in range(requests):
        t0 = time.perf_counter()
        r = client.get(path)
        r.raise_for_status()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def describe_ms(name: str, values: list[float], target: float | None = None) -> str:
    p95 = percentile(values, 95)
    verdict = "" if target is None else ("  [target p95 < %.0f ms: %s]" % (target, "met" if p95 < target else "NOT met"))
    return (f"{name}: n={len(values)} p50={statistics.median(values):.1f} ms p95={p95:.1f} ms "
            f"p99={percentile(values, 99):.1f} ms max={max(values):.1f} ms{verdict}")


def follow_run(client: httpx.Client, csrf: str, campaign_id: str, poll_s: float) -> tuple[list[float], str]:
    """Start a run from the page's form and poll its progress as the page does; seconds from each step's
    writing to its arrival at the client."""
    r = client.post(f"/chien-dich/{campaign_id}/chay", data={"csrf": csrf, "service": "lltp-cap-phieu",
                                                              "check": "sso"})
    if r.status_code != 303:
        raise SystemExit(f"run refused: HTTP {r.status_code}: {r.text[:300]}")
    run_id = r.headers["location"].rsplit("/", 1)[1]
    after, latencies, state = 0, [], "?"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        data = client.get(f"/lan-chay/{run_id}/tien-do", params={"after": after},
                          headers={"Accept": "application/json"}).json()
        seen = time.time()
        for event in data["events"]:
            after = event.get("index", after + 1)
            if event.get("event") in ("step", "check") and isinstance(event.get("t"), (int, float)):
                latencies.append(seen - event["t"])
        state = data["state"]
        if not data["active"]:
            break
        time.sleep(poll_s)  # the page's own polling interval (POLL_MS), not a synchronisation
    return latencies, f"run {run_id}: {state}"


def describe_s(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no step event seen"
    p95 = percentile(values, 95)
    return (f"{name}: n={len(values)} p50={statistics.median(values):.3f} s p95={p95:.3f} s max={max(values):.3f} s"
            f"  [target < {LATENCY_TARGET_S:.0f} s: {'met' if p95 < LATENCY_TARGET_S else 'NOT met'} at p95]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="finished runs seeded in the history")
    parser.add_argument("--failed-share", type=float, default=0.3, help="share of seeded service results failed")
    parser.add_argument("--requests", type=int, default=200, help="timed GETs of each page")
    parser.add_argument("--poll-ms", type=int, default=400, help="the client's polling interval (the page's: 400)")
    parser.add_argument("--skip-live", action="store_true", help="only the page timings (no run, no browser)")
    args = parser.parse_args()

    folder = temp_dir("bench-room")
    db_path, runs_root = folder / "controlroom.sqlite", folder / "runs"
    server = None
    try:
        t0 = time.perf_counter()
        campaign_id = seed(db_path, runs_root, args.runs, args.failed_share)
        print(f"seeded {args.runs} runs × 3 services in {time.perf_counter() - t0:.1f} s ({db_path.stat().st_size // 1024} KiB)")
        server, url = start_server(folder, db_path, runs_root)
        client, csrf = login(url)
        try:
            print(describe_ms(f"campaign page /chien-dich/{campaign_id}",
                              time_page(client, f"/chien-dich/{campaign_id}", args.requests), PAGE_TARGET_MS))
            print(describe_ms("home page /", time_page(client, "/", args.requests), PAGE_TARGET_MS))
            if not args.skip_live:
                for poll_ms in (args.poll_ms, 50):
                    latencies, how = follow_run(client, csrf, campaign_id, poll_ms / 1000)
                    print(describe_s(f"live progress, poll every {poll_ms} ms ({how})", latencies))
        finally:
            client.close()
    finally:
        if server is not None:
            server.stop(timeout=60)
        remove_temp(folder)
    print("figures on a shared machine vary from one run to the next; compare several")


if __name__ == "__main__":
    main()
