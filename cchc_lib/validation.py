"""Parsing and checking raw text columns into canonical typed columns, vectorised.

`validate(raw, mapping)` turns one file's RawTable into (accepted frame, rejects frame). Rules
are driven by the column specs of schema.py: the dtype says how to parse, `required` says an
empty value is a reject, `allowed` + mapping.yaml say which spellings are known, `min_value`
bounds numbers. Every reason is Vietnamese and names the column (its Vietnamese header) and the
offending value; a row with several problems gets all its reasons joined with "; ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cchc_lib import schema
from cchc_lib.bounds import bounds
from cchc_lib.config import profile
from cchc_lib.formatting import fmt_number
from cchc_lib.mapping import Mapping, nfc, norm_key
from cchc_lib.reading import RawTable
from cchc_lib.reasons import may_be_personal, quote, vocabulary
from cchc_lib.safe_text import ASCII_CONTROL_PATTERN, strip_invisible

# Date forms tried in order on the values still unparsed: (strptime format, date only).
DATE_FORMATS: tuple[tuple[str, bool], ...] = (
    ("%d/%m/%Y %H:%M:%S", False),
    ("%d/%m/%Y %H:%M", False),
    ("%d/%m/%Y", True),
    ("%Y-%m-%d %H:%M:%S", False),
    ("%Y-%m-%dT%H:%M:%S", False),
    ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%dT%H:%M", False),
    ("%Y-%m-%d", True),
    # Also written by Vietnamese systems: the day first with dashes or dots (15-01-2023,
    # 15.01.2023), the year first with slashes (2023/01/15). Tried only on what is still unread.
    *((f"%d{sep}%m{sep}%Y{time}", not time) for sep in "-." for time in (" %H:%M:%S", " %H:%M", "")),
    *((f"%Y/%m/%d{time}", not time) for time in (" %H:%M:%S", " %H:%M", "")),
)
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")
# Plausible dates only: a two-digit year ("06/03/23" parsed as year 23) is a typo, not 23 AD.
MIN_DATE = np.datetime64("1950-01-01", "s")
MAX_DATE = np.datetime64("2100-01-01", "s")
SERIAL_MIN, SERIAL_MAX = 18264, 73051  # Excel serials of 1950-01-01 and 2100-01-01
LOCAL_TZ = "Asia/Ho_Chi_Minh"
_ISO_RE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
_TZ_RE = r"(?:Z|[+-]\d{2}:?\d{2})$"
_CLOCK12_RE = r"^\s*(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(?::\d{2})?)\s*(SA|CH|AM|PM)\s*$"
_FRACTION_RE = r"^\s*(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2})[.,]\d+\s*$"
END_OF_DAY_COLUMNS = frozenset({"due_at"})  # a date-only deadline means the end of that day
END_OF_DAY = np.timedelta64(86_400_000_000_000 - 1_000, "ns")  # 23:59:59.999999
# Completion-like columns that may not precede received_at (the "due before received" rule).
ORDER_CHECKS = ("due_at", "completed_at", "handled_at", "returned_at", "rated_at")
# A date-only completion on the day of receipt happened that day at an unrecorded time: it is
# taken as the moment of receipt (zero processing time), not midnight before the receipt.
SAME_DAY_COLUMNS = ("completed_at", "handled_at", "returned_at", "rated_at")

def fmt_when(value: np.datetime64, date_only: bool) -> str:
    """A datetime as the user typed it: 15/01/2023, 15/01/2023 08:30 or 15/01/2023 08:30:15."""
    ts = pd.Timestamp(value)
    if date_only:
        return ts.strftime("%d/%m/%Y")
    return ts.strftime("%d/%m/%Y %H:%M:%S" if ts.second else "%d/%m/%Y %H:%M")


# -- column parsers (pyarrow string arrays in, numpy/arrow out) ----------------------------


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class Cleaned:
    """A raw text column cleaned: trimmed, NFC, without format or control characters (safe_text).

    Held either as the cleaned text (``text``) or, for a column whose values repeat (names,
    fields, codes, yes/no), as its distinct values cleaned and each row's index into them: the
    mapping then looks each distinct value up once, and no column of 250,000 strings is built
    for it (building one, and encoding it again for the lookup, was most of the cost)."""

    distinct: list[str] | None = None  # cleaned distinct values (two may clean to the same)
    indices: np.ndarray | None = None  # per row, its value's position in ``distinct``
    _text: pa.Array | None = None

    @property
    def text(self) -> pa.Array:
        if self._text is None:
            self._text = pc.take(pa.array(self.distinct, type=pa.string()), pa.array(self.indices))
        return self._text

    def by_value(self) -> tuple[list[str], np.ndarray]:
        """(distinct cleaned values, index per row)."""
        if self.distinct is None:
            self.distinct, self.indices = _encode(self.text)
        assert self.indices is not None
        return self.distinct, self.indices

    def empty(self) -> np.ndarray:
        """Per row: whether the cleaned value is empty."""
        if self.distinct is None:
            return _np_bool(pc.equal(self.text, ""))
        return np.array([v == "" for v in self.distinct], dtype=bool)[self.indices]

    def nullable_text(self) -> pa.Array:
        """The cleaned text with empty values as nulls."""
        if self.distinct is None:
            return pc.if_else(pc.equal(self.text, ""), None, self.text)
        values = pa.array([v if v != "" else None for v in self.distinct], type=pa.large_string())
        return pc.take(values, pa.array(self.indices))  # large_string: pandas' own text type

    def values_at(self, where: np.ndarray) -> list[str]:
        """The cleaned values of the rows at ``where``."""
        if self.distinct is None:
            return self.text.take(pa.array(where)).to_pylist()
        assert self.indices is not None
        return [self.distinct[i] for i in self.indices[where]]


def _encode(arr: pa.ChunkedArray | pa.Array) -> tuple[list[str], np.ndarray]:
    """(distinct values in order of first appearance, index per row) of a text column without
    nulls (the readers give empty strings, never nulls). A chunked column is encoded chunk by
    chunk against one dictionary (pyarrow gives every chunk the final one), not joined first."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.Array):
        return enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False)
    if enc.num_chunks == 0:
        return [], np.zeros(0, dtype=np.int32)
    dictionary = enc.chunk(enc.num_chunks - 1).dictionary
    if any(len(chunk.dictionary) != len(dictionary) for chunk in enc.chunks):  # pragma: no cover
        return _encode(arr.combine_chunks())  # not one dictionary after all: encoded whole
    indices = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in enc.chunks])
    return dictionary.to_pylist(), indices


