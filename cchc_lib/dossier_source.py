"""The processed dossiers, read from ``dossiers.parquet`` only when something needs them.

A report reads the day-level aggregate (:mod:`cchc_lib.daily`) for its numbers; what it still
wants from single dossiers (its coverage line, which optional inputs carry data, the counted
dossiers' inputs) is a few columns, read here without the rest. ``ProcessedData.dossiers`` stays
a plain DataFrame to every caller: the first access reads the whole file (once per
:class:`DossierFile`), as ``load_processed`` used to do eagerly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from cchc_lib.conventions import NOT_RECEIVED, WITHDRAWN, counted_dossiers
from cchc_lib.schema import TABLES, conform, conform_columns

_SOURCE = "_dossiers_source"
_COUNTING_COLUMNS = ("status", "completed_at", "due_at")  # what counted_dossiers reads
_BATCH_ROWS = 131_072  # rows of one batch when a file is streamed


class DossierFile:
    """``dossiers.parquet`` read on first need: :meth:`frame` is the whole conformed table (read
    once), :meth:`columns` some of its columns (read alone while the whole table is not)."""

    def __init__(self, path: Path, parent: DossierFile | None = None) -> None:
        self.path = Path(path)
        self._parent = parent
        self._frame: pd.DataFrame | None = None

    @property
    def loaded(self) -> bool:
        return self._frame is not None

    def fork(self) -> DossierFile:
        """The same file for another holder: its frame, when read, is a shallow copy of this
        one's (a column one holder adds or replaces is not seen by the other), read only once."""
        return DossierFile(self.path, parent=self)

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            if self._parent is not None:
                self._frame = self._parent.frame().copy(deep=False)
            else:
                self._frame = conform(pd.read_parquet(self.path), "dossiers")
        return self._frame

    def columns(self, names: Iterable[str], ids: Iterable[str] | None = None,
                received_by: pd.Timestamp | None = None) -> pd.DataFrame:
        """The conformed columns ``names`` (schema order; an absent one all <NA>), of every
        dossier or, with ``ids``, of the dossiers whose ``dossier_id`` is one of them, or with
        ``received_by`` of those received at or before it (in file order in every case)."""
        wanted = [spec for spec in TABLES["dossiers"] if spec.name in set(names)]
        holder = self._loaded_holder()
        if holder is not None:
            frame = holder._frame
            assert frame is not None
            return _rows(frame, ids, received_by)[[spec.name for spec in wanted]]
        import pyarrow.parquet as pq

        present = set(pq.read_schema(self.path).names)
        columns = [s.name for s in wanted if s.name in present]
        if received_by is not None and "received_at" not in columns:
            columns.append("received_at")  # for the cut below, not returned
        filters = []  # pyarrow filters while reading: the other dossiers are never held
        if ids is not None:
            filters.append(("dossier_id", "in", sorted({str(i) for i in ids})))
        if received_by is not None:  # whole seconds for pyarrow: the exact cut is made below
            bound = pd.Timestamp(received_by).floor("s") + pd.Timedelta(seconds=1)
            filters.append(("received_at", "<", bound.to_pydatetime()))
        raw = pq.read_table(self.path, columns=columns, filters=filters or None).to_pandas()
        raw = _rows(raw, None, received_by).reset_index(drop=True)
        return conform_columns(raw, wanted)

    def _loaded_holder(self) -> DossierFile | None:
        """This file's or an ancestor's already-read frame (its columns are the file's)."""
        if self._frame is not None:
            return self
        return self._parent._loaded_holder() if self._parent is not None else None


def source_of(data: Any) -> Any:
    """What ``data`` holds as its dossiers: a DataFrame, or a :class:`DossierFile` not read yet."""
    return getattr(data, "__dict__", {}).get(_SOURCE)


def is_lazy(data: Any) -> bool:
    source = source_of(data)
    return isinstance(source, DossierFile) and not source.loaded


def _rows(frame: pd.DataFrame, ids: Iterable[str] | None,
          received_by: pd.Timestamp | None) -> pd.DataFrame:
    if ids is not None:
        frame = frame[frame["dossier_id"].isin(list(ids)).to_numpy(dtype=bool, na_value=False)]
    if received_by is not None:
        frame = frame[(frame["received_at"] <= received_by).fillna(False).to_numpy(dtype=bool)]
    return frame


def dossier_columns(data: Any, names: Iterable[str], ids: Iterable[str] | None = None,
                    received_by: pd.Timestamp | None = None) -> pd.DataFrame:
    """The columns ``names`` of ``data``'s dossiers (only those whose id is in ``ids``, or
    received at or before ``received_by``, when given), without reading the other columns or
    keeping the other dossiers."""
    names = list(names)
    source = source_of(data)
    if isinstance(source, DossierFile):
        return source.columns(names, ids, received_by)
    frame = _rows(data.dossiers, ids, received_by)
    return frame[[c for c in names if c in frame.columns]]


def counted_columns(data: Any, names: Iterable[str], ids: Iterable[str] | None = None) -> pd.DataFrame:
    """:func:`cchc_lib.conventions.counted_dossiers` under ``data.conventions`` of just the
    columns ``names`` (and those counting reads), as ``data.counted()[names]`` would be."""
    wanted = [*dict.fromkeys([*names, *_COUNTING_COLUMNS])]
    return counted_dossiers(dossier_columns(data, wanted, ids), data.conventions)


def install(cls: type) -> None:
    """Make ``cls.dossiers`` (a dataclass field) accept a :class:`DossierFile` and read it on
    first access; set after the dataclass is built so the field keeps no default."""

    def get(self: Any) -> pd.DataFrame:
        source = self.__dict__[_SOURCE]
        return source.frame() if isinstance(source, DossierFile) else source

    def put(self: Any, value: Any) -> None:
        self.__dict__[_SOURCE] = value

    cls.dossiers = property(get, put)  # type: ignore[attr-defined]


