"""The data as it stood at the end of a day, from the day-level aggregate (``daily.parquet``):
the numbers of :func:`cchc_lib.projection.as_of_view` without reading a single dossier.

``as_of_view(data, at)`` keeps the dossiers received by ``at``, drops the completions, ratings
and returns after it, and makes a dossier still open at ``at`` and due after it not overdue.
When ``at`` is the last instant of a day D (a period's end, ``--as-of DATE``), each of those
changes is a cut at a day, and the aggregate holds what each cut needs (cchc_lib.daily):

- every event sits on its own day (the month it counts in) and on the day it became known,
  ``day + lag``: a completion once the dossier was received, a rating once given and its
  dossier completed. The events known by the end of D are the rows with ``day + lag <= D``;
- the backlog at a month boundary E no later than the start of D + 1 is the whole data's
  (a dossier received before E and completed after D was pending at E in both), except that a
  clock-stopped status completed after D was still stopped at E (its ``due_in`` row is known
  only from its completion: ``lag``), and that under ``withdrawn: on_time`` a withdrawn dossier
  completed after D was an ordinary open dossier at E (``inflight_due``, counted while its
  completion is after D);
- at a boundary after D + 1 (the end of a period still running at D), the overdue backlog is the
  dossiers open at D and due by then: ``due_in - due_out`` of the rows known by D, with no
  convention (a dossier still open is judged by its own due date, withdrawn or not; a
  clock-stopped status completed by D enters and leaves, one completed after D is not known).

:func:`as_of_data` gives a ProcessedData whose indicator engine answers from these, or None when
the aggregate cannot say (an instant inside a day, an aggregate written before these columns, a
received dossier without a receipt date): the caller then builds the view of the dossiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from cchc_lib import dossier_source
from cchc_lib.conventions import END_OF_DAY, NOT_RECEIVED, WITHDRAWN, Conventions, counted_dossiers
from cchc_lib.daily import ASOF, NO_DAY, month_events, month_of_days
from cchc_lib.indicators import BY_CHOICES, COMPOSED_MEASURES, DOSSIER_MEASURES, measure_columns, period_sums
from cchc_lib.periods import ND09_DAY, WINDOWS, Period
from cchc_lib.processed import ProcessedData
from cchc_lib.schema import TABLES

# The dossier inputs whose presence decides an indicator's "Chưa có dữ liệu" (the engine's
# availability keys read from the dossiers; a test holds the two paths equal).
COUNTING_COLUMNS = dossier_source._COUNTING_COLUMNS  # what counted_dossiers reads
INPUT_COLUMNS = ("apology_issued", "fee_required", "paid_online", "rating", "wait_minutes",
                 "synced_national", "digitized", "electronic_result", "channel")


def day_of_end(at: object) -> int | None:
    """The day D (days since 1970-01-01) whose last instant is ``at``; None for another instant."""
    instant = pd.Timestamp(at)  # type: ignore[arg-type]
    if pd.isna(instant) or instant != instant.normalize() + END_OF_DAY:
        return None
    return int(instant.normalize().to_datetime64().astype("datetime64[D]").astype(np.int64))


def serves(daily: pd.DataFrame | None) -> bool:
    """Whether ``daily`` can give the data as it stood at a day's end: it has the ``lag`` and
    as-of columns, and every received dossier has a receipt date (one without is never in a
    view, yet its rows would sit on no day)."""
    if daily is None or "lag" not in daily.columns or not set(ASOF) <= set(daily.columns):
        return False
    no_day = daily["day"].to_numpy() == NO_DAY
    return not bool((daily["received"].to_numpy()[no_day] > 0).any())


def boundary_day(months: np.ndarray, window: str) -> np.ndarray:
    """The first day (days since 1970-01-01) of each month number under ``window`` (nd09: the
    15th of the calendar month before)."""
    calendar = (np.asarray(months, dtype=np.int64) - 1970 * 12).astype("datetime64[M]")
    if window == "nd09":
        calendar = calendar - np.timedelta64(1, "M")
        return calendar.astype("datetime64[D]").astype(np.int64) + ND09_DAY - 1
    return calendar.astype("datetime64[D]").astype(np.int64)


class AsOfMeasures:
    """``dossier_measures`` of ``as_of_view(data, end of day D)`` from the aggregate (a
    :class:`cchc_lib.processed.MeasureSource`), for one set of conventions, in either data
    window (each built on first use); also what the national index asks of that data
    (:func:`cchc_lib.index766.daily.asof_tallies`, :meth:`has`, :meth:`owners`).

    ``source`` is the whole data it was cut from (:func:`as_of_data`): the data as it stood at
    an earlier instant is that of ``source`` (a view of a view at an earlier instant is the
    view of the whole data there)."""

    def __init__(self, daily: pd.DataFrame, conventions: Conventions, day: int,
                 source: ProcessedData | None = None) -> None:
        self.daily = daily
        self.conventions = conventions
        self.window = conventions.window
        self.day = int(day)
        self.at = end_of_day(self.day)
        self.source = source
        self.known = (daily["day"].to_numpy(dtype=np.int64)
                      + daily["lag"].to_numpy(dtype=np.int64)) <= self.day
        self._windows: dict[str, tuple[pd.DataFrame, dict]] = {}
        self._has: dict[str, bool] = {}
        self._memo: dict[str, object] = {}

    def rows_events(self, window: str) -> tuple[pd.DataFrame, dict]:
        """The rows and the engine's events (see ``month_events``) of the data at D under
        ``window``, with the overdue backlog's own flows (``open_*``, ``inflight*``)."""
        if window not in self._windows:
            self._windows[window] = self._build(window)
        return self._windows[window]

    def _build(self, window: str) -> tuple[pd.DataFrame, dict]:
        conventions = self.conventions
        visible, events = month_events(self.visible(), conventions, window)
        n = len(visible)
        months = month_of_days(visible["day"].to_numpy(dtype=np.int64), window)
        valid = np.ones(n, dtype=bool)
        # The overdue backlog's flows without the convention's weight (see the docstring).
        events["open_due_in"] = (months, valid, {f"open_{name}": visible[name].to_numpy()
                                                 for name in ("due_in", "due_in_apology")})
        events["open_due_out"] = (months, valid, {f"open_{name}": visible[name].to_numpy()
                                                  for name in ("due_out", "due_out_apology")})
        # Withdrawn dossiers due by D and completed after it (on_time only: by_dates already
        # judges them by their due date, excluded drops them).
        if conventions.withdrawn != "on_time":
            return visible, events
        inflight = self.inflight()
        pad = np.zeros(len(inflight), dtype=bool)
        events = {base: (np.r_[m, np.zeros(len(inflight), np.int64)], np.r_[v, pad],
                         {k: np.r_[w, np.zeros(len(inflight), w.dtype)] for k, w in ms.items()})
                  for base, (m, v, ms) in events.items()}
        lead = np.zeros(n, dtype=bool)
        events["inflight"] = (
            np.r_[np.zeros(n, np.int64), month_of_days(inflight["day"].to_numpy(np.int64), window)],
            np.r_[lead, ~pad],
            {name: np.r_[np.zeros(n, np.int64), inflight[name].to_numpy()]
             for name in ("inflight_due", "inflight_due_apology")})
        return pd.concat([visible, inflight], ignore_index=True), events

    def visible(self) -> pd.DataFrame:
        """The aggregate's rows known by D (one copy, shared by both windows and the index)."""
        return self.remembered("visible", lambda: self.daily[self.known])

    def inflight(self) -> pd.DataFrame:
        """The rows of withdrawn dossiers due by D and completed after it (``inflight_due``)."""
        daily = self.daily
        later = (~self.known & (daily["inflight_due"].to_numpy() > 0)
                 & (daily["day"].to_numpy(dtype=np.int64) <= self.day))
        return daily[later]

    def after(self, months: np.ndarray, window: str) -> np.ndarray:
        """Whether each month boundary (month number under ``window``) is after the start of
        D + 1: there the overdue backlog is the dossiers open at D and due by D."""
        return boundary_day(months, window) > self.day + 1

    def serves(self, conventions: object, window: str) -> bool:
        return conventions == self.conventions and window in WINDOWS

    def measures(self, periods: Sequence[Period], by: str = "overall",
                 department: str | None = None) -> pd.DataFrame:
        """Exactly ``dossier_measures(as_of_view(data, at), periods, by, department)``, the
        periods in their own data window (``dossier_measures`` hands them in the one asked)."""
        if by not in BY_CHOICES:
            raise ValueError(f"by must be one of {BY_CHOICES}, not {by!r}")
        periods = list(dict.fromkeys(periods))
        windows = {p.window for p in periods}
        if len(windows) > 1:
            raise ValueError(f"periods in several data windows: {sorted(windows)}")
        window = windows.pop() if windows else self.window
        rows, events = self.rows_events(window)
        if department is not None:
            chosen = (rows["department"] == department).to_numpy(dtype=bool, na_value=False)
            rows = rows[chosen]
            events = {base: (m[chosen], v[chosen], {k: w[chosen] for k, w in ms.items()})
                      for base, (m, v, ms) in events.items()}
        sums, groups, bounds, starts, ends = period_sums(rows, events, periods, by)
        n_groups = len(groups)
        columns = measure_columns(sums, starts, ends)
        # The overdue backlog at each period's end: the whole data's rule at a boundary by the
        # start of D + 1, the dossiers open at D and due by D after it.
        after = np.repeat(self.after(bounds[:, 1], window), n_groups)

        def at_ends(name: str) -> np.ndarray:
            return sums[name][:, ends].T.ravel()

        for measure, suffix in (("pending_overdue", ""), ("pending_overdue_apology", "_apology")):
            open_now = at_ends(f"open_due_in{suffix}") - at_ends(f"open_due_out{suffix}")
            by_then = columns[measure]
            if "inflight" in events:
                by_then = by_then + at_ends(f"inflight_due{suffix}")
            columns[measure] = np.where(after, open_now, by_then)
        for name, parts in COMPOSED_MEASURES.items():
            columns[name] = np.sum([columns[part] for part in parts], axis=0)
        return pd.DataFrame({
            "period": np.repeat([p.code for p in periods], n_groups),
            "group": np.tile(np.array(groups, dtype=object), len(periods)),
            **{name: columns[name] for name in DOSSIER_MEASURES},
        })

    # -- what the national index asks of single dossiers, at D ---------------------------------

    def has(self, *columns: str) -> bool:
        """Whether the counted dossiers received by D hold a value in each of ``columns`` (as
        the index finds them on the view), read a few columns of the whole data, remembered."""
        missing = [c for c in columns if c not in self._has]
        if missing:
            self._has.update(counted_has_by(self._whole(), missing, self.at))
        return all(self._has[c] for c in columns)

    def owners(self, names: Sequence[str], ids: Iterable[str]) -> pd.DataFrame:
        """The columns ``names`` of the counted dossiers received by D whose id is in ``ids``."""
        whole = self._whole()
        wanted = [*dict.fromkeys([*names, *COUNTING_COLUMNS])]
        frame = dossier_source.dossier_columns(whole, wanted, ids=ids, received_by=self.at)
        return counted_dossiers(frame, self.conventions)

    def remembered(self, key: str, compute):
        """``compute()``, once per as-of data (what every period of it reads alike)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _whole(self) -> ProcessedData:
        if self.source is None:
            raise RuntimeError("AsOfMeasures built without its data: use asof_daily.as_of_data")
        return self.source


def end_of_day(day: int) -> pd.Timestamp:
    """The last instant of day ``day`` (days since 1970-01-01)."""
    return pd.Timestamp(np.datetime64(int(day), "D")) + END_OF_DAY


def counted_has_by(data: ProcessedData, columns: Sequence[str], at: pd.Timestamp) -> dict[str, bool]:
    """Per column: some dossier counted under ``data.conventions`` and received by ``at`` holds
    a value (``dossier_source.counted_has`` cut at a date). Unread dossiers are streamed in
    batches of just these columns, the status and the receipt, stopping once all are found."""
    columns = list(columns)
    source = dossier_source.source_of(data)
    if not (isinstance(source, dossier_source.DossierFile) and not source.loaded
            and source._loaded_holder() is None):
        frame = counted_dossiers(dossier_source.dossier_columns(
            data, [*dict.fromkeys([*columns, *COUNTING_COLUMNS])], received_by=at), data.conventions)
        return {c: c in frame.columns and bool(frame[c].notna().any()) for c in columns}
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = {spec.name for spec in TABLES["dossiers"]}
    present = set(pq.read_schema(source.path).names) & schema
    found = {c: False for c in columns}
    look = [c for c in columns if c in present]
    if not look or "received_at" not in present:
        return found
    read = [*dict.fromkeys([*look, "status", "received_at"])]
    read = [c for c in read if c in present]
    dropped = pa.array([NOT_RECEIVED, *([WITHDRAWN] if data.conventions.withdrawn == "excluded" else [])])
    bound = pa.scalar(pd.Timestamp(at).value, type=pa.timestamp("ns"))
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=dossier_source._BATCH_ROWS,
                                                          columns=read):
        received = pc.cast(batch.column("received_at"), pa.timestamp("ns"))
        keep = pc.fill_null(pc.less_equal(received, bound), False)
        if "status" in present:
            status = pc.cast(batch.column("status"), pa.string())
            keep = pc.and_(keep, pc.fill_null(pc.invert(pc.is_in(status, dropped)), True))
        batch = batch.filter(keep)
        for c in [c for c in look if not found[c]]:
            found[c] = _holds(batch.column(c))
        if all(found[c] for c in look):
            break
    return found


def _holds(column) -> bool:
    """A pyarrow column holds a value (pandas counts a float NaN as missing too)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(column.type):
        return bool(pc.any(pc.fill_null(pc.invert(pc.is_nan(column)), False)).as_py() or False)
    return column.null_count < len(column)


