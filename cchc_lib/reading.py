"""Reading raw exports (CSV and XLSX) into tables of canonical text columns.

What comes out of here is already free of personal data: personal-data columns are never read,
and the other columns that map to no canonical column (STT, notes ...) are read only to tell an
empty row from a non-empty one, then dropped. Values stay text; validation.py parses them.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import mmap
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cchc_lib import schema
from cchc_lib.mapping import Mapping, norm_key
from cchc_lib.transcode import text_head

HEADER_SEARCH_ROWS = 100  # title rows above the header: Excel exports carry a few, never this many
HEAD_BYTES = 1 << 18
DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 24


class IngestError(Exception):
    """A raw file cannot be read or lacks a required column; the run stops, nothing is written."""


@dataclass
class RawTable:
    """One raw file's rows: canonical text columns, fully empty rows removed."""

    file: str  # path relative to raw_dir, forward slashes
    table: str
    data: pa.Table  # one string column per canonical column present in the file
    rows: np.ndarray  # spreadsheet row number of each row (int64)
    warnings: list[str] = field(default_factory=list)  # "tệp X: ..." for the ingest summary
    ragged: np.ndarray | None = None  # per row: its cell count if the cells do not line up, else 0
    header_cells: int = 0  # cells of the header row (CSV read on the slow path)

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(self.data.column_names)

    def __len__(self) -> int:
        return self.data.num_rows


# -- header detection ----------------------------------------------------------------------


def _labels(table: str, names: Iterable[str]) -> list[str]:
    """Vietnamese headers; an "any of" requirement ``a|b`` reads ``Mã TTHC hoặc Tên TTHC``."""
    specs = {s.name: s.label_vi for s in schema.TABLES[table]}
    return [" hoặc ".join(specs.get(part, part) for part in n.split("|")) for n in names]


def map_header(cells: Sequence[object], table: str, mapping: Mapping) -> dict[str, int]:
    """canonical column -> index of its cell in a header row (the first spelling wins)."""
    lookup = mapping.header_lookup(table)
    rank = mapping.header_rank(table)
    found: dict[str, int] = {}
    found_rank: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if cell is None:
            continue
        key = norm_key(cell)
        if key in mapping.personal:
            continue
        canonical = lookup.get(key)
        if canonical is None:
            continue
        # Two headers for one column (Đơn vị giải quyết and Phòng ban): the spelling listed
        # first in mapping.yaml wins, then the leftmost cell.
        r = rank.get(key, 0)
        if canonical not in found or r < found_rank[canonical]:
            found[canonical] = i
            found_rank[canonical] = r
    return found


EXTRA_PREFIX = "_extra_"


def with_extra_columns(cells: Sequence[object], found: dict[str, int], mapping: Mapping) -> dict[str, int]:
    """The column map plus the other named, non-personal columns (STT, notes ...).

    Those are read only to tell an empty row from a row with something in it (an STT-only or
    "Tổng cộng" row must be rejected, not silently dropped) and are dropped right after.
    Personal-data columns are never read."""
    used = set(found.values())
    extras = {
        f"{EXTRA_PREFIX}{i}": i
        for i, cell in enumerate(cells)
        if i not in used and cell is not None and str(cell).strip()
        and norm_key(cell) not in mapping.personal
    }
    return {**found, **extras}


def required_columns(table: str) -> list[str]:
    """Required headers; ``a|b`` for "a or b" (schema.REQUIRED_ANY)."""
    return [s.name for s in schema.TABLES[table] if s.required] + [
        "|".join(group) for group in schema.REQUIRED_ANY.get(table, ())
    ]


def _has_required(name: str, found: dict[str, int]) -> bool:
    return any(part in found for part in name.split("|"))


class HeaderWarning(UserWarning):
    """Something about a header row the user should know, though the file can be read."""


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA: the column as a spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _warn_duplicates(cells: Sequence[object], table: str, mapping: Mapping, found: dict[str, int]) -> None:
    """Two headers naming the same column (two 'Ngày tiếp nhận'): the first is read; say so."""
    lookup = mapping.header_lookup(table)
    for i, cell in enumerate(cells):
        if cell is None or norm_key(cell) in mapping.personal:
            continue
        canonical = lookup.get(norm_key(cell))
        first = found.get(canonical) if canonical else None
        if first is not None and first != i:
            label = _labels(table, [canonical])[0]
            warnings.warn(HeaderWarning(
                f"hai cột cùng là '{label}': '{str(cells[first]).strip()}' (cột {column_letter(first)}) "
                f"và '{str(cell).strip()}' (cột {column_letter(i)}); đọc cột {column_letter(first)}"
            ), stacklevel=2)


