"""Reading one raw file as a sequence of row batches (issue 16: a bounded-memory ingest).

A CSV or text export is streamed: pyarrow's streaming CSV reader with the options of
``reading.read_csv_file``'s fast path, except that blank lines are kept as rows (empty, dropped
later like the slow path's, so the row numbers stay the spreadsheet's), its record batches cut
into batches of ``batch_rows`` rows, so that one batch (plus a block of the file) is in memory
at a time. A UTF-8 file (what the one-stop systems export) is read as it is; Windows-1258 and
UTF-16 text (Excel's "Unicode text") are decoded and normalised to NFC a block at a time
(transcode.py) into the very text the whole read decodes, and read as UTF-8. Every other file
is read whole by ``readers.read_input`` exactly as before and then cut into batches:
spreadsheets (.xlsx, .xls, HTML tables: small in practice, and their readers hold the sheet
anyway) and bare-CR line ends; and a streamed file turning out to have rows whose cells do not
line up with the header (the slow path marks them) or a byte its encoding does not have (not
UTF-8, not Windows-1258, an odd UTF-16 byte) is read again whole (:class:`StreamFallback`),
which gives the rows, rejects or error message it always gave.

A batch is a :class:`reading.RawTable` of consecutive rows, with the spreadsheet row numbers the
whole file would give them; the file's reading warnings ride on its first batch. Validation is
row by row, so validating the batches gives the rows and rejects of validating the whole file.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from cchc_lib.mapping import Mapping
from cchc_lib.readers import read_input, sniff
from cchc_lib.reading import (
    IngestError,
    RawTable,
    csv_layout,
    header_warnings,
    make_raw_table,
)
from cchc_lib.transcode import TranscodedText

DEFAULT_BATCH_ROWS = 250_000  # rows validated at a time (about 0.2 GB of temporaries at most)
# Bytes the streaming reader parses at a time: its memory grows with the block (16 MB blocks,
# as the whole-file read uses, took 0.55 GB to read a 1M-row file; 1 MB blocks 0.3 GB).
STREAM_BLOCK = 1 << 20


class StreamFallback(Exception):
    """The streamed file turned out not to be readable on the fast path (an invalid UTF-8 byte
    or a ragged row far into it): the caller discards the batches it got and reads again with
    :func:`read_whole_batches`."""


def slice_raw(raw: RawTable, start: int, stop: int, first: bool) -> RawTable:
    """Rows ``start:stop`` of a file read whole, as their own RawTable."""
    return RawTable(
        file=raw.file, table=raw.table, data=raw.data.slice(start, stop - start),
        rows=raw.rows[start:stop], warnings=list(raw.warnings) if first else [],
        ragged=None if raw.ragged is None else raw.ragged[start:stop], header_cells=raw.header_cells,
    )


def read_whole_batches(path: Path, raw_dir: Path, table: str, mapping: Mapping,
                       batch_rows: int) -> Iterator[RawTable]:
    """The file read whole (readers.read_input), then cut into batches; at least one batch."""
    raw = read_input(path, raw_dir, table, mapping)
    n = len(raw)
    for start in range(0, max(n, 1), batch_rows):
        yield slice_raw(raw, start, min(start + batch_rows, n), start == 0)


def read_batches(path: Path, raw_dir: Path, table: str, mapping: Mapping,
                 batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[RawTable]:
    """One raw file in batches of ``batch_rows`` rows (at least one batch, maybe empty).

    Raises :class:`StreamFallback` part way when a streamed file must be read whole after all;
    IngestError names the file when it cannot be used (as readers.read_input does)."""
    stream = _open_stream(path, raw_dir, table, mapping)
    if stream is None:
        yield from read_whole_batches(path, raw_dir, table, mapping, batch_rows)
        return
    reader, first_row, notes = stream
    rel = path.relative_to(raw_dir).as_posix()
    pending: list[pa.RecordBatch] = []
    held = 0
    next_row = first_row
    yielded = False
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            pending.append(batch)
            held += batch.num_rows
            while held >= batch_rows:
                data = pa.Table.from_batches(pending)
                out, rest = data.slice(0, batch_rows), data.slice(batch_rows)
                yield _batch(rel, table, out, next_row, notes if not yielded else [])
                yielded = True
                next_row += batch_rows
                pending, held = rest.to_batches(), rest.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise StreamFallback(str(exc)) from exc
    if held or not yielded:
        data = pa.Table.from_batches(pending, schema=reader.schema)
        yield _batch(rel, table, data, next_row, notes if not yielded else [])


def _batch(rel: str, table: str, data: pa.Table, first_row: int, notes: list[str]) -> RawTable:
    rows = np.arange(first_row, first_row + data.num_rows, dtype=np.int64)
    return make_raw_table(rel, table, data, rows, notes)


def _open_stream(path: Path, raw_dir: Path, table: str,
                 mapping: Mapping) -> tuple[pacsv.CSVStreamingReader, int, list[str]] | None:
    """The streaming reader of a CSV or text export on the fast path (renamed to canonical
    columns), the spreadsheet row of its first data row and its reading warnings; None for any
    other file (read whole)."""
    if sniff(path) != "text":
        return None
    rel = path.relative_to(raw_dir).as_posix()
    try:
        with header_warnings(rel) as notes:
            encoding, text, delim, idx, cols, ncols = csv_layout(path, rel, table, mapping, stream=True)
    except IngestError:
        raise
    except UnicodeDecodeError:
        return None  # not in the encoding its head suggests: the whole read says so, as before
    except Exception as exc:  # as readers._read_kind: the user needs the file name
        raise IngestError(f"không đọc được tệp {rel}: {exc}") from exc
    if text is not None:
        return None
    if encoding.startswith("utf-8"):
        source: io.RawIOBase = _Upto(path, _content_end(path))
    else:
        # Windows-1258 or UTF-16: decoded and NFC-normalised a block at a time (transcode.py),
        # the text the whole read would give, as UTF-8.
        source = TranscodedText(path, encoding)
    names = [f"c{i}" for i in range(ncols)]
    include = [f"c{i}" for i in cols.values()]
    try:
        reader = pacsv.open_csv(
            # Blank lines at the very end shift nothing (as on the fast path): left out. A blank
            # line before the last row is kept as an empty row (ignore_empty_lines off), so the
            # rows after it keep their numbers, as on the slow path, without a scan for blank
            # lines first (a second pass over the file; tests/test_ingest_batches.py).
            io.BufferedReader(source, buffer_size=1 << 20),
            read_options=pacsv.ReadOptions(skip_rows=idx + 1, column_names=names, block_size=STREAM_BLOCK),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in include},
                include_columns=include,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        source.close()
        return None  # the first block already fails the fast path: read whole
    return _Renamed(reader, list(cols)), idx + 2, notes


def _content_end(path: Path) -> int:
    """The file's size without its trailing line ends."""
    end = path.stat().st_size
    with path.open("rb") as fh:
        while end > 0:
            step = min(end, 1 << 16)
            fh.seek(end - step)
            kept = fh.read(step).rstrip(b"\r\n")
            if kept:
                return end - step + len(kept)
            end -= step
    return 0


class _Upto(io.RawIOBase):
    """The first ``end`` bytes of a file, as a readable stream."""

    def __init__(self, path: Path, end: int) -> None:
        super().__init__()
        self._fh = path.open("rb")
        self._left = end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._left)
        if n <= 0:
            return 0
        got = self._fh.readinto(memoryview(buffer)[:n]) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._fh.close()
        super().close()


class _Renamed:
    """A streaming reader whose batches carry the canonical column names."""

    def __init__(self, reader: pacsv.CSVStreamingReader, names: list[str]) -> None:
        self._reader = reader
        self._names = names
        # include_columns gives the columns in its own order, the column map's (as _arrow_read).
        self.schema = pa.schema([pa.field(n, pa.string()) for n in names])

    def read_next_batch(self) -> pa.RecordBatch:
        batch = self._reader.read_next_batch()
        return pa.RecordBatch.from_arrays(batch.columns, names=self._names)