class NoDossiers(dossier_source.DossierFile):
    """The dossiers of :func:`as_of_data`: none to read. The engine's questions about single
    dossiers (which inputs exist) are answered beforehand; anything else that wants them (a
    computation in another data window than the one served) fails loudly instead of counting an
    empty table."""

    def __init__(self) -> None:
        super().__init__(Path("daily.parquet"))

    def frame(self) -> pd.DataFrame:
        raise RuntimeError("số liệu tính đến một ngày lấy từ daily.parquet không có từng hồ sơ; "
                           "hãy dùng projection.as_of_view cho việc cần từng hồ sơ")

    def columns(self, names, ids=None, received_by=None) -> pd.DataFrame:
        wanted = set(names)
        return pd.DataFrame({spec.name: pd.Series(dtype=spec.dtype)
                             for spec in TABLES["dossiers"] if spec.name in wanted})


def _inputs_as_of(data: ProcessedData, at: pd.Timestamp) -> set[str]:
    """The inputs the view of ``data`` at ``at`` has (as ``indicators._availability`` finds them
    on it): an export had the column (ingest report) or a dossier received by ``at`` holds a
    value then (a rating only once given and its dossier completed). Only the columns no export
    recorded are read, of the dossiers received by ``at``."""
    block = (data.ingest_report or {}).get("tables", {}).get("dossiers", {})
    present = set(block.get("columns_present", ()))
    source = dossier_source.source_of(data)
    has = (set(source.columns) if isinstance(source, pd.DataFrame)
           else {spec.name for spec in TABLES["dossiers"]})
    out = {c for c in INPUT_COLUMNS if c in has and c in present}
    look = [c for c in INPUT_COLUMNS if c in has and c not in present]
    if look:
        frame = dossier_source.dossier_columns(data, [*look, "rated_at", "completed_at"], received_by=at)
        for c in look:
            values = frame[c].notna()
            if c == "rating":
                later = (frame["rated_at"] > at).fillna(False) | (frame["completed_at"] > at).fillna(False)
                values &= ~later
            if bool(values.any()):
                out.add(c)
    return out