def find_header(
    rows: Iterable[Sequence[object]], table: str, mapping: Mapping
) -> tuple[int, dict[str, int]] | tuple[None, list[str]]:
    """The first row holding every required header: (its index, column map).

    A two-level header (a group heading such as "Thời gian" spanning "Ngày nhận" and "Ngày hẹn
    trả" below it, the other headings merged down) is read as one: each column named by its
    lower cell, else its upper one; the index is then the lower row's.

    When no row qualifies, (None, missing) names the required columns missing from the row
    that came closest, so the error message tells the user what to fix."""
    required = required_columns(table)
    best_missing = required
    head = [list(r) for r in itertools.islice(rows, HEADER_SEARCH_ROWS)]

    def missing_of(found: dict[str, int]) -> list[str]:
        return [c for c in required if not _has_required(c, found)]

    singles = [map_header(cells, table, mapping) for cells in head]
    for i, found in enumerate(singles):
        missing = missing_of(found)
        if not missing:
            _warn_duplicates(head[i], table, mapping, found)
            return i, found
        if len(missing) < len(best_missing):
            best_missing = missing
        if i + 1 < len(head) and found and missing_of(singles[i + 1]):
            upper, lower = head[i], head[i + 1]
            width = max(len(upper), len(lower))
            merged = [
                lower[j] if j < len(lower) and lower[j] not in (None, "") else
                (upper[j] if j < len(upper) else None)
                for j in range(width)
            ]
            both = map_header(merged, table, mapping)
            if not missing_of(both):
                return i + 1, both
    return None, best_missing


class MissingColumnsError(IngestError):
    """No row of a file holds every required header; ``missing`` names those missing from the
    row that came closest, ``partial`` says whether that row held any of them (the file is a
    table then, short of columns)."""

    def __init__(self, message: str, missing: list[str], partial: bool) -> None:
        super().__init__(message)
        self.missing = missing
        self.partial = partial


def _missing_error(rel: str, table: str, missing: list[str]) -> MissingColumnsError:
    return MissingColumnsError(f"tệp {rel} thiếu cột bắt buộc: {', '.join(_labels(table, missing))}",
                               missing, len(missing) < len(required_columns(table)))


# -- CSV -----------------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), else Windows-1258."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        # UTF-16 without BOM: ASCII letters leave NULs in every other byte.
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _has_blank_lines(path: Path, skip: int = 0) -> bool:
    """Whether the file has an empty line before its last row; arrow drops those and so would
    shift row numbers. Blank lines at the very end shift nothing: they keep the fast path."""
    if path.stat().st_size == 0:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        end = len(mm)
        while end > 0 and mm[end - 1] in b"\r\n":
            end -= 1
        return mm.find(b"\n\n", skip, end) != -1 or mm.find(b"\n\r\n", skip, end) != -1


def _sniff(head_text: str, table: str, mapping: Mapping, rel: str) -> tuple[str, int, dict[str, int], int]:
    """(delimiter, header record index, column map, number of header cells)."""
    if not head_text.strip("\ufeff \t\r\n"):
        # Not "every required column missing": there is nothing at all to look at.
        raise IngestError(f"tệp {rel} không có dữ liệu (chỉ có dòng trống, không có dòng tiêu đề)")
    best: list[str] | None = None
    for delim in DELIMITERS:
        try:
            records = list(
                # newline="": a carriage return ends a record here as it does for the readers
                # (_slow_read, pyarrow), also a stray one inside an unquoted cell of a later row.
                itertools.islice(csv.reader(io.StringIO(head_text, newline=""), delimiter=delim),
                                 HEADER_SEARCH_ROWS)
            )
        except csv.Error:  # e.g. a quoted line break read with the wrong delimiter: not this one
            continue
        idx, found = find_header(records, table, mapping)
        if idx is not None:
            # A two-level header's mapped columns may lie beyond the lower row's last cell.
            ncols = max(len(records[idx]), 1 + max(found.values()))
            return delim, idx, with_extra_columns(records[idx], found, mapping), ncols
        if best is None or len(found) < len(best):
            best = found
    raise _missing_error(rel, table, best or required_columns(table))


def _arrow_read(source, delim: str, skip: int, ncols: int, cols: dict[str, int]) -> pa.Table:
    names = [f"c{i}" for i in range(ncols)]
    include = [f"c{i}" for i in cols.values()]
    return pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(skip_rows=skip, column_names=names, block_size=_CHUNK),
        parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in include},
            include_columns=include,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    ).rename_columns(list(cols))