def clean_column(arr: pa.ChunkedArray | pa.Array, by_value: bool = False) -> Cleaned:
    """A raw text column cleaned (:class:`Cleaned`). An ASCII column (ids, dates, numbers) is
    cleaned as a whole in pyarrow: trimmed, and cleared of controls when it has any; any other
    column, and with ``by_value`` every column (the coded ones, whose values repeat), is cleaned
    once per distinct value. Both give the same text: on ASCII, safe_text's rules are the
    vectorised ones."""
    # Printable ASCII (the usual ids, dates and numbers) is ASCII: one scan, not two.
    printable = not by_value and (len(arr) == 0 or pc.all(pc.ascii_is_printable(arr)).as_py())
    if printable or (not by_value and pc.all(pc.string_is_ascii(arr)).as_py()):
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not printable:  # controls to clear: 15x a scan for them
            arr = pc.replace_substring_regex(arr, "[\\t\\n\\r\\x0b\\x0c]", " ")
            arr = pc.replace_substring_regex(arr, ASCII_CONTROL_PATTERN, "")
        # Printable ASCII now: its only whitespace is the space, which the ASCII trim trims
        # as the UTF-8 one does.
        return Cleaned(_text=pc.ascii_trim_whitespace(arr))
    distinct, indices = _encode(arr)
    # One contiguous column comes out (pc.take), not the raw column's blocks of the file even
    # when cleaning changed nothing: parquet wrote a column of 117 chunks 70% slower.
    return Cleaned([nfc(strip_invisible(v)).strip() for v in distinct], indices)


