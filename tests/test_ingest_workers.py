"""The ingest's worker processes (issue 16, the ingest's time; cchc_lib/ingest/pool.py): batches
validated and the day-level aggregate built by workers give the bytes of a one-process run
(``CCHC_INGEST_WORKERS=1``), every output file; an error or a death in a worker stops the run
with that error, without hanging, the earlier outputs whole and no work folder left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from cchc_lib.ingest import chunks as ingest_chunks
from cchc_lib.ingest import pool as ingest_pool
from cchc_lib.ingest import run as ingest
from cchc_lib.ingest.run import IngestError, run_ingest
from tests.ingest_helpers import csv_text, dossier_rows, make_raw
from tests.test_ingest_batches import RAW, _built_raw, _outputs

NOT_HANGING = 120  # seconds: a run here takes a few


@pytest.fixture
def submitted(monkeypatch):
    """The names of the tasks handed to worker processes."""
    names: list[str] = []
    real = ingest_pool.WorkerPool.submit

    def spy(self, fn, *args):
        if fn is not ingest_pool._ready:  # the workers started early (warm_up)
            names.append(fn.__name__)
        return real(self, fn, *args)

    monkeypatch.setattr(ingest_pool.WorkerPool, "submit", spy)
    return names


def _run(raw: Path, out: Path, monkeypatch, workers: int, batch_rows: int, cache: bool = False) -> dict:
    monkeypatch.setenv("CCHC_INGEST_CACHE", "1" if cache else "0")
    monkeypatch.setenv("CCHC_INGEST_WORKERS", str(workers))
    run_ingest(raw, out, batch_rows=batch_rows)
    assert not any(p.name.startswith(".ingest-work.") for p in out.iterdir())
    return _outputs(out)


def test_workers_give_the_bytes_of_one_process(tmp_path, monkeypatch, submitted):
    raw = _built_raw(tmp_path / "raw")
    one = _run(raw, tmp_path / "one", monkeypatch, 1, 7)
    assert submitted == []
    two = _run(raw, tmp_path / "two", monkeypatch, 2, 7)
    # a.csv (16 rows) and b.csv (11) in batches of 7: 3 + 2 batches to the workers; c.csv (2 rows)
    # and the small tables one batch each, validated here; the aggregate of the dossiers by one
    # while this process writes them.
    assert submitted == ["validate_task"] * 5 + ["daily_task"]
    assert sorted(two) == sorted(one) and {"daily.parquet", "dossiers.parquet"} <= set(one)
    for name in one:
        assert two[name] == one[name], f"{name} differs"


def test_above_the_overlap_the_aggregate_is_built_after_writing(tmp_path, monkeypatch, submitted):
    """More dossiers than DAILY_OVERLAP_ROWS: the workers make the six dossier chunks ready for
    the writer instead, then build the aggregate's batch (one: fewer dossiers than
    DAILY_INGEST_ROWS), added here; the same bytes."""
    raw = _built_raw(tmp_path / "raw")
    one = _run(raw, tmp_path / "one", monkeypatch, 1, 7)
    monkeypatch.setattr(ingest, "DAILY_OVERLAP_ROWS", 21)  # the built case's chunks hold more rows
    assert _run(raw, tmp_path / "two", monkeypatch, 2, 7) == one
    assert submitted == ["validate_task"] * 5 + ["prepare_task"] * 6 + ["daily_part_task"]


@pytest.mark.parametrize("daily_rows", [1, 4, 5, 13])
def test_the_aggregate_in_batches_by_the_workers(tmp_path, monkeypatch, submitted, daily_rows):
    """The aggregate's batches (DAILY_INGEST_ROWS winners each; the float sums depend on them)
    built by the workers, each from the chunks it spans, and added here in order: the bytes of
    one process reading them back from the written file, batches that cut chunks, files and
    duplicates included; and of the one worker that builds it while the dossiers are written."""
    raw = _built_raw(tmp_path / "raw")
    monkeypatch.setattr(ingest_chunks, "DAILY_INGEST_ROWS", daily_rows)
    one = _run(raw, tmp_path / "one", monkeypatch, 1, 7)
    overlapped = _run(raw, tmp_path / "overlap", monkeypatch, 2, 7)
    assert submitted.count("daily_task") == 1
    submitted.clear()
    monkeypatch.setattr(ingest, "DAILY_OVERLAP_ROWS", 0)
    parts = _run(raw, tmp_path / "parts", monkeypatch, 2, 7)
    written = len(pd.read_parquet(tmp_path / "one" / "dossiers.parquet"))
    assert submitted.count("daily_part_task") == -(-written // daily_rows) > 1
    assert overlapped == one and parts == one


def test_workers_on_the_sample_and_incremental(tmp_path, monkeypatch, submitted):
    if not any(RAW.glob("dossiers/*")):
        pytest.skip("data/raw has no sample dossiers yet")
    one = _run(RAW, tmp_path / "one", monkeypatch, 1, 97)
    out = tmp_path / "two"
    assert _run(RAW, out, monkeypatch, 2, 97, cache=True) == one
    # (the other tables of more than a batch are made ready for their writer by the workers)
    assert {"validate_task", "daily_task", "prepare_task"} == set(submitted)
    # Again from the cache entries the workers wrote: nothing read, the same bytes; this time
    # as above the overlap (the chunks made ready by the workers, then the aggregate's batches).
    submitted.clear()
    monkeypatch.setattr(ingest, "DAILY_OVERLAP_ROWS", 0)
    assert _run(RAW, out, monkeypatch, 2, 97, cache=True) == one
    assert {"prepare_task", "daily_part_task"} == set(submitted)


def failing_task(*args):
    """A worker's task that fails as a bug would."""
    raise ValueError("lỗi giả lập trong tiến trình làm việc")