def as_of_data(data: ProcessedData, at: object) -> ProcessedData | None:
    """``data`` as it stood at the instant ``at`` for the indicator engine, answered by the
    aggregate (no dossier read); None when the aggregate cannot answer exactly (see the module
    docstring).

    It holds no dossiers (:class:`NoDossiers`): everything the engine asks of single dossiers
    (which inputs exist) is answered beforehand, through the ingest report it carries."""
    at = pd.Timestamp(at)
    grid = data.grid
    if isinstance(grid, AsOfMeasures) and grid.source is not None:
        # Already the data at the end of a day: unchanged at a later instant, the whole data's
        # at an earlier one.
        if at >= grid.at:
            return data
        data = grid.source
    day = day_of_end(at)
    daily = data.aggregate()
    if day is None or not serves(daily):
        return None
    assert daily is not None
    inputs = _inputs_as_of(data, at)
    report = dict(data.ingest_report or {})
    tables = dict(report.get("tables", {}))
    tables["dossiers"] = {**tables.get("dossiers", {}), "columns_present": sorted(inputs)}
    report["tables"] = tables
    return replace(data, dossiers=NoDossiers(), ingest_report=report, daily=None, daily_of=None,
                   grid=AsOfMeasures(daily, data.conventions, day, source=data), _counted=None)


def whole_data(data: ProcessedData) -> ProcessedData:
    """The data ``data`` was cut from when it is the data as it stood at a date
    (:func:`as_of_data`), else ``data`` itself."""
    grid = data.grid
    if isinstance(grid, AsOfMeasures) and grid.source is not None:
        return grid.source
    return data
