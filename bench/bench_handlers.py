"""In-process handler cost of the mock portal: microseconds per message, per endpoint, with no socket, no HTTP
parser and no load generator in between. The portal plane's ASGI app is called directly with a prepared scope
and body, as uvicorn would call it, so only what the mock itself does per message is timed.

    .venv/bin/python bench/bench_handlers.py [--messages 20000] [--rounds 5] [--profile]

Endpoints: DongBoHoSoMC (a new dossier each message: validation, rules, journal, SQLite append), the same with
isUpdating=True on a stored dossier, TraCuuHoSo (share), and a refused request (unknown Host, 421) as the floor
of the portal plane's gate. Each round times every endpoint once, in turn; the median round is shown. The
figures are for comparing two versions of the mock in one sitting on the same machine (A/B, alternately); on a
shared machine their absolute values drift from one minute to the next.

`--profile` runs DongBoHoSoMC under cProfile and prints the functions with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiemthu.runtime import VN_TZ  # noqa: E402
from mocks.app import create_app  # noqa: E402
from mocks.settings import DEMO_ADAPTER_PASSWORD, DEMO_ADAPTER_USER, DEMO_AGENCY_CODE, MockSettings  # noqa: E402
from tests.mocks.helpers import dossier, sync_message  # noqa: E402

PORT = 18800  # never listened on: the Host header and the base URL only have to agree
HOST = f"127.0.0.1:{PORT}".encode()


def codes():
    """Distinct valid dossier codes: 9999 per day, going back one day at a time."""
    today = datetime.now(VN_TZ)
    for n in itertools.count():
        day = today - timedelta(days=n // 9999)
        yield f"{DEMO_AGENCY_CODE}-{day:%y%m%d}-{n % 9999 + 1:04d}"


def scope(path: str, body: bytes, host: bytes = HOST) -> dict:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", PORT),
            "headers": [(b"host", host), (b"content-type", b"application/json"),
                        (b"dstcode", DEMO_AGENCY_CODE.encode()), (b"content-length", str(len(body)).encode())]}


async def call(app, path: str, body: bytes, host: bytes = HOST) -> tuple[int, bytes]:
    """One request through the ASGI app: (status, body)."""
    sent = False
    out: dict = {}

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # a handler that reads past the body waits, as on a real connection

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] = out.get("body", b"") + message.get("body", b"")

    await app(scope(path, body, host), receive, send)
    return out["status"], out.get("body", b"")


async def timed(app, path: str, bodies: list[bytes], expected: int, host: bytes = HOST) -> float:
    """CPU microseconds of this process per message over `bodies`, each answered with `expected` (else the run
    stops). CPU time, not wall time: what other processes on a shared machine take is not counted."""
    gc.collect()
    t0 = time.process_time()
    for body in bodies:
        status, reply = await call(app, path, body, host)
        if status != expected:
            raise SystemExit(f"{path}: HTTP {status} (expected {expected}): {reply[:300]!r}")
    return (time.process_time() - t0) / len(bodies) * 1e6


async def run(args) -> int:
    db = tempfile.mktemp(prefix="bench-handlers-", suffix=".sqlite")
    settings = MockSettings.demo(f"http://127.0.0.1:{PORT}", db)
    app = create_app(settings)
    portal = app.state.portal
    paths = portal.profile["adapter"]["paths"]
    try:
        status, reply = await call(app, paths["auth"], json.dumps(
            {"username": DEMO_ADAPTER_USER, "password": DEMO_ADAPTER_PASSWORD}).encode())
        session = json.loads(reply)["session"]
        head, tail = (p.encode() for p in json.dumps(sync_message(session, [dossier("__CODE__", status="2")]),
                                                     ensure_ascii=False).split("__CODE__"))
        upd_head, upd_tail = (p.encode() for p in json.dumps(
            sync_message(session, [dossier("__CODE__", status="2", GhiChu="cập nhật")], updating=True),
            ensure_ascii=False).split("__CODE__"))
        fresh = codes()
        stored = [next(fresh) for _ in range(200)]  # dossiers the update and look-up messages name
        await timed(app, paths["integration"], [head + c.encode() + tail for c in stored], 200)
        lookups = [json.dumps({"session": session, "madonvi": DEMO_AGENCY_CODE, "service": "TraCuuHoSo",
                               "mahoso": c}).encode() for c in stored]
        n = args.messages
        # a version of the mock without the portal plane's Host check answers 200: that row is then left out
        refused_host = (await call(app, paths["share"], lookups[0], b"rebound.example"))[0] == 421
        results: dict[str, list[float]] = {}

        def record(name: str, value: float) -> None:
            results.setdefault(name, []).append(value)

        if args.profile:
            bodies = [head + next(fresh).encode() + tail for _ in range(n)]
            profiler = cProfile.Profile()
            profiler.enable()
            await timed(app, paths["integration"], bodies, 200)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return 0

        for _ in range(args.rounds):
            bodies = [head + next(fresh).encode() + tail for _ in range(n)]  # prepared before the clock
            record("DongBoHoSoMC (new dossier)", await timed(app, paths["integration"], bodies, 200))
            updates = [upd_head + c.encode() + upd_tail for c in itertools.islice(itertools.cycle(stored), n)]
            record("DongBoHoSoMC (isUpdating=True)", await timed(app, paths["integration"], updates, 200))
            record("TraCuuHoSo (share)", await timed(app, paths["share"],
                                                     list(itertools.islice(itertools.cycle(lookups), n)), 200))
            if refused_host:
                record("refused Host (421)", await timed(app, paths["integration"], bodies[: n // 4], 421,
                                                         host=b"rebound.example"))
        portal.store.flush()
    finally:
        portal.store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)

    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"Python {sys.version.split()[0]} ({os.path.realpath(sys.executable)}); mock from {ROOT}")
    print(f"{args.messages} messages per endpoint per round, {args.rounds} rounds; CPU µs per message "
          f"(median round; min–max), and the messages per CPU-second that makes")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:<32} {median:7.1f} µs  ({min(values):.1f}–{max(values):.1f})  ≈ {1e6 / median:7.0f} msg/s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile DongBoHoSoMC instead of timing")
    args = parser.parse_args()
    runner = asyncio.run
    return runner(run(args))


if __name__ == "__main__":
    sys.exit(main())