def _slow_read(text: str, delim: str, skip: int, ncols: int, cols: dict[str, int]) -> pa.Table:
    """The slow path, record by record: blank lines kept as rows (so row numbers stay right),
    and rows whose cells do not line up with the header marked (see `_ragged`), whatever
    their shape (a reader that infers the width from the first row refuses the whole file)."""
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header = next(itertools.islice(records, skip - 1, None), [])
    named = len(header)
    while named and not header[named - 1].strip():
        named -= 1
    out: dict[str, list[str]] = {c: [] for c in cols}
    ragged: list[int] = []
    for record in records:
        n = len(record)
        for c, i in cols.items():
            out[c].append(record[i] if i < n else "")
        ragged.append(n if _ragged(record, named, len(header)) else 0)
    data = pa.table({c: pa.array(v, type=pa.string()) for c, v in out.items()})
    # The header's cell count rides along in the ragged column's name.
    return data.append_column(f"{RAGGED_COLUMN}{ncols}", pa.array(ragged, type=pa.int64()))


RAGGED_COLUMN = "_meta_ragged"  # cells of a row whose cells do not line up with the header, else 0


def _ragged(record: list[str], named: int, header_cells: int) -> bool:
    """Whether a record's cells cannot line up with the header: fewer cells than the header
    names, or filled cells beyond its last cell. Its values are shifted (a missing cell moves
    the personal-data columns into the columns read), so the row is rejected whole ("lệch
    cột"), never read shifted. Blank lines and a trailing delimiter are harmless."""
    if not record:
        return False
    filled = len(record)
    while filled and not record[filled - 1].strip():
        filled -= 1
    return len(record) < named or filled > header_cells


