"""CPU seconds by part of a run (Chromium's processes by type, the Playwright driver, the pytest processes, the mock
portal, the reference system), counted over the descendants of this process only: a sampler reads /proc twice a
second and keeps each process's last reading, so a process that ends between samples loses at most its last half
second. Anything else running on the machine is left out."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def part_of(cmdline: list[str]) -> str:
    """The part a process belongs to, from its command line."""
    text = " ".join(cmdline)
    args = text.split()  # Chromium rewrites its command line into one string
    if "chromium" in text or "chrome" in text:
        kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
        if kind == "utility":
            kind = next((a.split("=", 1)[1].split(".")[-1] for a in args if a.startswith("--utility-sub-type=")),
                        "utility")
        return f"chromium {kind}"
    if "run-driver" in text:
        return "playwright driver"
    if "-m mocks" in text:
        return "mock portal"
    if "examples.ministry" in text:
        return "reference system"
    if "pytest" in text or "xdist" in text or "execnet" in text or "exec(eval(sys.stdin" in text:
        return "pytest"  # the controller and its xdist workers (execnet starts them with `python -c`)
    return Path(cmdline[0]).name if cmdline else "?"


def _read(pid: str) -> tuple[int, float, list[str]] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    ppid, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    args = [c.decode(errors="replace") for c in cmdline if c]
    # a process that has exited but is not reaped yet has no command line: its name is in stat
    return ppid, cpu, args or [f"{stat[stat.index('(') + 1:stat.rindex(')')]} (exited)"]


class CpuByPart:
    """with CpuByPart() as parts: ...; parts.totals() → {part: CPU seconds} of this process's descendants."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.root = interval, os.getpid()
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        procs = {int(p): r for p in os.listdir("/proc") if p.isdigit() and (r := _read(p))}
        for pid, (ppid, cpu, cmdline) in procs.items():
            up, seen = ppid, 0
            while up not in (self.root, 0, 1) and up in procs and seen < 64:
                up, seen = procs[up][0], seen + 1
            if up == self.root and pid != self.root:
                self.last[pid] = (part_of(cmdline), cpu)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> CpuByPart:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for part, cpu in self.last.values():
            out[part] += cpu
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))
