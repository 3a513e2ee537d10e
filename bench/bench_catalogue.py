"""A whole catalogue in one sitting: wall time of the suite for 1, 10 and 30 services (generated variants of the
demo's three, bench/catalogue.py), serially and with `--workers 2` and `--workers 4`; the time per extra
service of each; the CPU used; the projection for 100 services.

Targets (issue: a whole catalogue as a daily CI job): per extra service ≤ 3.5 s with workers on 2 cores;
30 services ≤ 2 minutes.

    .venv/bin/python bench/bench_catalogue.py            # 1, 10, 30 services × serial, 2, 4 workers (~15 min)
    .venv/bin/python bench/bench_catalogue.py --quick    # 1 and 4 services × serial, 2 workers
    .venv/bin/python bench/bench_catalogue.py --sizes 1 5 --workers 0 2
    .venv/bin/python bench/bench_catalogue.py --sizes 10 --workers 2 --by-part   # CPU of each part of the run

Each measurement: a fresh reference system (its own database) and `conformance.runner.run` (mock portal start,
pytest start, browsers, every check, evidence; no report build). Figures on a shared machine are noisy.
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
sys.path.insert(0, str(ROOT / "bench"))

from bench.catalogue import generated_catalogue  # noqa: E402
from bench.cpu_parts import CpuByPart  # noqa: E402

from conformance.runner import run  # noqa: E402
from kiemthu.demo import demo_environment, start_reference_system  # noqa: E402
from kiemthu.runtime import make_run_dir, remove_temp, temp_dir  # noqa: E402
from kiemthu.target import load_target  # noqa: E402

PER_EXTRA_TARGET_S = 3.5
THIRTY_TARGET_S = 120.0
OK = ("passed", "passed_with_exceptions", "warning", "not_applicable")


def machine_cpu_s() -> float:
    """CPU seconds the whole machine has been busy (/proc/stat): the browsers a run starts are not its children once
    the driver exits, so getrusage would miss most of them; anything else running on the machine counts too."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure(n: int, workers: int, by_part: bool = False) -> dict:
    """One run of a generated catalogue of `n` services: wall seconds, CPU seconds the machine was busy meanwhile,
    and whether every check passed."""
    demo_environment()
    out = make_run_dir(temp_dir("bench-run"))
    try:
        with generated_catalogue(n) as cat:
            target = load_target(cat.target)
            cpu0 = machine_cpu_s()
            parts = CpuByPart() if by_part else contextlib.nullcontext()
            with parts, start_reference_system(target, out, catalogue=cat.services, timeout=60):
                t0 = time.monotonic()
                with open(out / "logs" / "runner.log", "w", encoding="utf-8") as quiet, \
                        contextlib.redirect_stdout(quiet):  # the suite's per-check lines stay out of the figures
                    code = run(target=cat.target, output=out, services=[], checks=[], headed=False,
                               build_report=False, workers=workers or None)
                wall = time.monotonic() - t0
            cpu = machine_cpu_s() - cpu0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8")) if (out / "summary.json").is_file() else {}
        bad = [f"{s['id']}/{c}: {v['verdict']} ({v.get('reason', '')[:200]})" for s in summary.get("services", [])
               for c, v in s["checks"].items()
               if v["verdict"] not in OK]
        return {"services": n, "workers": workers, "wall_s": wall, "cpu_s": cpu, "exit": code, "bad": bad,
                "parts": parts.totals() if by_part else {}}
    finally:
        remove_temp(out)


def mode_name(workers: int) -> str:
    return "serial" if workers <= 1 else f"--workers {workers}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30], help="catalogue sizes (first is the base)")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2, 4], help="0 = serial")
    ap.add_argument("--quick", action="store_true", help="sizes 1 and 4, serial and 2 workers")
    ap.add_argument("--by-part", action="store_true", help="also the CPU seconds of each part (Chromium's processes, "
                    "the Playwright driver, pytest, the mock, the reference system), per service")
    args = ap.parse_args()
    sizes, modes = ([1, 4], [0, 2]) if args.quick else (sorted(set(args.sizes)), args.workers)
    os.environ.setdefault("CI", "true")  # one line per finished check, not a live table
    cores = os.cpu_count() or 1
    print(f"bench_catalogue: sizes {sizes}, modes {[mode_name(w) for w in modes]}, {cores} cores "
          f"(the machine may be shared: figures are noisy)", flush=True)
    results: dict[tuple[int, int], dict] = {}
    for workers in modes:
        for n in sizes:
            r = measure(n, workers, args.by_part)
            results[(workers, n)] = r
            print(f"  {mode_name(workers):>12} {n:>3} services: {r['wall_s']:7.1f} s wall, {r['cpu_s']:7.1f} s CPU "
                  f"({r['cpu_s'] / r['wall_s']:.2f} cores busy on average), exit {r['exit']}"
                  + (f", not passed: {', '.join(r['bad'][:5])}" if r["bad"] else ""), flush=True)
            if r["parts"]:
                print("      CPU s per service by part: " + ", ".join(f"{part} {cpu / n:.2f}" for part, cpu
                                                                    in r["parts"].items() if cpu / n >= 0.01)
                      + f" (sum {sum(r['parts'].values()) / n:.2f})", flush=True)
    print("\nsummary")
    print(f"  {'mode':>12} " + " ".join(f"{n:>4} svc" for n in sizes) + "   per extra service      100 services (projected)")
    verdict = True
    base = sizes[0]
    for workers in modes:
        walls = [results[(workers, n)]["wall_s"] for n in sizes]
        largest = sizes[-1]
        per_extra = ((results[(workers, largest)]["wall_s"] - results[(workers, base)]["wall_s"]) / (largest - base)
                     if largest > base else float("nan"))
        slopes = ", ".join(f"{(results[(workers, n)]['wall_s'] - results[(workers, base)]['wall_s']) / (n - base):.2f} s"
                           f" ({base}→{n})" for n in sizes[1:])
        projected = results[(workers, base)]["wall_s"] + (100 - base) * per_extra
        print(f"  {mode_name(workers):>12} " + " ".join(f"{w:6.1f}s" for w in walls) + f"   {slopes:<22} "
              f"{projected:7.0f} s ({projected / 60:.1f} min)")
        if workers > 1 and largest > base:
            verdict &= per_extra <= PER_EXTRA_TARGET_S
        if workers > 1 and 30 in sizes:
            verdict &= results[(workers, 30)]["wall_s"] <= THIRTY_TARGET_S
    cpu_total = sum(r["cpu_s"] for r in results.values())
    wall_total = sum(r["wall_s"] for r in results.values())
    print(f"  CPU: {cpu_total:.0f} s over {wall_total:.0f} s of runs ({cpu_total / wall_total:.2f} of {cores} cores)")
    failed = [r for r in results.values() if r["exit"] != 0]
    print(f"  targets (with workers): per extra service ≤ {PER_EXTRA_TARGET_S} s, 30 services ≤ {THIRTY_TARGET_S:.0f} s: "
          f"{'met' if verdict else 'NOT met'}; runs not passing: {len(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
