"""Worker processes of ``cchc ingest`` (issue 16: the ingest's time on every core).

Validating a batch of rows (validation.validate) and building the day-level aggregate of a
batch of dossiers (daily.build_daily) are pure work on one batch: they are handed to a pool of
worker processes, while this process reads the next batch or writes the processed table. Each
result comes back to its place in order (:class:`OrderedTasks`), so the rows, rejects, row
numbers and accounting are exactly those of one process (tests/test_ingest_workers.py compares
the outputs byte for byte).

The workers are forked from a fork server that has imported the ingest's modules once (a
plain fork of this process could inherit a lock held by one of pyarrow's threads; spawning
each worker afresh would import pandas and pyarrow in each). They ignore Ctrl-C: this process
gets it, stops them and removes its work folder; an error in a worker comes back as that error
here, and the run stops with the earlier outputs whole, as for any error.

``CCHC_INGEST_WORKERS``: how many worker processes (default: the cores, at most
:data:`DEFAULT_MAX_WORKERS`); 1 does everything in this process, as before.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cchc_lib.reading import IngestError

WORKERS_ENV = "CCHC_INGEST_WORKERS"
# Each worker holds one batch and its temporaries (about 0.4 GB at 250,000 rows): two keep the
# run under 2 GB at any size, and this process reading the CSV keeps two of them busy.
DEFAULT_MAX_WORKERS = 2
WORKERS_HINT = f"{WORKERS_ENV} phải là số tiến trình làm việc (số nguyên dương)"


STOPPED = (f"một tiến trình làm việc của lệnh nhập dữ liệu đã dừng đột ngột (hết bộ nhớ?); chạy lại, "
           f"hoặc đặt {WORKERS_ENV}=1 để làm tất cả trong một tiến trình")


def workers_setting(workers: int | None = None) -> int:
    """Worker processes: the argument, else ``CCHC_INGEST_WORKERS``, else the cores (at most
    :data:`DEFAULT_MAX_WORKERS`)."""
    if workers is None:
        text = os.environ.get(WORKERS_ENV, "").strip()
        if text and not text.isdigit():
            raise IngestError(f"{WORKERS_HINT}, không phải '{text}'")
        workers = int(text) if text else min(os.cpu_count() or 1, DEFAULT_MAX_WORKERS)
    if workers < 1:
        raise IngestError(f"{WORKERS_HINT}, không phải {workers}")
    return workers


def _ready() -> None:
    """A task that does nothing (WorkerPool.warm_up)."""


def _ignore_interrupt() -> None:
    # Ctrl-C reaches the whole process group: the parent alone handles it (it stops the pool).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WorkerPool:
    """The run's worker processes, started when first needed; ``parallel`` is False with one
    worker (everything then runs in this process)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            # The fork server imports the ingest's modules once; each worker is a fork of it.
            context.set_forkserver_preload(["cchc_lib.ingest.chunks"])
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                 initializer=_ignore_interrupt)
        try:
            return self._executor.submit(fn, *args)
        except BrokenProcessPool as exc:
            raise IngestError(STOPPED) from exc

    def warm_up(self) -> None:
        """Start the workers now, without waiting for them: their fork server imports the
        ingest's modules (about a second) while this process reads the first batches."""
        if self.parallel and self._executor is None:
            for _ in range(self.workers):
                self.submit(_ready)

    @staticmethod
    def result(future: Future) -> Any:
        """The task's result; its error raised here, a worker that died as an IngestError."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise IngestError(STOPPED) from exc

    def close(self, failed: bool = False) -> None:
        """Stop the workers; after a failure (an error, Ctrl-C) without waiting for their work."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if failed:
            # concurrent.futures has no public way to stop running work before Python 3.14
            # (terminate_workers); their results are not wanted. Joined: once this returns,
            # nothing of theirs writes any more.
            processes = list(getattr(executor, "_processes", {}).values())
            for process in processes:
                process.terminate()
            for process in processes:
                process.join()
        executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.close(failed=kind is not None)


class OrderedTasks:
    """Tasks submitted to the pool whose results are taken in the order submitted, at most
    ``ahead`` of them waiting at a time (each holds a batch on disk)."""

    def __init__(self, pool: WorkerPool, on_result: Callable[[Any], None], ahead: int) -> None:
        self.pool = pool
        self.on_result = on_result
        self.ahead = ahead
        self.pending: deque[Future] = deque()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self.pending.append(self.pool.submit(fn, *args))
        while len(self.pending) > self.ahead:
            self.on_result(WorkerPool.result(self.pending.popleft()))

    def finish(self) -> None:
        while self.pending:
            self.on_result(WorkerPool.result(self.pending.popleft()))

    def abandon(self) -> None:
        """After a failure (an error, Ctrl-C, a stream read again whole): the workers stopped
        at once, so that none writes into a folder about to be removed or refilled; the pool
        starts new ones if asked again."""
        for future in self.pending:
            future.cancel()
        self.pool.close(failed=True)  # the running tasks' futures may never be set: not waited on
        self.pending.clear()
