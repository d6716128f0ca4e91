"""The ingest's validated chunks on disk (ingest/chunks.py, and the incremental cache's entries):
Arrow IPC files, not parquet.

Each chunk is written once (by the worker that validated its batch) and read two or three times
(the duplicate mask's keys, the writer's winners, the aggregate's columns); only the processed
tables are published as parquet. Encoding a chunk as parquet cost about 0.6 CPU-s per million
dossiers, and decoding it again about 0.3 s per read; an IPC file is the Arrow arrays as they are
in memory (:data:`COMPRESSION`: LZ4 frames, about twice the parquet chunk's size on disk; with
none, 7-8 times it, read back by mapping the file without a copy). The arrays read back are
the ones written, so the frames and every output are the same as from parquet chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

SUFFIX = ".arrow"
# LZ4 keeps the cache (one entry per raw file, kept between runs) about twice the size of parquet
# chunks instead of 7-8 times; the ingest's own work folder could do without.
COMPRESSION: str | None = "lz4"


def write_chunk(frame: pd.DataFrame | pa.Table, path: Path) -> None:
    """``frame`` as an IPC file at ``path`` (one record batch: a chunk is one batch of rows)."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    options = pa.ipc.IpcWriteOptions(compression=COMPRESSION)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)


def _open(path: Path, columns: Sequence[str] | None = None) -> pa.ipc.RecordBatchFileReader:
    source = pa.memory_map(str(path))
    if columns is None:
        return pa.ipc.open_file(source)
    schema = pa.ipc.open_file(source).schema
    fields = [schema.get_field_index(name) for name in columns]
    return pa.ipc.open_file(source, options=pa.ipc.IpcReadOptions(included_fields=sorted(fields)))


def read_chunk(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """The chunk's table, or just ``columns`` of it (in that order; only they are read)."""
    table = _open(path, columns).read_all()
    return table if columns is None else table.select(list(columns))


def chunk_rows(path: Path) -> int:
    return _open(path).count_rows()


def chunk_schema(path: Path) -> pa.Schema:
    return _open(path).schema


def may_lack(path: Path, columns: Sequence[str]) -> bool:
    """Whether any of ``columns`` holds a missing value in the chunk."""
    table = read_chunk(path, columns)
    return any(table.column(name).null_count for name in columns)