def clean_text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Trimmed and NFC-normalised text without format or control characters (safe_text)."""
    return clean_column(arr).text


def map_values(clean: Cleaned, lookup: dict[str, object]) -> tuple[list, np.ndarray, np.ndarray]:
    """Alias lookup on distinct values: (code per distinct value, distinct index per row,
    unknown flag per distinct value). Empty values get code None and are not unknown."""
    distinct, indices = clean.by_value()
    codes = [lookup.get(norm_key(v)) if v != "" else None for v in distinct]
    unknown = np.array([v != "" and c is None for v, c in zip(distinct, codes, strict=True)], dtype=bool)
    return codes, indices, unknown


def _day_as_written(text: pa.Array, parsed: pa.Array, fmt: str) -> np.ndarray:
    """False where strptime rolled an impossible day over (31/02 read as 03/03).

    A rolled-over date always lands on day 1, 2 or 3 of the next month, so only those rows
    need their written day read back (a regex over every row would cost a second per million).
    """
    ok = np.ones(len(text), dtype=bool)
    suspect = np.flatnonzero(_np_bool(pc.fill_null(pc.less_equal(pc.day(parsed), 3), False)))
    if suspect.size:
        pattern = (r"^\s*(?P<d>\d{1,2})[/.-]" if fmt.startswith("%d")
                   else r"^\s*\d{4}[-/]\d{1,2}[-/](?P<d>\d{1,2})")
        idx = pa.array(suspect)
        written = pc.struct_field(pc.extract_regex(text.take(idx), pattern), [0])
        same = pc.equal(pc.cast(written, pa.int64()), pc.day(parsed.take(idx)))
        ok[suspect] = _np_bool(pc.fill_null(same, False))
    return ok


FORMAT_PROBE = 256  # values looked at to put a column's commonest date form first


def _formats_by_use(arr: pa.Array, todo: np.ndarray) -> list[tuple[str, bool]]:
    """DATE_FORMATS, the forms the column's first values take first (then in their order).

    A value parses under one form at most (strptime must use the whole text, and the forms
    differ in their separators or their parts), so the order changes nothing but the time:
    an export writes one or two forms, and each form tried on a whole column first costs a
    pass over it (five date columns, each tried first as dd/mm/yyyy HH:MM:SS, cost 0.1 s per
    250,000 rows when the times had no seconds)."""
    if todo.size < 2 * FORMAT_PROBE:
        return list(DATE_FORMATS)
    sample = arr.take(pa.array(todo[:FORMAT_PROBE]))
    hits = [pc.sum(pc.is_valid(pc.strptime(sample, format=fmt, unit="s", error_is_null=True))).as_py() or 0
            for fmt, _ in DATE_FORMATS]
    order = sorted(range(len(DATE_FORMATS)), key=lambda k: -hits[k])  # stable: ties keep their order
    return [DATE_FORMATS[k] for k in order]


def parse_datetimes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(datetime64[ns] values with NaT, date-only flags, unparseable flags) of cleaned text."""
    n = len(arr)
    values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    date_only = np.zeros(n, dtype=bool)
    left = _np_bool(pc.not_equal(arr, ""))  # not parsed yet
    for fmt, donly in _formats_by_use(arr, np.flatnonzero(left)):
        count = int(left.sum())
        if count == 0:
            break
        # Most rows left (the commonest form on any column, empty cells or not): the whole
        # column parsed, the rows done or empty masked out, instead of taking the rows left out
        # and putting their values back one by one; else the few rows left alone.
        todo = None if count > n // 2 else np.flatnonzero(left)
        sub = arr if todo is None else arr.take(pa.array(todo))
        parsed = pc.strptime(sub, format=fmt, unit="s", error_is_null=True)
        secs = parsed.to_numpy(zero_copy_only=False).astype("datetime64[s]")
        # NaT (not in this form) compares false: out of range too.
        ok = (secs >= MIN_DATE) & (secs < MAX_DATE) & _day_as_written(sub, parsed, fmt)
        if todo is None:
            ok &= left
            np.copyto(values, secs.astype("datetime64[ns]"), where=ok)
            date_only |= ok & donly
            left &= ~ok
        elif ok.any():
            values[todo[ok]] = secs[ok].astype("datetime64[ns]")
            date_only[todo[ok]] = donly
            left[todo[ok]] = False
    todo = np.flatnonzero(left)
    if todo.size:
        # Rare forms on what is left: ISO 8601 with fractions or an offset, Excel serials.
        rest = pd.Series(arr.take(pa.array(todo)).to_pylist(), dtype=object).astype(str)
        got = pd.Series(pd.NaT, index=rest.index, dtype="datetime64[ns]")
        iso = rest.str.match(_ISO_RE)
        aware = iso & rest.str.contains(_TZ_RE)
        naive = iso & ~aware
        if naive.any():
            got[naive] = pd.to_datetime(rest[naive], format="ISO8601", errors="coerce").astype(
                "datetime64[ns]"
            )
        if aware.any():
            local = pd.to_datetime(rest[aware], format="ISO8601", errors="coerce", utc=True)
            got[aware] = local.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).astype("datetime64[ns]")
        # Windows' Vietnamese 12-hour clock (8:00 SA = sáng, 8:00 CH = chiều; AM/PM too), and
        # fractions of a second after dd/mm/yyyy HH:MM:SS (dropped: a report shows seconds).
        clock = rest.str.extract(_CLOCK12_RE, flags=re.IGNORECASE)
        twelve = clock[0].notna()
        if twelve.any():
            text = clock[0][twelve] + " " + clock[1][twelve].str.upper().replace({"SA": "AM", "CH": "PM"})
            seconds = clock[0][twelve].str.count(":") == 2
            for has, fmt in ((seconds, "%d/%m/%Y %I:%M:%S %p"), (~seconds, "%d/%m/%Y %I:%M %p")):
                if has.any():
                    got[text[has].index] = pd.to_datetime(text[has], format=fmt, errors="coerce")
        fraction = rest.str.extract(_FRACTION_RE)[0]
        if fraction.notna().any():
            cut = fraction[fraction.notna()]
            got[cut.index] = pd.to_datetime(cut, format="%d/%m/%Y %H:%M:%S", errors="coerce")
        number = pd.to_numeric(rest.str.replace(",", ".", regex=False), errors="coerce")
        serial = ~iso & number.between(SERIAL_MIN, SERIAL_MAX)
        if serial.any():
            # Excel keeps times as day fractions; round to the second it displays.
            secs = np.round(number[serial].to_numpy(dtype=float) * 86_400).astype(np.int64)
            got[serial] = EXCEL_EPOCH + secs.astype("timedelta64[s]").astype("timedelta64[ns]")
        got_np = got.to_numpy(dtype="datetime64[ns]")
        ok = ~np.isnat(got_np)
        ok &= (got_np >= MIN_DATE.astype("datetime64[ns]")) & (got_np < MAX_DATE.astype("datetime64[ns]"))
        values[todo[ok]] = got_np[ok]
        donly_rest = (serial & (number % 1 == 0)) | (iso & (rest.str.len() == 10))
        date_only[todo[ok]] = donly_rest.to_numpy(dtype=bool)[ok]
        todo = todo[~ok]
    invalid = np.zeros(n, dtype=bool)
    invalid[todo] = True
    return values, date_only, invalid


