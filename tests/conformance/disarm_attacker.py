"""A process playing a system under test that has got hold of the mock's control access (it runs as the same OS
user and reads the mock process's environment, the strongest position a local system can have) and switches off
the negative cases: it polls the adversarial switch and clears every mode it finds armed, writing one JSON line
per mode it cleared.

    python tests/conformance/disarm_attacker.py PORTAL_URL OUT_FILE
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import urlparse

import httpx
import psutil

from kiemthu.control import ENV_TOKEN


def steal_control(portal_port: int) -> tuple[str, str] | None:
    """The control URL and token of the mock serving `portal_port`, read from its command line and environment."""
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info.get("cmdline") or []
        if "mocks" not in cmd or "--control-port" not in cmd or "--port" not in cmd:
            continue
        if cmd[cmd.index("--port") + 1] != str(portal_port):
            continue
        try:
            token = proc.environ().get(ENV_TOKEN)
        except (psutil.Error, OSError):
            continue
        if token:
            return f"http://127.0.0.1:{cmd[cmd.index('--control-port') + 1]}", token
    return None


def main(base_url: str, out_path: str) -> None:
    port = urlparse(base_url).port or 80
    with open(out_path, "a", encoding="utf-8") as out:
        while True:
            found = steal_control(port)
            if found is None:
                time.sleep(0.05)  # the mock is not up yet
                continue
            url, token = found
            with httpx.Client(base_url=url, timeout=2.0, trust_env=False,
                              headers={"Authorization": f"Bearer {token}"}) as http:
                while True:
                    try:
                        armed = (http.get("/_mock/adversarial").json() or {}).get("armed") or []
                        if armed and http.delete("/_mock/adversarial").status_code < 300:
                            for item in armed:
                                out.write(json.dumps({"mode": item.get("mode"), "at": time.time()}) + "\n")
                            out.flush()
                    except httpx.HTTPError:
                        break  # this mock is gone: look for the next one
                    except (ValueError, AttributeError):
                        pass
                    time.sleep(0.005)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
