"""The bounded-memory steps of ``cchc ingest`` (issue 16, item 1): each raw file validated batch
by batch into chunks on disk (Arrow IPC files: ingest/chunk_files.py), duplicates found across the
chunks without holding them, and each processed table written from the chunks batch by batch.

1. :func:`validate_file`: a file read in row batches (ingest/read_batches.py), each batch validated
   (validation.validate is row by row) and its accepted rows written as one chunk; the file's
   rejects, columns and warnings kept beside them. This folder is the incremental cache's entry
   (ingest/cache.py), or a folder of the run's work area with the cache off.
2. :func:`resolve_chunks`: the dossier chunks with a missing procedure code, name or field
   resolved against the catalogue (catalogue.resolve_procedures, row by row), written anew.
3. :func:`keep_mask`: which rows are the last occurrence of their key, over all of a table's
   chunks in file order (pandas on the keys alone for a small table, DuckDB for a large one).
4. :func:`write_table`: the winners read back batch by batch, each batch transformed (the
   catalogue's service level), checked against the schema (schema_problems), handed to the
   sinks (the report's counts, the day-level aggregate) and added to the table's parquet file, written in
   row groups of pyarrow's default size so that the file is what one ``write_table`` of the whole
   frame writes, whatever the batch size.
"""

from __future__ import annotations

import ctypes
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cchc_lib import schema
from cchc_lib.catalogue import resolve_procedures
from cchc_lib.daily import DAILY_INPUTS
from cchc_lib.ingest import chunk_files
from cchc_lib.ingest.chunk_files import chunk_rows, chunk_schema, may_lack, read_chunk, write_chunk
from cchc_lib.ingest.daily_total import DailyTotal, Part, build_part
from cchc_lib.ingest.dedup import last_occurrence_mask
from cchc_lib.ingest.pool import OrderedTasks, WorkerPool
from cchc_lib.ingest.read_batches import StreamFallback, read_batches, read_whole_batches
from cchc_lib.mapping import Mapping
from cchc_lib.reading import IngestError, RawTable
from cchc_lib.validation import validate

META_FILE = "meta.json"
REJECTS_PART = "rejects.parquet"
ROW_GROUP_ROWS = 1024 * 1024  # pyarrow's default row-group size (ParquetWriter.write_table)
RESOLVE_COLUMNS = ("procedure_code", "procedure_name", "field")


@dataclass
class FileChunks:
    """What one raw file gave: its validated rows as chunks (Arrow IPC, in row order), its
    rejected rows, the canonical columns it had and its reading warnings."""

    rel: str
    table: str
    chunks: list[Path]
    accepted: int
    rejects: pd.DataFrame
    columns: list[str]
    notes: list[str]


