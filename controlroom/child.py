"""One control-room run, as a process of its own: `kiemthu run` on a target, with the reference system first when
the target is the reference ministry system (the demo target or a copy of it). The engine starts it detached from
any web request; SIGTERM (a cancel, the server stopping) unwinds it so the suite, the mock portal and the
reference system all end with it.

Usage: python -m controlroom.child --target FILE --run-dir DIR [--service S]... [--check C]... [--defect D]...
                                   [--workers N] [--reference-system] [--exit-file FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path



def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m controlroom.child")
    parser.add_argument("--target", required=True, type=Path)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--service", action="append", default=[])
    parser.add_argument("--check", action="append", default=[])
    parser.add_argument("--defect", action="append", default=[])
    parser.add_argument("--workers", type=int, default=0, help="services side by side (0: one after another)")
    parser.add_argument("--reference-system", action="store_true")
    # where the exit code of a run that came to its end is written (read back by a restarted server)
    parser.add_argument("--exit-file", type=Path)
    return parser.parse_args(argv)


def run_child(args: argparse.Namespace) -> int:
    """The run itself; its exit code as `kiemthu run` gives it (0 passed, 1 failed, 2 configuration)."""
    from conformance.runner import run
    from kiemthu.demo import start_reference_system
    from kiemthu.runtime import ChildExited, DeadlineExceeded
    from kiemthu.target import TargetError, load_target

    def suite() -> int:
        return run(target=args.target, output=args.run_dir, services=args.service, checks=args.check, headed=False,
                   build_report=True, defects=args.defect, workers=args.workers or None)

    if not args.reference_system:
        return suite()
    try:
        target = load_target(args.target)
    except TargetError as exc:
        print(exc.render(), flush=True)
        return 2
    try:
        system = start_reference_system(target, args.run_dir, args.defect)
    except (ChildExited, DeadlineExceeded) as exc:
        print(str(exc), flush=True)
        return 2
    with system:
        return suite()


def main(argv: list[str] | None = None) -> None:
    from kiemthu.runtime import exit_on_signals

    exit_on_signals()
    args = parse(argv)
    code = run_child(args)  # a signal ends it by SystemExit: no exit file, the run did not come to its end
    if args.exit_file:
        args.exit_file.write_text(json.dumps({"exit_code": code}), encoding="utf-8")
    sys.exit(code)


if __name__ == "__main__":
    main()
