"""One process at a time: an exclusive lock on a file (flock; msvcrt on Windows), released by the
OS if the process dies, so a crashed run never leaves a stale lock. The monthly job and the
processed-data generations (:mod:`cchc_lib.generations`) both hold one."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class LockBusy(RuntimeError):
    """Another process holds the lock."""



def _try_lock(handle: IO[str], wait: bool) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks a byte range instead of the whole file
        import msvcrt

        while True:
            try:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
                return
            except OSError:
                if not wait:
                    raise LockBusy from None
                time.sleep(1)
    flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(handle.fileno(), flags)
    except BlockingIOError:
        raise LockBusy from None



def _unlock(handle: IO[str]) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)



@contextmanager
def monthly_lock(path: Path, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (flock; released by the OS if the process dies, so a
    crashed run never leaves a stale lock). Raises LockBusy when taken and ``wait`` is false."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file is kept (never deleted): deleting a lock file races with a run opening it.
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in finally
    try:
        _try_lock(handle, wait)
        try:
            if os.name == "posix":
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
            yield
        finally:
            _unlock(handle)
    finally:
        handle.close()