def dying_task(*args):
    """A worker killed while validating (out of memory, say)."""
    os._exit(9)


@pytest.mark.parametrize(("task", "error"), [(failing_task, ValueError), (dying_task, IngestError)])
@pytest.mark.parametrize("where", ["validate_task", "daily_task", "prepare_task"])
def test_an_error_in_a_worker_stops_the_run_without_hanging(tmp_path, monkeypatch, task, error, where):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows(*({"Mã hồ sơ": f"HS-{i}"}
                                                                       for i in range(1, 30))))})
    if where == "prepare_task":
        monkeypatch.setattr(ingest, "DAILY_OVERLAP_ROWS", 0)
    out = tmp_path / "out"
    before = _run(raw, out, monkeypatch, 1, 7, cache=True)
    shutil.rmtree(out / ".ingest-cache")  # read again, by the workers
    monkeypatch.setattr(ingest_chunks, where, task)
    if where == "daily_task":
        monkeypatch.setattr(ingest, "daily_task", task)  # ingest.py's own reference
    monkeypatch.setenv("CCHC_INGEST_WORKERS", "2")
    with ThreadPoolExecutor(1) as runner:
        running = runner.submit(run_ingest, raw, out, batch_rows=7)
        with pytest.raises(error) as caught:
            running.result(timeout=NOT_HANGING)
    if error is IngestError:
        assert "CCHC_INGEST_WORKERS=1" in str(caught.value)
    assert _outputs(out) == before
    assert not any(p.name.startswith(".ingest-work.") for p in out.iterdir())
    # No half cache entry (a file validated whole before the aggregate failed keeps its entry).
    assert not any(p.name.startswith(".") for p in (out / ".ingest-cache").iterdir())
    # The next run, its workers fine again, gives the outputs of before.
    monkeypatch.undo()
    assert _run(raw, out, monkeypatch, 2, 7, cache=True) == before


def test_workers_setting(monkeypatch):
    monkeypatch.setenv("CCHC_INGEST_WORKERS", "3")
    assert ingest_pool.workers_setting() == 3
    assert ingest_pool.workers_setting(1) == 1
    monkeypatch.delenv("CCHC_INGEST_WORKERS")
    assert 1 <= ingest_pool.workers_setting() <= ingest_pool.DEFAULT_MAX_WORKERS
    for bad in ("hai", "0"):
        monkeypatch.setenv("CCHC_INGEST_WORKERS", bad)
        with pytest.raises(IngestError, match="CCHC_INGEST_WORKERS"):
            ingest_pool.workers_setting()


def test_ctrl_c_stops_the_workers_at_once(tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while the workers
    validate: `cchc ingest` exits within seconds, no process of its group is left, the earlier
    outputs are whole and no work folder or half cache entry remains."""
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    out = tmp_path / "out"
    env = {**os.environ, "CCHC_INGEST_WORKERS": "2", "CCHC_INGEST_BATCH_ROWS": "50"}
    command = [sys.executable, "-m", "cchc_lib", "ingest", "--raw", str(raw), "--out", str(out)]
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    before = _outputs(out)
    # 20,000 rows in batches of 50: the workers are busy for a long while.
    (raw / "dossiers" / "b.csv").write_text(
        csv_text(dossier_rows(*({"Mã hồ sơ": f"HB-{i}"} for i in range(20_000)))), encoding="utf-8")
    run = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + NOT_HANGING
        # Interrupted once the workers have written chunks of b.csv.
        while not list(out.glob(".ingest-cache/.*.tmp/chunk-000003.arrow")):
            assert run.poll() is None, run.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(run.pid, signal.SIGINT)
        asked = time.monotonic()
        run.wait(timeout=NOT_HANGING)
        assert time.monotonic() - asked < 30  # about a second on a quiet machine
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode != 0
    for _ in range(100):  # the fork server and the resource tracker see their pipes close
        left = _in_group(run.pid)
        if not left:
            break
        time.sleep(0.1)
    assert left == []
    assert _outputs(out) == before
    assert not any(p.name.startswith(".ingest-work.") for p in out.iterdir())
    assert not any(p.name.startswith(".") for p in (out / ".ingest-cache").iterdir())


def _in_group(group: int) -> list[int]:
    """The live processes of a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found
