"""The system under test cannot bend a verdict through the mock's control API.

The attack (reported against an earlier mock, where `/_mock/*` was served unauthenticated on the portal port): a
process of the system under test polls `GET /_mock/adversarial` and sends `DELETE` whenever it can, so a forged
IPN is never sent, `ensure_bad_ipn_refused` cannot run, and a system that accepts forged callbacks is judged "Đạt".
Here a helper process plays that system: it knows the portal URL (and, as if it had scanned the ports, the control
port) but not the run's token. The verdicts of `kiemthu demo --defect ipn-checksum-not-verified` stay as they are."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiemthu.runtime import REPO_ROOT, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICE = "lltp-cap-phieu"

ATTACKER = r'''
import json, sys, time
import httpx

portal, control, out, stop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seen = {}
calls = [("GET", "/_mock/adversarial"), ("DELETE", "/_mock/adversarial"), ("DELETE", "/_mock/faults"),
         ("POST", "/_mock/reset")]
with httpx.Client(timeout=2, trust_env=False) as c:
    n = 0
    while not __import__("os").path.exists(stop):
        for plane, base, headers in (("portal", portal, {}), ("control", control, {}),
                                     ("control-guess", control, {"Authorization": "Bearer guessed-token"})):
            method, path = calls[n % len(calls)]
            try:
                status = c.request(method, base + path, headers=headers).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            key = f"{plane} {method} {path} {status}"
            seen[key] = seen.get(key, 0) + 1
        n += 1
        with open(out + ".tmp", "w") as f:
            json.dump(seen, f)
        __import__("os").replace(out + ".tmp", out)
        time.sleep(0.05)  # the pace of a poller, not a synchronisation
'''


def test_disarming_from_the_system_under_test_changes_no_verdict(tmp_path):
    """The control plane is not on the portal port and needs the run's token: the disarm attack gets 404 and 401,
    and the forged-IPN defect still fails the payment check (`ensure_bad_ipn_refused`), SSO still passes."""
    run_dir, seen_file, stop = tmp_path / "run", tmp_path / "attacker.json", tmp_path / "stop"
    demo = subprocess.Popen([str(Path(sys.executable).parent / "kiemthu"), "demo", "--defect",
                             "ipn-checksum-not-verified", "-s", SERVICE, "-o", str(run_dir)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    attacker = None
    try:
        log = run_dir / "logs" / "mock.log"
        text = wait_until(lambda: log.is_file() and "control plane on loopback only" in (t := log.read_text()) and t,
                          120, interval=0.1, what="the mock portal started by the demo")
        portal = re.search(r"Cổng DVCQG giả lập: (\S+)", text).group(1)
        control = re.search(r"control plane on loopback only: (\S+)", text).group(1)
        attacker = subprocess.Popen([sys.executable, "-c", ATTACKER, portal, control, str(seen_file), str(stop)])
        output, _ = demo.communicate(timeout=900)
    finally:
        stop.touch()
        if attacker is not None:
            attacker.wait(30)
        if demo.poll() is None:
            demo.kill()
    # answers while the mock was up (once it stopped, at the end of the run, connections are refused)
    seen = {k: n for k, n in json.loads(seen_file.read_text()).items() if k.rsplit(" ", 1)[1].isdigit()}
    assert sum(seen.values()) > 100, seen  # it was at it during the whole run
    assert {k.rsplit(" ", 1)[1] for k in seen if k.startswith("portal ")} == {"404"}, seen
    assert {k.rsplit(" ", 1)[1] for k in seen if k.startswith("control")} == {"401"}, seen

    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    svc = summary["services"][0]
    verdicts = {name: c["verdict"] for name, c in svc["checks"].items()}
    assert demo.returncode == 1 and not svc["completed"], (verdicts, output[-2000:])
    assert verdicts["payment"] == "failed", verdicts
    bad_ipn = [r["verdict"] for r in svc["checks"]["payment"]["rules"] if r["rule_id"] == "ensure_bad_ipn_refused"]
    assert "failed" in bad_ipn and "skipped" not in bad_ipn and "not_evaluated" not in bad_ipn, bad_ipn
    for name in ("sso", "submission", "processing"):
        assert verdicts[name] in ("passed", "passed_with_exceptions", "warning"), verdicts
    # the attempts are evidence in the run's journal
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    refused = [e for e in journal if e.get("role") == "control"]
    assert refused and {e["status_code"] for e in refused} <= {401, 404}
