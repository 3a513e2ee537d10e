"""Soak: consecutive clean runs of the demo catalogue with services side by side; prints the failure count.

A run fails when its exit code is not 0 or any check of any service did not pass (the reference system with no
defect passes every check). Each run has a fresh reference system and mock portal on free ports, as `kiemthu demo`.

    .venv/bin/python bench/soak_catalogue.py                 # 20 runs, --workers 2
    .venv/bin/python bench/soak_catalogue.py --runs 5 --workers auto --reports
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.runner import run  # noqa: E402
from kiemthu.demo import DEMO_TARGET, demo_environment, start_reference_system  # noqa: E402
from kiemthu.runtime import make_run_dir, remove_temp, temp_dir  # noqa: E402
from kiemthu.target import load_target  # noqa: E402

OK = ("passed", "passed_with_exceptions", "warning", "not_applicable")


def one_run(workers: str, reports: bool, keep_failed: Path | None) -> tuple[bool, float, list[str]]:
    demo_environment()
    target = load_target(DEMO_TARGET)
    out = make_run_dir(temp_dir("soak-run"))
    failed = True
    try:
        t0 = time.monotonic()
        with start_reference_system(target, out, timeout=60):
            with open(out / "logs" / "runner.log", "w", encoding="utf-8") as quiet, contextlib.redirect_stdout(quiet):
                code = run(target=DEMO_TARGET, output=out, services=[], checks=[], headed=False,
                           build_report=reports, workers=workers)
        wall = time.monotonic() - t0
        path = out / "summary.json"
        summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"services": []}
        bad = [f"{s['id']}/{c}: {v['verdict']} — {v.get('reason', '')[:160]}" for s in summary["services"]
               for c, v in s["checks"].items() if v["verdict"] not in OK]
        if code != 0 and not bad:
            bad = [f"exit {code} (see logs/pytest.log)"]
        failed = bool(bad) or len(summary["services"]) != 3
        return not failed, wall, bad
    finally:
        if failed and keep_failed is not None:  # a failed run's directory is kept for reading
            keep_failed.mkdir(parents=True, exist_ok=True)
            os.replace(out, keep_failed / out.name)
        else:
            remove_temp(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--workers", default="2", help="N or auto")
    ap.add_argument("--reports", action="store_true", help="also build the reports of every run")
    ap.add_argument("--keep-failed", type=Path, default=None, metavar="DIR", help="move failed runs' directories here")
    args = ap.parse_args()
    os.environ.setdefault("CI", "true")
    failures, walls = 0, []
    for i in range(1, args.runs + 1):
        ok, wall, bad = one_run(args.workers, args.reports, args.keep_failed)
        walls.append(wall)
        failures += not ok
        print(f"  run {i:>2}/{args.runs}: {'ok' if ok else 'FAILED'} in {wall:.1f} s"
              + "".join(f"\n      {b}" for b in bad), flush=True)
    print(f"soak_catalogue: {args.runs} runs of the demo catalogue with --workers {args.workers}: "
          f"{failures} failure(s); {min(walls):.1f}–{max(walls):.1f} s per run (shared machine: noisy)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