def csv_layout(path: Path, rel: str, table: str, mapping: Mapping,
               stream: bool = False) -> tuple[str, str | None, str, int, dict[str, int], int]:
    """How a CSV export is laid out: (encoding, the whole text if it had to be decoded here
    (not UTF-8, or bare-CR line ends), delimiter, header record index, column map, number of
    header cells). A UTF-8 file is not read beyond its head; with ``stream``, neither is a
    Windows-1258 or UTF-16 one (its NFC text is then read by ``transcode.TranscodedText``)."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        complete = len(head) < HEAD_BYTES
    encoding = detect_encoding(head)
    text: str | None = None
    if encoding.startswith("utf-8"):
        head_text = codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
    elif stream:
        # The head of the NFC text the whole read below would give: text[:HEAD_BYTES].
        head_text, complete = text_head(path, encoding, HEAD_BYTES)
    else:
        text = unicodedata.normalize("NFC", path.read_bytes().decode(encoding))
        head_text = text[:HEAD_BYTES]
        complete = len(text) <= HEAD_BYTES
    if "\r" in head_text and "\n" not in head_text:
        # Bare-CR line ends (old Mac exports): read as text with ordinary line ends.
        if text is None:
            text = path.read_bytes().decode(encoding)
        text = unicodedata.normalize("NFC", text.replace("\r", "\n"))
        head_text = text[:HEAD_BYTES]
        complete = len(text) <= HEAD_BYTES
    if not complete:
        # Only whole lines: the last one may be cut in the middle.
        head_text = head_text[: head_text.rfind("\n") + 1]
    delim, idx, cols, ncols = _sniff(head_text, table, mapping, rel)
    return encoding, text, delim, idx, cols, ncols


def read_csv_file(path: Path, rel: str, table: str, mapping: Mapping) -> tuple[pa.Table, int]:
    """A CSV export as (canonical string columns, spreadsheet row of the first data row)."""
    encoding, text, delim, idx, cols, ncols = csv_layout(path, rel, table, mapping)
    skip = idx + 1
    if text is None:
        if not _has_blank_lines(path):
            try:
                return _arrow_read(path, delim, skip, ncols, cols), idx + 2
            except pa.ArrowInvalid as exc:
                if "UTF8" in str(exc) or "UTF-8" in str(exc):
                    # A UTF-8-looking head over a Windows-1258 body.
                    encoding = "cp1258"
                text = unicodedata.normalize("NFC", path.read_bytes().decode(encoding))
        else:
            text = path.read_bytes().decode(encoding)
    elif not ("\n\n" in (body := text.rstrip("\r\n")) or "\n\r\n" in body):
        try:
            return _arrow_read(io.BytesIO(text.encode("utf-8")), delim, skip, ncols, cols), idx + 2
        except pa.ArrowInvalid:
            pass  # ragged rows: the pandas path pads them
    return _slow_read(text, delim, skip, ncols, cols), idx + 2


# -- XLSX ----------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """An openpyxl cell value as text validation understands (dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        # A date cell with no time of day is a date-only value (a date-only due = end of day).
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def read_xlsx_file(path: Path, rel: str, table: str, mapping: Mapping) -> tuple[pa.Table, np.ndarray]:
    """The first sheet holding the header; rows numbered as the sheet numbers them."""
    import openpyxl  # slow to import; only XLSX inputs need it

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        best: list[str] | None = None
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
            idx, found = find_header(head, table, mapping)
            if idx is None:
                if best is None or len(found) < len(best):
                    best = found
                continue
            cols = with_extra_columns(head[idx], found, mapping)
            out: dict[str, list[str]] = {c: [] for c in cols}
            numbers: list[int] = []
            # iter_rows yields every row from row 1 (gaps filled), so position = row number.
            for number, cells in enumerate(itertools.chain(head[idx + 1 :], rows), start=idx + 2):
                numbers.append(number)
                n = len(cells)
                for c, i in cols.items():
                    out[c].append(cell_text(cells[i]) if i < n else "")
            data = pa.table({c: pa.array(v, type=pa.string()) for c, v in out.items()})
            return data, np.asarray(numbers, dtype=np.int64)
        raise _missing_error(rel, table, best or required_columns(table))
    finally:
        wb.close()


# -- any file ------------------------------------------------------------------------------


def _drop_empty(data: pa.Table, rows: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Rows with nothing in any read column go (blank lines); then the extra columns go."""
    canonical = [c for c in data.column_names if not c.startswith(EXTRA_PREFIX)]
    if data.num_rows == 0 or data.num_columns == 0:
        return data.select(canonical), rows
    # Column by column, only over the rows blank so far: nearly every row has something in the
    # first column, so the others are looked at for a handful of rows (trimming every cell of
    # every column cost 0.5 s a million rows).
    blank = np.arange(data.num_rows)
    for name, col in zip(data.column_names, data.columns, strict=True):
        if name.startswith(RAGGED_COLUMN) or not blank.size:
            continue
        cells = col if blank.size == data.num_rows else col.take(pa.array(blank))
        # Blank: empty or whitespace only (utf8_is_space, the whitespace utf8_trim_whitespace
        # trims, looks at each cell's first character only, where trimming copied every cell).
        empty = pc.or_(pc.equal(cells, ""), pc.utf8_is_space(cells))
        blank = blank[np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)]
    keep = np.ones(data.num_rows, dtype=bool)
    keep[blank] = False
    data = data.select(canonical)
    if keep.all():
        return data, rows
    return data.filter(pa.array(keep)), rows[keep]


def read_file(path: Path, raw_dir: Path, table: str, mapping: Mapping) -> RawTable:
    """Read one raw file of a table; IngestError names the file when it cannot be used."""
    rel = path.relative_to(raw_dir).as_posix()
    with header_warnings(rel) as notes:
        data, rows = _read_any(path, rel, table, mapping)
    return make_raw_table(rel, table, data, rows, notes)


@contextmanager
def header_warnings(rel: str) -> Iterator[list[str]]:
    """Collect the HeaderWarnings raised while reading ``rel`` as "tệp rel: ..." lines."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HeaderWarning)
        yield notes
    notes += [f"tệp {rel}: {w.message}" for w in caught if issubclass(w.category, HeaderWarning)]


def make_raw_table(rel: str, table: str, data: pa.Table, rows: np.ndarray,
                   notes: Sequence[str] = ()) -> RawTable:
    """The RawTable of a file read by any reader: empty rows dropped, the ragged-row marks of
    the slow CSV path moved out of the data into RawTable.ragged."""
    data, rows = _drop_empty(data, rows)
    ragged, header_cells = None, 0
    for name in data.column_names:
        if name.startswith(RAGGED_COLUMN):
            ragged, header_cells = data.column(name).to_numpy(), int(name[len(RAGGED_COLUMN):])
            data = data.drop_columns([name])
    return RawTable(file=rel, table=table, data=data, rows=rows, warnings=list(notes), ragged=ragged,
                    header_cells=header_cells)


def _read_any(path: Path, rel: str, table: str, mapping: Mapping) -> tuple[pa.Table, np.ndarray]:
    try:
        if path.suffix.lower() == ".xlsx":
            data, rows = read_xlsx_file(path, rel, table, mapping)
        else:
            data, first = read_csv_file(path, rel, table, mapping)
            rows = np.arange(first, first + data.num_rows, dtype=np.int64)
    except IngestError:
        raise
    except Exception as exc:  # any parser failure: the user needs the file name, not a traceback
        raise IngestError(f"không đọc được tệp {rel}: {exc}") from exc
    return data, rows