def has_values(data: Any, columns: Iterable[str], present: set[str]) -> dict[str, bool]:
    """Per column: the dossiers have it and an export had it (``present``, from the ingest
    report) or some dossier holds a value. Unread dossiers are the conformed table, which has
    every schema column, so only the columns no export recorded are read to look for a value."""
    columns = list(columns)
    lazy = is_lazy(data)
    look = [c for c in columns if not (lazy and c in present)]
    frame = dossier_columns(data, look) if look else None
    return {c: (lazy and c in present) or (
        frame is not None and c in frame.columns and (c in present or bool(frame[c].notna().any())))
        for c in columns}


def counted_has(data: Any, columns: Iterable[str]) -> dict[str, bool]:
    """Per column: some counted dossier (``counted_columns``) holds a value. Unread dossiers
    are streamed through pyarrow in batches, never a pandas frame; counted_dossiers'
    row rule (never received out; withdrawn out under ``excluded``) is repeated here, and the
    lazy-equals-eager tests hold the two together."""
    columns = list(columns)
    source = source_of(data)
    if not (isinstance(source, DossierFile) and source._loaded_holder() is None):
        frame = counted_columns(data, columns)
        return {c: c in frame.columns and bool(frame[c].notna().any()) for c in columns}
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = {spec.name for spec in TABLES["dossiers"]}
    present = set(pq.read_schema(source.path).names) & schema  # conform keeps no other column
    read = [c for c in dict.fromkeys([*columns, "status"]) if c in present]
    dropped = pa.array([NOT_RECEIVED, *([WITHDRAWN] if data.conventions.withdrawn == "excluded" else [])])

    def holds(column: pa.Array) -> bool:
        if pa.types.is_floating(column.type):  # pandas counts NaN as missing too
            return bool(pc.any(pc.fill_null(pc.invert(pc.is_nan(column)), False)).as_py())
        return column.null_count < len(column)

    found = {c: False for c in columns if c in present}
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=_BATCH_ROWS, columns=read):
        if "status" in present:
            status = pc.cast(batch.column("status"), pa.string())
            batch = batch.filter(pc.fill_null(pc.invert(pc.is_in(status, dropped)), True))
        for c in [c for c, seen in found.items() if not seen]:
            found[c] = holds(batch.column(c))
        if all(found.values()):
            break  # every answer known: the rest of the file is not read
    return {c: found.get(c, False) for c in columns}


def last_procedure_names(data: Any) -> dict[str, str]:
    """Procedure code -> the name of its last dossier (in file order) with both known; unread
    dossiers are streamed in batches, never held whole."""
    source = source_of(data)
    if not (isinstance(source, DossierFile) and source._loaded_holder() is None):
        frame = dossier_columns(data, ("procedure_code", "procedure_name"))
        if not len(frame) or "procedure_name" not in frame.columns:
            return {}
        pairs = frame.dropna().drop_duplicates("procedure_code", keep="last")
        return dict(zip(pairs["procedure_code"].astype(str), pairs["procedure_name"].astype(str),
                        strict=True))
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source.path)
    if not {"procedure_code", "procedure_name"} <= set(file.schema_arrow.names):
        return {}
    names: dict[str, str] = {}
    # Batch by batch, later batches overwriting: the last name wins with one batch in memory.
    for batch in file.iter_batches(batch_size=_BATCH_ROWS, columns=["procedure_code", "procedure_name"]):
        pairs = batch.to_pandas().dropna().drop_duplicates("procedure_code", keep="last")
        names.update(zip(pairs["procedure_code"].astype(str), pairs["procedure_name"].astype(str),
                         strict=True))
    return names


def receipt_range(data: Any) -> tuple[int, pd.Timestamp | None, pd.Timestamp | None]:
    """(dossiers the agency received, first and last ``received_at``): every dossier but the
    never-received registrations (a missing status counts). Unread dossiers are streamed in
    batches of two columns, never a pandas frame of ten million strings (a report header's
    coverage)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = source_of(data)
    lazy = isinstance(source, DossierFile) and source._loaded_holder() is None
    file = pq.ParquetFile(source.path) if lazy else None
    if file is None or "received_at" not in file.schema_arrow.names:
        frame = dossier_columns(data, ("status", "received_at"))
        if len(frame) and "status" in frame.columns:
            frame = frame[(frame["status"] != NOT_RECEIVED).to_numpy(dtype=bool, na_value=True)]
        if not len(frame):
            return 0, None, None
        return int(len(frame)), frame["received_at"].min(), frame["received_at"].max()
    count, lows, highs = 0, [], []
    read = [c for c in ("status", "received_at") if c in file.schema_arrow.names]
    for batch in file.iter_batches(batch_size=_BATCH_ROWS, columns=read):
        if "status" in read:
            status = pc.cast(batch.column("status"), pa.string())
            batch = batch.filter(pc.fill_null(pc.not_equal(status, NOT_RECEIVED), True))
        count += batch.num_rows
        extremes = pc.min_max(batch.column("received_at"))
        if extremes["min"].is_valid:
            lows.append(extremes["min"])
            highs.append(extremes["max"])
    if not count:
        return 0, None, None
    if not lows:
        return count, pd.NaT, pd.NaT

    def instants(scalars: list) -> pd.Series:  # nanoseconds kept (as_py would round to µs)
        return pd.Series(pa.array(scalars, type=scalars[0].type).to_pandas()).astype("datetime64[ns]")

    return count, instants(lows).min(), instants(highs).max()