def give_back_memory() -> None:
    """Freed memory returned to the system between batches, so that the peak stays one batch's:
    pyarrow's pool keeps freed blocks, and glibc keeps freed heap pages of the numpy arrays."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only (not musl, macOS, Windows)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    # No timestamps or random ids go into the file: the same frame gives the same bytes.
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="snappy")


def read_frame(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


def read_batches_of(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """A parquet file written here, as frames of at most ``batch_rows`` rows, in row order."""
    # pre_buffer off: with it, the reader kept each row group's buffers it had read until the
    # file was closed (+50 MB a row group: 0.5 GB more by the end of 10M dossiers).
    source = pq.ParquetFile(path, pre_buffer=False)
    for batch in source.iter_batches(batch_size=batch_rows):
        yield pa.Table.from_batches([batch]).to_pandas()
    if source.metadata.num_rows == 0:
        yield source.schema_arrow.empty_table().to_pandas()


# -- 1. one file, batch by batch -------------------------------------------------------------


def validate_file(path: Path, raw_dir: Path, table: str, mapping: Mapping, folder: Path,
                  batch_rows: int, pool: WorkerPool | None = None) -> None:
    """Fill ``folder`` with what the file gives (see :func:`load_file`). With a ``pool`` of
    several workers, a file of more than one batch has its batches validated by the workers
    while this process reads on."""
    try:
        _validate_batches(read_batches(path, raw_dir, table, mapping, batch_rows), mapping, folder, pool)
    except StreamFallback:
        # A streamed file that the fast path cannot read after all: read whole, as before.
        _validate_batches(read_whole_batches(path, raw_dir, table, mapping, batch_rows), mapping, folder,
                          pool)


def _validate_batches(batches: Iterator[RawTable], mapping: Mapping, folder: Path,
                      pool: WorkerPool | None) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rejects: list[pd.DataFrame] = []
    columns: list[str] = []
    notes: list[str] = []
    accepted = 0

    def took(result: tuple[int, pd.DataFrame]) -> None:
        nonlocal accepted
        accepted += result[0]
        if len(result[1]):
            rejects.append(result[1])

    tasks = OrderedTasks(pool, took, ahead=2 * pool.workers) if pool is not None and pool.parallel else None
    held: RawTable | None = None  # the first batch, until the file turns out to have a second
    try:
        for number, raw in enumerate(batches):
            if number == 0:
                columns, notes = sorted(raw.present), list(raw.warnings)
            if tasks is None:
                took(_validate_one(raw, mapping, _chunk_path(folder, number)))
            elif number == 0:
                held = raw
            else:
                if held is not None:  # more than one batch: the workers validate them
                    _hand_over(tasks, held, mapping, folder, 0)
                    held = None
                _hand_over(tasks, raw, mapping, folder, number)
            del raw
        if held is not None:  # one batch only: validated here, without starting workers
            took(_validate_one(held, mapping, _chunk_path(folder, 0)))
            held = None
        if tasks is not None:
            tasks.finish()
    except BaseException:
        if tasks is not None:
            tasks.abandon()
        raise
    write_frame(pd.concat(rejects, ignore_index=True) if rejects else empty_rejects(), folder / REJECTS_PART)
    (folder / META_FILE).write_text(
        json.dumps({"accepted": accepted, "columns": columns, "notes": notes}, ensure_ascii=False),
        encoding="utf-8")


def _chunk_path(folder: Path, number: int) -> Path:
    return folder / f"chunk-{number:06d}{chunk_files.SUFFIX}"


def _validate_one(raw: RawTable, mapping: Mapping, chunk: Path) -> tuple[int, pd.DataFrame]:
    """One batch validated, its accepted rows written as ``chunk``: (rows accepted, rejects)."""
    good, bad = validate(raw, mapping)
    write_chunk(good, chunk)
    return len(good), bad


def _hand_over(tasks: OrderedTasks, raw: RawTable, mapping: Mapping, folder: Path, number: int) -> None:
    """A batch given to a worker: its text as an Arrow IPC file beside the chunks (a copy into
    the page cache, which the worker maps without copying; pickling it through the pool's pipe
    cost three times as much), the rest of the RawTable as arguments."""
    feed = folder / f"feed-{number:06d}.arrow"
    with pa.OSFile(str(feed), "wb") as sink, pa.ipc.new_file(sink, raw.data.schema) as writer:
        writer.write_table(raw.data)
    meta: dict[str, object] = {"file": raw.file, "table": raw.table, "rows": raw.rows, "warnings": [],
            "ragged": raw.ragged, "header_cells": raw.header_cells}
    tasks.submit(validate_task, feed, meta, mapping, _chunk_path(folder, number))


def validate_task(feed: Path, meta: dict, mapping: Mapping, chunk: Path) -> tuple[int, pd.DataFrame]:
    """In a worker: the batch handed over by :func:`_hand_over`, validated into ``chunk``."""
    data = pa.ipc.open_file(pa.memory_map(str(feed))).read_all()
    feed.unlink()  # the mapping stays readable until its arrays are let go
    try:
        return _validate_one(RawTable(data=data, **meta), mapping, chunk)
    finally:
        del data
        give_back_memory()


def load_file(folder: Path, rel: str, table: str) -> FileChunks:
    """What :func:`validate_file` left in ``folder``."""
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    chunks = sorted(folder.glob(f"chunk-*{chunk_files.SUFFIX}"))
    if not chunks:
        raise FileNotFoundError(f"{folder}: no chunks")
    rejects = read_frame(folder / REJECTS_PART)
    return FileChunks(rel, table, chunks, int(meta["accepted"]), rejects, list(meta["columns"]),
                      list(meta["notes"]))


def empty_rejects() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in schema.REJECT_COLUMNS})
    return frame.astype({"source_row": "Int64"})


# -- 2. the catalogue -------------------------------------------------------------------------


def resolve_chunks(files: list[FileChunks], catalogue: pd.DataFrame, work: Path,
                   on_rejects: Callable[[FileChunks, pd.DataFrame], None]) -> list[FileChunks]:
    """The dossier files with each chunk that lacks a procedure code, name or field resolved
    against the catalogue (the resolved chunk written to ``work``); ``on_rejects`` gets each
    file's rows that cannot be resolved, in row order."""
    out: list[FileChunks] = []
    work.mkdir(parents=True, exist_ok=True)
    for number, file in enumerate(files):
        chunks: list[Path] = []
        bad_parts: list[pd.DataFrame] = []
        accepted = file.accepted
        for k, chunk in enumerate(file.chunks):
            if not may_lack(chunk, RESOLVE_COLUMNS):
                chunks.append(chunk)
                continue
            good, bad = resolve_procedures(read_chunk(chunk).to_pandas(), catalogue)
            target = work / f"{number:06d}-{k:06d}{chunk_files.SUFFIX}"
            write_chunk(good, target)
            chunks.append(target)
            if len(bad):
                bad_parts.append(bad)
                accepted -= len(bad)
        if bad_parts:
            on_rejects(file, pd.concat(bad_parts, ignore_index=True))
        out.append(FileChunks(file.rel, file.table, chunks, accepted, file.rejects, file.columns, file.notes))
    return out


