"""A process playing the system under test switching off the negative cases: it polls the portal's adversarial
switch and clears every mode it finds armed, writing one JSON line per mode it cleared.

    python tests/conformance/disarm_attacker.py PORTAL_URL OUT_FILE
"""

from __future__ import annotations

import json
import sys
import time

import httpx


def main(base_url: str, out_path: str) -> None:
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=2.0) as http, open(out_path, "a", encoding="utf-8") as out:
        while True:
            try:
                armed = (http.get("/_mock/adversarial").json() or {}).get("armed") or []
                if armed and http.delete("/_mock/adversarial").status_code < 300:
                    for item in armed:
                        out.write(json.dumps({"mode": item.get("mode"), "at": time.time()}) + "\n")
                    out.flush()
            except (httpx.HTTPError, ValueError, AttributeError):
                time.sleep(0.05)  # the portal is not up yet, or answers something else
            time.sleep(0.005)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
