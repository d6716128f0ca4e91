"""De-duplication by key across validated chunks on disk, the last occurrence winning, without
holding every row in memory: the building block of a bounded-memory ingest (issue 16, item 1).

Each chunk of validated rows (a file, or a batch of a large file's rows) is written as a parquet
file with a running row number (:data:`SEQ`, global across the chunks in file order and row
order); DuckDB then finds each key's last occurrence with a hash aggregate (which spills to disk
under its memory limit rather than growing) and writes the winners in row-number order, so a
merged record stands where its last occurrence stood, exactly as
``ingest.merge_duplicates`` orders them in memory. Keys that are missing (NULL) group together,
as pandas' ``duplicated`` groups NaN.

``run_ingest`` uses :func:`last_occurrence_mask`: the chunks are the files' validated chunks as
written (no row-number column), and DuckDB returns only which rows win, as a mask over all rows
in chunk order, so that the winners are then read back in pyarrow's own types, batch by batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SEQ = "_cchc_seq"
DEFAULT_MEMORY_LIMIT = "1GB"  # DuckDB's own limit; beyond it the aggregate spills to temp files


def write_chunk(frame: pd.DataFrame, path: Path, first_seq: int) -> int:
    """``frame`` written to ``path`` with row numbers from ``first_seq``; returns the next one."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    seq = pa.array(np.arange(first_seq, first_seq + len(frame), dtype=np.int64))
    pq.write_table(table.append_column(SEQ, seq), path, compression="snappy")
    return first_seq + len(frame)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def last_occurrences(chunks: Iterable[Path], keys: Sequence[str], out_path: Path,
                     temp_dir: Path | None = None,
                     memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Counter:
    """One row per ``keys`` from the parquet ``chunks`` (written by :func:`write_chunk`), the
    last occurrence winning, written to ``out_path`` in row-number order without the row
    number. Returns, per ``source_file``, how many of its rows were superseded."""
    import duckdb  # imported here: only the ingest's merge step needs it

    files = [str(Path(p)) for p in chunks]
    if not files:
        raise ValueError("no chunks to de-duplicate")
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        con.execute("SET preserve_insertion_order = true")
        if temp_dir is not None:
            con.execute(f"SET temp_directory = {_literal(str(temp_dir))}")
        source = f"read_parquet([{', '.join(_literal(f) for f in files)}])"
        key_list = ", ".join(_ident(k) for k in keys)
        con.execute(f"CREATE TEMP TABLE winners AS SELECT max({SEQ}) AS {SEQ} FROM {source} "
                    f"GROUP BY {key_list}")
        superseded = con.execute(
            f"SELECT source_file, count(*) FROM {source} WHERE {SEQ} NOT IN (SELECT {SEQ} FROM winners) "
            "GROUP BY source_file").fetchall()
        con.execute(
            f"COPY (SELECT * EXCLUDE ({SEQ}) FROM {source} WHERE {SEQ} IN (SELECT {SEQ} FROM winners) "
            f"ORDER BY {SEQ}) TO {_literal(str(out_path))} (FORMAT parquet)")
    finally:
        con.close()
    return Counter({str(name): int(n) for name, n in superseded})


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
    sizes = [pq.ParquetFile(f).metadata.num_rows for f in files]
    bases = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        # No progress bar on the terminal (DuckDB draws one on stdout for a query over 2 s).
        con.execute("SET enable_progress_bar = false")
        if temp_dir is not None:
            con.execute(f"SET temp_directory = {_literal(str(temp_dir))}")
        con.execute("CREATE TEMP TABLE chunk_base (filename VARCHAR, base BIGINT)")
        con.executemany("INSERT INTO chunk_base VALUES (?, ?)",
                        [(f, int(b)) for f, b in zip(files, bases[:-1], strict=True)])
        source = (f"read_parquet([{', '.join(_literal(f) for f in files)}], filename = true, "
                  "file_row_number = true)")
        key_list = ", ".join(_ident(k) for k in keys)
        winners = con.execute(
            f"SELECT max(b.base + r.file_row_number) AS seq FROM {source} r "
            f"JOIN chunk_base b ON r.filename = b.filename GROUP BY {key_list}").fetchnumpy()["seq"]
    finally:
        con.close()
    mask = np.zeros(int(bases[-1]), dtype=bool)
    mask[np.asarray(winners, dtype=np.int64)] = True
    return mask