# -- 3. duplicates ----------------------------------------------------------------------------


def keep_mask(files: list[FileChunks], table: str, spill: Path, small_rows: int) -> np.ndarray:
    """Per row of the table's chunks (files in order, rows in order): whether it is the last
    occurrence of its key. Up to ``small_rows`` rows the keys are read and compared in pandas
    (``DataFrame.duplicated``, as the in-memory merge did); above, DuckDB groups them on disk."""
    chunks = [c for f in files for c in f.chunks]
    keys = list(schema.KEYS[table])
    total = sum(chunk_rows(c) for c in chunks)
    if total <= small_rows:
        if total == 0:
            return np.zeros(0, dtype=bool)
        frame = pd.concat([read_chunk(c, keys).to_pandas() for c in chunks], ignore_index=True)
        return ~frame.duplicated(keys, keep="last").to_numpy()
    spill.mkdir(parents=True, exist_ok=True)
    return last_occurrence_mask(chunks, keys, temp_dir=spill)


# -- 4. the processed table -------------------------------------------------------------------


class RowGroupWriter:
    """A parquet file written from frames added one after another, in row groups of
    :data:`ROW_GROUP_ROWS` rows, each from contiguous arrays: the same file as one
    ``pq.write_table`` of all the frames together (contiguous), at any batch size.

    A row group's rows are held as the added frames' arrow chunks, column by column; each
    column is joined into one array only when the group is written, its chunks let go as it is
    joined, so that the group is held about once, not twice."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.schema: pa.Schema | None = None
        self.writer: pq.ParquetWriter | None = None
        self.columns: list[list[pa.Array]] = []
        self.held = 0
        self.groups = 0

    def add(self, frame: pd.DataFrame) -> None:
        self.add_table(pa.Table.from_pandas(frame, preserve_index=False))

    def add_table(self, table: pa.Table) -> None:
        """A frame already converted (``pa.Table.from_pandas(frame, preserve_index=False)``)."""
        if self.schema is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.path, self.schema, compression="snappy")
            self.columns = [[] for _ in self.schema]
        else:
            table = table.cast(self.schema)
        start = 0
        while start < table.num_rows:
            take = min(ROW_GROUP_ROWS - self.held, table.num_rows - start)
            for held, column in zip(self.columns, table.slice(start, take).columns, strict=True):
                held.extend(column.chunks)
            self.held += take
            start += take
            if self.held == ROW_GROUP_ROWS:
                self._flush()

    def _flush(self) -> None:
        assert self.writer is not None and self.schema is not None
        arrays = []
        for i, field in enumerate(self.schema):
            chunks, self.columns[i] = self.columns[i], []
            arrays.append(pa.concat_arrays(chunks) if chunks else pa.array([], type=field.type))
            del chunks
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.held = 0
        self.groups += 1

    def close(self) -> None:
        assert self.writer is not None, "nothing added"
        if self.held or not self.groups:
            self._flush()  # the last, shorter group; an empty table's one empty group
        self.writer.close()


def write_table(files: list[FileChunks], table: str, mask: np.ndarray, path: Path, batch_rows: int,
                transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                sinks: Sequence[Callable[[pd.DataFrame], None]] = (),
                pool: WorkerPool | None = None) -> Counter:
    """The table's winners (``mask``) written to ``path`` batch by batch, each batch through
    ``transform``, the schema check and the ``sinks``; returns the rows superseded per file.

    With a ``pool`` of several workers, a table of more than one batch has each chunk's winners
    taken through the transform, the check and fresh sinks by a worker (the sinks must be
    picklable, built without arguments and ``merge`` into the given ones), while this process
    encodes the file: the same bytes (RowGroupWriter)."""
    writer = RowGroupWriter(path)
    superseded: Counter = Counter()
    empty: pd.DataFrame | None = None
    starts = np.cumsum([0] + [_rows(c) for f in files for c in f.chunks])
    for file, _chunk, start, stop in _chunks_with_rows(files, starts):
        gone = int((stop - start) - mask[start:stop].sum())
        if gone:
            superseded[file.rel] += gone
    if pool is not None and pool.parallel and starts[-1] > batch_rows:
        tasks = OrderedTasks(pool, lambda result: _took_prepared(result, writer, sinks), ahead=pool.workers)
        try:
            for number, (_file, chunk, start, stop) in enumerate(_chunks_with_rows(files, starts)):
                tasks.submit(prepare_task, chunk, mask[start:stop], table, batch_rows, transform,
                             [_fresh(sink) for sink in sinks], path.with_name(f"{path.name}.{number:06d}"))
            tasks.finish()
        except BaseException:
            tasks.abandon()
            raise
    else:
        for _file, chunk, start, _stop in _chunks_with_rows(files, starts):
            for frame in _winners(chunk, mask, start, batch_rows):
                writer.add(_prepare(frame, table, transform, sinks))
    if writer.schema is None:
        for chunk in (c for f in files for c in f.chunks):
            empty = chunk_schema(chunk).empty_table().to_pandas()
            break
        assert empty is not None
        writer.add(_prepare(empty, table, transform, sinks))
    writer.close()
    return superseded


def _fresh(sink: Callable[[pd.DataFrame], None]) -> Callable[[pd.DataFrame], None]:
    """A new, empty sink of the same kind, for a worker to fill."""
    return type(sink)()  # type: ignore[misc]


def _rows(chunk: Path) -> int:
    return chunk_rows(chunk)


def _chunks_with_rows(files: list[FileChunks],
                      starts: np.ndarray) -> Iterator[tuple[FileChunks, Path, int, int]]:
    """Each chunk with its file and its rows' span in the mask."""
    k = 0
    for file in files:
        for chunk in file.chunks:
            yield file, chunk, int(starts[k]), int(starts[k + 1])
            k += 1


