"""A control-room server that is killed mid-run (tests/controlroom/test_engine.py): it ends one run (a target
with a broken adapter: exit code 2), starts a second on the reference system, prints `ready <ended> <running>`
once that one plays its steps, and waits to be killed."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from controlroom.engine import RunManager
from kiemthu.runtime import wait_until


def main(db: str, runs: str, target: str, service: str) -> None:
    manager = RunManager(Path(db), Path(runs))
    broken = Path(runs).parent / "broken-target.yaml"
    broken.write_text(Path(target).read_text(encoding="utf-8").replace("  flows:\n", "  flows:\n    pay_twice: []\n", 1),
                      encoding="utf-8")
    ended = manager.start(campaign_id="c-1", target=broken, services=[service], checks=[], started_by="canbo1")
    wait_until(lambda: not manager.get(ended).active, 120, interval=0.2, what="the broken run ended")
    running = manager.start(campaign_id="c-1", target=Path(target), services=[service], checks=[],
                            started_by="canbo1")
    wait_until(lambda: any(e["event"] == "step" for e in manager.progress(running)), 180, interval=0.1,
               what="the second run playing its steps")
    print(f"ready {ended} {running}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