def parse_numbers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float values, empty flags, not-a-number flags); a decimal comma is accepted."""
    empty = _np_bool(pc.equal(arr, ""))
    values = np.full(len(arr), np.nan)
    filled = np.flatnonzero(~empty)
    invalid = np.zeros(len(arr), dtype=bool)
    if filled.size:
        text = pc.replace_substring(arr.take(pa.array(filled)), ",", ".")
        try:  # the fast path: every value is a clean number
            nums = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            nums = pd.to_numeric(pd.Series(text.to_pylist(), dtype=object), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
        bad = ~np.isfinite(nums)
        values[filled] = nums
        invalid[filled[bad]] = True
        values[invalid] = np.nan
    return values, empty, invalid


# -- one file ------------------------------------------------------------------------------


@dataclass
class _Problems:
    """Reject reasons found so far: parallel lists of (row positions, column, reasons)."""

    positions: list[np.ndarray] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    reasons: list[list[str]] = field(default_factory=list)

    def add(self, mask: np.ndarray, column: str, reason) -> None:
        """reason: a fixed text, or a function of the failing positions returning texts."""
        where = np.flatnonzero(mask)
        if where.size == 0:
            return
        texts = [reason] * where.size if isinstance(reason, str) else list(reason(where))
        self.positions.append(where)
        self.columns.append(column)
        self.reasons.append(texts)

    def drop(self, mask: np.ndarray) -> None:
        """Forget the reasons found so far for the rows in ``mask``."""
        for k, where in enumerate(self.positions):
            keep = ~mask[where]
            self.positions[k] = where[keep]
            self.reasons[k] = [r for r, ok in zip(self.reasons[k], keep, strict=True) if ok]

    def frame(self) -> pd.DataFrame:
        if not self.positions:
            return pd.DataFrame({"pos": [], "column": [], "reason": []})
        return pd.DataFrame(
            {
                "pos": np.concatenate(self.positions),
                "column": np.concatenate(
                    [
                        np.full(p.size, c, dtype=object)
                        for p, c in zip(self.positions, self.columns, strict=True)
                    ]
                ),
                "reason": np.concatenate([np.asarray(r, dtype=object) for r in self.reasons]),
            }
        )


def _value_lookup(spec: schema.ColumnSpec, mapping: Mapping) -> dict[str, object]:
    lookup = dict(mapping.value_lookup(spec.name) or {})
    for code in spec.allowed or ():
        lookup.setdefault(norm_key(code), code)  # canonical codes are always understood
    return lookup


def _vocabulary(spec: schema.ColumnSpec, mapping: Mapping) -> frozenset[str]:
    """The words of a coded column's known spellings: a value made of them is quoted as is."""
    if spec.dtype == schema.BOOLEAN:
        return vocabulary(mapping.value_lookup("yes_no") or {})
    if spec.dtype == schema.STRING and spec.allowed is not None:
        return vocabulary(_value_lookup(spec, mapping))
    return frozenset()