def _winners(chunk: Path, mask: np.ndarray, start: int, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The chunk's rows that ``mask`` (from ``start``) keeps, as frames of at most a batch."""
    position = start
    for batch in read_chunk(chunk).to_batches(max_chunksize=batch_rows):
        keep = mask[position:position + batch.num_rows]
        position += batch.num_rows
        if not keep.all():
            batch = batch.filter(pa.array(keep))
        if batch.num_rows:
            yield pa.Table.from_batches([batch]).to_pandas()


def _prepare(frame: pd.DataFrame, table: str, transform: Callable[[pd.DataFrame], pd.DataFrame] | None,
             sinks: Sequence[Callable[[pd.DataFrame], None]]) -> pd.DataFrame:
    """A batch of winners through the transform, the schema check and the sinks."""
    if transform is not None:
        frame = transform(frame)
    if problems := schema.schema_problems(frame, table):
        # A bug, not bad input: rows breaking the schema should have been rejected.
        raise IngestError(f"bảng {table} không khớp lược đồ sau khi kiểm tra: {'; '.join(problems)}")
    for sink in sinks:
        sink(frame)
    return frame


def prepare_task(chunk: Path, mask: np.ndarray, table: str, batch_rows: int,
                 transform: Callable[[pd.DataFrame], pd.DataFrame] | None, sinks: list,
                 out: Path) -> tuple[list[Path], list]:
    """In a worker: :func:`_prepare` of the chunk's winners, each batch as the Arrow table the
    writer adds, in an IPC file of its own beside ``out``; (those files, the sinks)."""
    written: list[Path] = []
    for k, frame in enumerate(_winners(chunk, mask, 0, batch_rows)):
        data = pa.Table.from_pandas(_prepare(frame, table, transform, sinks), preserve_index=False)
        del frame
        target = out.with_name(f"{out.name}-{k:06d}.arrow")
        with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_file(sink, data.schema) as writer:
            writer.write_table(data)
        written.append(target)
        del data
        give_back_memory()
    return written, sinks


def _took_prepared(result: tuple[list[Path], list], writer: RowGroupWriter,
                   sinks: Sequence[Callable[[pd.DataFrame], None]]) -> None:
    paths, filled = result
    for path in paths:
        writer.add_table(pa.ipc.open_file(pa.memory_map(str(path))).read_all())
        path.unlink()  # mapped until the writer lets its arrays go
    for sink, part in zip(sinks, filled, strict=True):
        sink.merge(part)  # type: ignore[attr-defined]


# -- 5. the day-level aggregate ---------------------------------------------------------------

# Dossiers per build_daily call when ingest builds the aggregate. Smaller than daily.py's own
# batch (a million): a million-row frame and build_daily's temporaries took 1.2-1.4 GB above the
# rest, half of that 0.6 GB. The counts are exact at any batch size; the two float sums may
# differ from a single pass in the last bits (at 3M dossiers: relative 7e-16), so up to this many
# dossiers the aggregate is the single pass itself, byte for byte. Smaller batches cost time:
# each batch's aggregate is added to the running total (about 0.5 s a time at 3M).
DAILY_INGEST_ROWS = 500_000


def running_daily(frames: Iterable[pd.DataFrame], procedures: pd.DataFrame,
                  feedback: pd.DataFrame | None) -> pd.DataFrame:
    """The aggregate of consecutive frames of dossiers (at least one), each built alone
    (daily.build_daily, the frame numbered on from the one before, as build_daily_in_batches'
    iloc) and added to the running total: one frame of dossiers and the total in memory at a
    time. The total is daily_total.DailyTotal: the same table, byte for byte, as adding each
    batch's aggregate with daily.add_daily, in a fraction of the time."""
    total = DailyTotal()
    offset = 0
    for frame in frames:
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        part = build_part(frame, procedures, feedback)
        del frame
        total.add(part)
        del part
        give_back_memory()
    return total.frame()


def daily_from_file(path: Path, procedures: pd.DataFrame, feedback: pd.DataFrame | None,
                    batch_rows: int | None = None) -> pd.DataFrame:
    """The day-level aggregate of the dossiers in a parquet file written by :func:`write_table`,
    built over ``batch_rows`` consecutive dossiers at a time (pyarrow's batches run across row
    groups): the same table as daily.build_daily_in_batches over the whole frame with that
    batch size."""
    batch_rows = batch_rows or DAILY_INGEST_ROWS  # read when called: tests change it
    return running_daily(read_batches_of(path, batch_rows), procedures, feedback)


def daily_from_chunks(files: list[FileChunks], mask: np.ndarray, procedures: pd.DataFrame,
                      feedback: pd.DataFrame | None, batch_rows: int | None = None) -> pd.DataFrame:
    """:func:`daily_from_file` of the dossiers :func:`write_table` writes, taken from the chunks
    and the mask instead of the written file, so that it can be built while the file is being
    written: the same batches of ``batch_rows`` consecutive dossiers, the same running total,
    the same table, byte for byte (the catalogue's service level, the one thing write_table
    changes, is not read by build_daily; only the columns it reads are read here)."""
    batch_rows = batch_rows or DAILY_INGEST_ROWS  # read when called: tests change it
    return running_daily(_kept_frames(files, mask, batch_rows), procedures, feedback)


def _kept_frames(files: list[FileChunks], mask: np.ndarray, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The chunks' rows the mask keeps, in frames of ``batch_rows`` (the last maybe shorter; one,
    maybe empty, at least), of the columns build_daily reads."""
    pending: list[pa.RecordBatch] = []
    held = 0
    position = 0
    yielded = False
    empty: pa.Schema | None = None
    for file in files:
        for chunk in file.chunks:
            columns = [c for c in chunk_schema(chunk).names if c in DAILY_INPUTS]
            data = read_chunk(chunk, columns)
            if empty is None:
                empty = data.schema
            for batch in data.to_batches(max_chunksize=batch_rows):
                keep = mask[position:position + batch.num_rows]
                position += batch.num_rows
                if not keep.all():
                    batch = batch.filter(pa.array(keep))
                pending.append(batch)
                held += batch.num_rows
                while held >= batch_rows:
                    data = pa.Table.from_batches(pending)
                    rest = data.slice(batch_rows)
                    yield data.slice(0, batch_rows).to_pandas()
                    yielded = True
                    del data
                    pending, held = rest.to_batches(), rest.num_rows
    if held or not yielded:
        assert empty is not None
        yield pa.Table.from_batches(pending, schema=empty).to_pandas()


def daily_in_workers(files: list[FileChunks], mask: np.ndarray, procedures: pd.DataFrame,
                     feedback: pd.DataFrame | None, pool: WorkerPool,
                     batch_rows: int | None = None) -> pd.DataFrame:
    """:func:`daily_from_chunks` with each batch's aggregate built by the pool's workers (the
    next one built while this process adds the last to the running total) and added here in the
    batches' order: the same batches of ``batch_rows`` consecutive winners, the same total, the
    same table, byte for byte."""
    batch_rows = batch_rows or DAILY_INGEST_ROWS  # read when called: tests change it
    starts = np.cumsum([0] + [_rows(c) for f in files for c in f.chunks])
    chunks = [c for f in files for c in f.chunks]
    kept = np.array([int(mask[a:b].sum()) for a, b in zip(starts[:-1], starts[1:], strict=True)],
                    dtype=np.int64)
    first_kept = np.concatenate([[0], np.cumsum(kept)])  # winners before each chunk
    winners = int(first_kept[-1])
    if not winners:
        return daily_from_chunks(files, mask, procedures, feedback, batch_rows)
    total = DailyTotal()
    tasks = OrderedTasks(pool, total.add, ahead=max(pool.workers, 1))
    try:
        for low in range(0, winners, batch_rows):
            high = min(low + batch_rows, winners)
            pieces = []
            for k in np.flatnonzero((first_kept[1:] > low) & (first_kept[:-1] < high)):
                before = int(first_kept[k])
                pieces.append((chunks[k], mask[starts[k]:starts[k + 1]], max(low - before, 0),
                               min(high, int(first_kept[k + 1])) - before))
            tasks.submit(daily_part_task, pieces, low, procedures, feedback)
        tasks.finish()
    except BaseException:
        tasks.abandon()
        raise
    return total.frame()


def daily_part_task(pieces: list[tuple[Path, np.ndarray, int, int]], offset: int, procedures: pd.DataFrame,
                    feedback: pd.DataFrame | None) -> Part:
    """In a worker: build_daily of one batch of winners, gathered from ``pieces`` (a chunk, its
    rows' mask, the span of its winners taken), numbered from ``offset`` as in running_daily;
    sent back compact (daily_total.build_part: half the frame's size)."""
    tables = []
    for chunk, keep, low, high in pieces:
        data = read_chunk(chunk, [c for c in chunk_schema(chunk).names if c in DAILY_INPUTS])
        if not keep.all():
            data = data.filter(pa.array(keep))
        tables.append(data.slice(low, high - low))
    frame = pa.concat_tables(tables).to_pandas()
    del tables
    frame.index = pd.RangeIndex(offset, offset + len(frame))
    part = build_part(frame, procedures, feedback)
    del frame
    give_back_memory()
    return part


def daily_task(files: list[FileChunks], mask: np.ndarray, procedures: pd.DataFrame,
               feedback: pd.DataFrame | None, out: Path, batch_rows: int | None = None) -> None:
    """In a worker: :func:`daily_from_chunks` written to ``out`` as ingest writes daily.parquet
    (``batch_rows`` as the ingest's process reads DAILY_INGEST_ROWS)."""
    write_frame(daily_from_chunks(files, mask, procedures, feedback, batch_rows), out)
    give_back_memory()
