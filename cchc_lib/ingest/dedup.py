"""De-duplication by key across validated chunks on disk, the last occurrence winning, without
holding every row in memory: the merge step of the bounded-memory ingest (issue 16, item 1).

The chunks are the files' validated chunks as ingest wrote them, taken in file order; a row's
number is its chunk's first row number plus its row number in the chunk. DuckDB finds each key's
last occurrence with a hash aggregate (which spills to disk under its memory limit rather than
growing) and returns only which rows win, as a mask over all rows in chunk order; ingest then
reads the winners back in pyarrow's own types, batch by batch, so a merged record stands where
its last occurrence stood, exactly as ``ingest.merge_duplicates`` orders them in memory. Keys
that are missing (NULL) group together, as pandas' ``duplicated`` groups NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cchc_lib.ingest import chunk_files

DEFAULT_MEMORY_LIMIT = "1GB"  # DuckDB's own limit; beyond it the aggregate spills to temp files


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def last_occurrence_mask(chunks: Sequence[Path], keys: Sequence[str], temp_dir: Path | None = None,
                         memory_limit: str = DEFAULT_MEMORY_LIMIT) -> np.ndarray:
    """Which rows of the parquet ``chunks`` (taken in order, rows in file order) are the last
    occurrence of their ``keys``: a boolean mask over all their rows, one byte a row. DuckDB
    groups the keys (a hash aggregate under ``memory_limit``, spilling to ``temp_dir``); a
    row's number is its chunk's first row number plus its row number in the chunk."""
    import duckdb  # imported here: only the ingest's merge step needs it

    files = [str(Path(p)) for p in chunks]
    if not files:
        raise ValueError("no chunks to de-duplicate")
    ipc = all(f.endswith(chunk_files.SUFFIX) for f in files)
    sizes = [chunk_files.chunk_rows(Path(f)) if ipc else pq.ParquetFile(f).metadata.num_rows for f in files]
    bases = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        # No progress bar on the terminal (DuckDB draws one on stdout for a query over 2 s).
        con.execute("SET enable_progress_bar = false")
        if temp_dir is not None:
            con.execute(f"SET temp_directory = {_literal(str(temp_dir))}")
        key_list = ", ".join(_ident(k) for k in keys)
        if ipc:
            # Arrow IPC chunks (ingest/chunk_files.py): their keys streamed to DuckDB chunk by chunk,
            # each row numbered here (DuckDB reads IPC files only through an extension).
            con.register("numbered_keys", _numbered_keys(files, bases, keys))
            winners = con.execute(
                f"SELECT max(seq) AS seq FROM numbered_keys GROUP BY {key_list}").fetchnumpy()["seq"]
        else:
            con.execute("CREATE TEMP TABLE chunk_base (filename VARCHAR, base BIGINT)")
            con.executemany("INSERT INTO chunk_base VALUES (?, ?)",
                            [(f, int(b)) for f, b in zip(files, bases[:-1], strict=True)])
            source = (f"read_parquet([{', '.join(_literal(f) for f in files)}], filename = true, "
                      "file_row_number = true)")
            winners = con.execute(
                f"SELECT max(b.base + r.file_row_number) AS seq FROM {source} r "
                f"JOIN chunk_base b ON r.filename = b.filename GROUP BY {key_list}").fetchnumpy()["seq"]
    finally:
        con.close()
    mask = np.zeros(int(bases[-1]), dtype=bool)
    mask[np.asarray(winners, dtype=np.int64)] = True
    return mask


def _numbered_keys(files: Sequence[str], bases: np.ndarray, keys: Sequence[str]) -> pa.RecordBatchReader:
    """The chunks' key columns and each row's number (``seq``), one chunk at a time."""
    sized = [f for f, a, b in zip(files, bases[:-1], bases[1:], strict=True) if b > a]
    # The key types of a chunk with rows (an empty one's text columns may have no type).
    schema = chunk_files.chunk_schema(Path(sized[0] if sized else files[0]))
    key_schema = pa.schema([schema.field(k) for k in keys])
    out_schema = pa.schema([*key_schema, pa.field("seq", pa.int64())])

    def batches():
        for file, base, end in zip(files, bases[:-1], bases[1:], strict=True):
            if end == base:
                continue
            table = chunk_files.read_chunk(Path(file), keys).cast(key_schema)
            start = int(base)
            for batch in table.to_batches():
                seq = pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64))
                start += batch.num_rows
                yield pa.RecordBatch.from_arrays([*batch.columns, seq], schema=out_schema)

    return pa.RecordBatchReader.from_batches(out_schema, batches())
