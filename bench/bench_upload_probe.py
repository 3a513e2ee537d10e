"""How long the disallowed-upload probe takes on a wizard served on loopback, per behaviour: refusing the file as
it is chosen, refusing it when the dossier is sent, taking it. Default step timeout (10 s), real Chromium.

    .venv/bin/python bench/bench_upload_probe.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.upload_probe import disallowed_upload  # noqa: E402
from kiemthu.runtime import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.conformance import wizard  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="kiemthu-bench-") as tmp:
        browser = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS)
        for variant in wizard.VARIANTS:
            seconds, outcomes = [], set()
            for i in range(args.repeat):
                with wizard.serve(variant) as site:
                    run = wizard.probe_run(browser, site, Path(tmp) / f"{variant}-{i}", wizard.adapter())
                    try:
                        result = disallowed_upload(run)
                    finally:
                        run.citizen.context.close()
                seconds.append(result["seconds"])
                outcomes.add(result.get("outcome") or "skipped")
            print(f"{variant:14s} {'/'.join(sorted(outcomes)):9s} median {statistics.median(seconds):6.2f}s "
                  f"(min {min(seconds):.2f}, max {max(seconds):.2f}, n={len(seconds)})")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