def _typed(
    spec: schema.ColumnSpec, values, mask: np.ndarray | None
) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """Full-length column in the schema's dtype; mask marks <NA>."""
    n = len(values)
    if mask is None:
        mask = np.zeros(n, dtype=bool)
    if spec.dtype == schema.BOOLEAN:
        return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), mask)
    if spec.dtype == schema.FLOAT:
        return pd.arrays.FloatingArray(np.nan_to_num(np.asarray(values, dtype=float)), mask)
    if spec.dtype == schema.INT:
        ints = np.where(mask, 0, np.nan_to_num(np.asarray(values, dtype=float))).astype(np.int64)
        return pd.arrays.IntegerArray(ints, mask)
    raise TypeError(spec.dtype)


def validate(raw: RawTable, mapping: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One file's rows checked against the table's specs: (accepted, rejects).

    accepted has the table's canonical columns in schema order and dtypes (source_file and
    source_row included); rejects has schema.REJECT_COLUMNS."""
    table = raw.table
    specs = schema.TABLES[table]
    n = len(raw)
    problems = _Problems()
    cols: dict[str, object] = {}
    key = schema.KEYS[table][0]
    key_text: Cleaned | None = None  # the row id quoted in rejects
    when: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # datetime columns: (values, date_only)
    # Dossier dates a never-received registration may lack: checked once the status is known.
    deferred_empty: dict[str, np.ndarray] = {}
    for spec in specs:
        if spec.name in ("source_file", "source_row"):
            continue
        label = spec.label_vi
        if spec.name not in raw.present:
            if table == "dossiers" and spec.name == "department":
                # An export without a department column: the agency handled the dossier itself.
                cols[spec.name] = pd.array([profile().name] * n, dtype="string")
                continue
            cols[spec.name] = pd.Series(pd.NA, index=range(n), dtype=spec.dtype).array
            continue
        coded = spec.dtype == schema.BOOLEAN or (spec.dtype == schema.STRING and spec.allowed is not None)
        clean = clean_column(raw.data.column(spec.name), by_value=coded)
        # Free the raw column as soon as it is parsed: peak memory stays near one copy.
        raw.data = raw.data.drop_columns([spec.name])
        if spec.name == key:
            key_text = clean
        empty = clean.empty()
        if table == "dossiers" and spec.name in (*schema.NOT_RECEIVED_OPTIONAL, "department"):
            deferred_empty[spec.name] = empty
        elif spec.required or spec.value_required:
            problems.add(empty, spec.name, f"{label} trống")

        vocab = _vocabulary(spec, mapping)

        def quoted(where, clean=clean, label=label, vocab=vocab, what="giá trị không hợp lệ"):
            # Never a citizen's name or number in a reason (reasons.py decides what is quoted).
            return (f"{label}: {what} {quote(v, vocab)}" for v in clean.values_at(where))

        if spec.dtype == schema.STRING:
            if spec.allowed is None:
                cols[spec.name] = pd.array(clean.nullable_text(), dtype="string")
                continue
            codes, idx, unknown = map_values(clean, _value_lookup(spec, mapping))
            problems.add(unknown[idx], spec.name, quoted)
            # large_string: the type pandas holds its text in (no cast after the take)
            cols[spec.name] = pd.array(pc.take(pa.array(codes, type=pa.large_string()), idx), dtype="string")
        elif spec.dtype == schema.BOOLEAN:
            codes, idx, unknown = map_values(clean, mapping.value_lookup("yes_no") or {})
            problems.add(unknown[idx], spec.name, quoted)
            # An empty cell means "no"; unknown values are rejected rows, so False is harmless.
            flags = np.array([c is True for c in codes], dtype=bool)
            cols[spec.name] = _typed(spec, flags[idx], None)
        elif spec.dtype == schema.DATETIME:
            values, date_only, invalid = parse_datetimes(clean.text)
            problems.add(invalid, spec.name, lambda w, q=quoted: q(w, what="không đọc được ngày"))
            if spec.name in END_OF_DAY_COLUMNS:
                values = np.where(date_only, values + END_OF_DAY, values)
            when[spec.name] = (values, date_only)
            cols[spec.name] = values
        elif spec.dtype in (schema.FLOAT, schema.INT):
            values, _empty, invalid = parse_numbers(clean.text)
            problems.add(invalid, spec.name, lambda w, q=quoted: q(w, what="không phải số"))
            if spec.dtype == schema.INT:
                fraction = ~invalid & ~_empty & (values % 1 != 0)
                problems.add(fraction, spec.name, lambda w, q=quoted: q(w, what="không phải số nguyên"))
            low, high = bounds(spec)
            shown = (lambda x: f"{x:g}") if spec.name == "year" else fmt_number  # 2099, 1.440
            # The bounds are written out only when a row breaks them (formatting a number in
            # Vietnamese took 14 ms a batch).
            below = ~np.isnan(values) & (values < low)
            problems.add(below, spec.name, lambda w, q=quoted, low=low, shown=shown: q(
                w, what="giá trị âm" if low == 0 else f"nhỏ hơn {shown(low)}"))
            above = ~np.isnan(values) & (values > high)
            problems.add(above, spec.name, lambda w, q=quoted, high=high, shown=shown: q(
                w, what=f"lớn hơn mức hợp lý {shown(high)}"))
            # Out of bounds is <NA> as well (the row is rejected): a whole-number column would
            # otherwise cast a value beyond int64 (1e308) and numpy warn on every run.
            cols[spec.name] = _typed(spec, values, np.isnan(values) | below | above)
        else:  # pragma: no cover - schema.py only uses the dtypes above
            raise TypeError(f"{spec.name}: unsupported dtype {spec.dtype}")

    if table == "dossiers":
        _dossier_rules(cols, when, deferred_empty, problems, {s.name: s.label_vi for s in specs}, n)

    if "received_at" in when:
        received, received_donly = when["received_at"]
        label_of = {s.name: s.label_vi for s in specs}
        for name in SAME_DAY_COLUMNS:
            if name not in when:
                continue
            values, donly = when[name]
            # Date only and before the receipt (NaT compares false) first; the day compared on
            # those rows alone (the whole columns cut to days cost 10 ms a batch).
            same_day = donly & (values < received)
            same_day[same_day] = (values[same_day].astype("datetime64[D]")
                                  == received[same_day].astype("datetime64[D]"))
            if same_day.any():
                values = np.where(same_day, received, values)
                when[name] = (values, donly)
                cols[name] = values
        for name in ORDER_CHECKS:
            if name not in when:
                continue
            values, donly = when[name]
            early = ~np.isnat(values) & ~np.isnat(received) & (values < received)

            def order_reason(where, values=values, donly=donly, name=name):
                return (
                    f"{label_of[name]} ({fmt_when(values[i], donly[i])}) trước "
                    f"{label_of['received_at']} ({fmt_when(received[i], received_donly[i])})"
                    for i in where
                )

            problems.add(early, name, order_reason)

    if raw.ragged is not None and raw.ragged.any():
        # Shifted cells: no reason about the shifted values (they may be another column's,
        # even personal data), just the one that tells the person what to fix.
        shifted = raw.ragged > 0
        problems.drop(shifted)
        problems.add(shifted, "row", lambda w: (
            f"Dòng lệch cột: có {raw.ragged[i]} ô, dòng tiêu đề có {raw.header_cells} ô" for i in w
        ))
    found = problems.frame()
    rejected = np.zeros(n, dtype=bool)
    rejected[found["pos"].to_numpy(dtype=np.int64)] = True
    keep = ~rejected
    everything = bool(keep.all())

    accepted = {}
    for spec in specs:
        if spec.name == "source_file":
            accepted[spec.name] = pd.array(_repeat(raw.file, int(keep.sum())), dtype="string")
        elif spec.name == "source_row":
            accepted[spec.name] = pd.array(raw.rows[keep], dtype="Int64")
        else:
            col = cols[spec.name]
            if isinstance(col, np.ndarray):  # datetimes
                col = pd.array(col, dtype=spec.dtype)
            accepted[spec.name] = col if everything else col[keep]
    frame = pd.DataFrame(accepted, copy=False)
    for spec in specs:
        if str(frame[spec.name].dtype) != spec.dtype:
            frame[spec.name] = frame[spec.name].astype(spec.dtype)

    return frame, _reject_frame(raw, found, key_text)


def _repeat(text: str, times: int) -> pa.Array:
    """``text`` ``times`` times, as pyarrow text (a Python list of it took 15 ms a batch)."""
    return pc.take(pa.array([text], type=pa.large_string()), pa.array(np.zeros(times, dtype=np.int32)))


def _reject_frame(raw: RawTable, found: pd.DataFrame, key_text: Cleaned | None) -> pd.DataFrame:
    if found.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in schema.REJECT_COLUMNS}).astype(
            {"source_row": "Int64"}
        )
    # Reasons of one row in schema column order (the order checks were added in).
    found = found.reset_index(names="order").sort_values(["pos", "order"], kind="stable")
    grouped = found.groupby("pos", sort=True).agg(column=("column", "; ".join), reason=("reason", "; ".join))
    pos = grouped.index.to_numpy(dtype=np.int64)
    ids = key_text.values_at(pos) if key_text is not None else [""] * pos.size
    # A ragged row can shift a name or an ID number into the id column: such an id is left
    # out, not copied (the file and row lead to it).
    shifted = raw.ragged[pos] > 0 if raw.ragged is not None else np.zeros(pos.size, dtype=bool)
    ids = ["" if s or may_be_personal(i, digits=False) else i for i, s in zip(ids, shifted, strict=True)]
    return pd.DataFrame(
        {
            "source_file": pd.array([raw.file] * pos.size, dtype="string"),
            "source_row": pd.array(raw.rows[pos], dtype="Int64"),
            "table": pd.array([raw.table] * pos.size, dtype="string"),
            "dossier_id": pd.array(ids, dtype="string"),
            "column": pd.array(grouped["column"].to_numpy(), dtype="string"),
            "reason": pd.array(grouped["reason"].to_numpy(), dtype="string"),
        }
    )


def _dossier_rules(cols: dict, when: dict, deferred_empty: dict[str, np.ndarray], problems: _Problems,
                   label_of: dict[str, str], n: int) -> None:
    """The rules of the dossier's life (conventions.md §2) that need the status:

    - a never-received registration (``not_received``) may lack a receipt date, a due date
      and a department (then the agency's); every other dossier needs them;
    - a refused or withdrawn dossier without a completion date takes its return date; with
      neither, the row is rejected;
    - a dossier needs its procedure's code or name."""
    # Compared in pyarrow: a column of Python strings for the status took 15 ms a batch.
    status = pa.array(pd.array(cols["status"], dtype="string"))

    def having(*names: str) -> np.ndarray:
        return _np_bool(pc.fill_null(pc.is_in(status, pa.array(names, type=status.type)), False))

    not_received = having("not_received")
    for name, empty in deferred_empty.items():
        problems.add(empty & ~not_received, name, f"{label_of[name]} trống")
    if "department" in deferred_empty and (deferred_empty["department"] & not_received).any():
        # A registration never received was assigned to no department yet: the agency's.
        fill = deferred_empty["department"] & not_received
        dept = np.asarray(pd.array(cols["department"], dtype="string").to_numpy(dtype=object, na_value=None))
        dept[fill] = profile().name  # the agency itself (the profile's)
        cols["department"] = pd.array(dept, dtype="string")
    completed = cols.get("completed_at")
    returned = cols.get("returned_at")
    if isinstance(completed, np.ndarray):
        ended = having("refused", "withdrawn")
        missing = ended & np.isnat(completed)
        if missing.any():
            has_return = ~np.isnat(returned) if isinstance(returned, np.ndarray) else np.zeros(n, dtype=bool)
            filled = np.where(missing & has_return, returned, completed)
            cols["completed_at"] = filled
            if "completed_at" in when:
                when["completed_at"] = (filled, when["completed_at"][1] & ~(missing & has_return))
            words = {"refused": "từ chối giải quyết", "withdrawn": "công dân rút"}
            problems.add(
                missing & ~has_return, "completed_at",
                lambda where: (f"Hồ sơ {words[s]} nhưng không có {label_of['completed_at']} "
                               f"hay {label_of['returned_at']}"
                               for s in status.take(pa.array(where)).to_pylist()),
            )
    code, name = cols["procedure_code"], cols["procedure_name"]
    no_code = pd.array(code, dtype="string").isna() if len(code) else np.zeros(0, dtype=bool)
    no_name = pd.array(name, dtype="string").isna() if len(name) else np.zeros(0, dtype=bool)
    problems.add(np.asarray(no_code & no_name, dtype=bool), "procedure_code",
                 f"{label_of['procedure_code']} và {label_of['procedure_name']} đều trống")
