"""One `opinionwatch run` per data folder: an exclusive OS lock on ``data_dir/run.lock``.

The operating system releases the lock when its process ends, however it ends, so a lock left by a
``kill -9`` is simply taken by the next run; the file says who holds it (process id and since when), for
the message a second run gives.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_FILE = "run.lock"


class RunLockError(Exception):
    """Another run holds the data folder; the message names it."""


@contextmanager
def run_lock(data_dir: Path, now: datetime) -> Iterator[None]:
    """Hold the data folder's run lock for the block; :class:`RunLockError` when another process has it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process"
            raise RunLockError(
                f"another `opinionwatch run` uses {data_dir} ({holder}); stop it first, or give this one "
                "another data_dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {now.isoformat(timespec='seconds')}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
