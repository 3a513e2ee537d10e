"""What the processes of one run share when services run concurrently (`--workers`): a folder of the run's own,
outside the run directory, holding exclusive locks (one SSO round trip of a citizen at a time: services that log in
as one test citizen cannot be told apart at the portal) and the claims of the cases run once per run (the outage
drill, the SSO negatives) with their results.

With one process it is the same, only never contended: the rules are the same either way."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from kiemthu.runtime import DeadlineExceeded, wait_until

# a worker learns the folder of its run through this variable (set by the controller before workers start)
ENV_SHARED = "KIEMTHU_RUN_SHARED"


class RunLock:
    """Exclusive across the threads of this process and the processes of the run (flock on a file)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._thread = threading.Lock()
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self._thread.acquire()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
        except BaseException:
            self._thread.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        fd, self._fd = self._fd, None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        finally:
            self._thread.release()


class RunShared:
    """The folder shared by the processes of one run."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, RunLock] = {}
        self._locks_guard = threading.Lock()

    def lock(self, name: str) -> RunLock:
        """The run-wide lock called `name` (one object per name in a process, so its threads exclude each other)."""
        key = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
        with self._locks_guard:
            if key not in self._locks:
                self._locks[key] = RunLock(self.folder / f"{key}.lock")
            return self._locks[key]

    def claim(self, name: str, owner: str) -> str:
        """The owner of the once-per-run case `name`: `owner` when this call is the first, else the first one's.
        Atomic across processes: the claim file is linked into place, which fails when it exists."""
        path = self.folder / f"{name}.claim"
        tmp = self.folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(owner, encoding="utf-8")
        try:
            os.link(tmp, path)
            return owner
        except FileExistsError:
            return path.read_text(encoding="utf-8")
        finally:
            tmp.unlink(missing_ok=True)

    def played_elsewhere(self, name: str, owner: str, timeout: float) -> tuple[str, Any] | None:
        """The once-per-run case `name` as the service that claimed it first played it: (that service, the result
        it published). None when `owner` is the first (it plays the case) or no result came within `timeout`
        (the caller then plays the case itself rather than go without it)."""
        first = self.claim(name, owner)
        if first == owner:
            return None
        published = self.result(name, timeout)
        return None if published is None else (first, published)

    def publish(self, name: str, value: Any) -> None:
        """The result of a once-per-run case, for the other processes (written whole, then renamed)."""
        tmp = self.folder / f".{name}.{os.getpid()}.json"
        tmp.write_text(json.dumps(value, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, self.folder / f"{name}.json")

    def result(self, name: str, timeout: float) -> Any | None:
        """The result another process published for `name`, waiting up to `timeout` seconds (None if none came)."""
        path = self.folder / f"{name}.json"
        try:
            wait_until(path.is_file, timeout, interval=0.1, what=f"the result of {name} from another worker")
        except DeadlineExceeded:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
