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

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from cchc_lib import dossier_source
from cchc_lib.conventions import END_OF_DAY, Conventions
from cchc_lib.daily import ASOF, NO_DAY, month_events, month_of_days
from cchc_lib.indicators import (
    BY_CHOICES,
    COMPOSED_MEASURES,
    DOSSIER_MEASURES,
    ProcessedData,
    measure_columns,
    period_sums,
)
from cchc_lib.periods import ND09_DAY, Period
from cchc_lib.schema import TABLES

# The dossier inputs whose presence decides an indicator's "Chưa có dữ liệu" (the engine's
# availability keys read from the dossiers; a test holds the two paths equal).
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
    :class:`cchc_lib.indicators.MeasureSource`), for one set of conventions and the data
    window of their analysis."""

    def __init__(self, daily: pd.DataFrame, conventions: Conventions, day: int) -> None:
        self.conventions = conventions
        self.window = conventions.window
        self.day = int(day)
        known = (daily["day"].to_numpy(dtype=np.int64) + daily["lag"].to_numpy(dtype=np.int64)) <= day
        visible, events = month_events(daily[known], conventions, self.window)
        n = len(visible)
        months = month_of_days(visible["day"].to_numpy(dtype=np.int64), self.window)
        valid = np.ones(n, dtype=bool)
        # The overdue backlog's flows without the convention's weight (see the docstring).
        events["open_due_in"] = (months, valid, {f"open_{name}": visible[name].to_numpy()
                                                 for name in ("due_in", "due_in_apology")})
        events["open_due_out"] = (months, valid, {f"open_{name}": visible[name].to_numpy()
                                                  for name in ("due_out", "due_out_apology")})
        # Withdrawn dossiers due by D and completed after it (on_time only: by_dates already
        # judges them by their due date, excluded drops them).
        parts = [visible]
        if conventions.withdrawn == "on_time":
            day_col = daily["day"].to_numpy(dtype=np.int64)
            later = ~known & (daily["inflight_due"].to_numpy() > 0) & (day_col <= day)
            inflight = daily[later]
            parts.append(inflight)
            pad = np.zeros(len(inflight), dtype=bool)
            events = {base: (np.r_[m, np.zeros(len(inflight), np.int64)], np.r_[v, pad],
                             {k: np.r_[w, np.zeros(len(inflight), w.dtype)] for k, w in ms.items()})
                      for base, (m, v, ms) in events.items()}
            lead = np.zeros(n, dtype=bool)
            events["inflight"] = (
                np.r_[np.zeros(n, np.int64), month_of_days(inflight["day"].to_numpy(np.int64), self.window)],
                np.r_[lead, ~pad],
                {name: np.r_[np.zeros(n, np.int64), inflight[name].to_numpy()]
                 for name in ("inflight_due", "inflight_due_apology")})
        self.rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else visible
        self.events = events

    def serves(self, conventions: object, window: str) -> bool:
        return conventions == self.conventions and window == self.window

    def measures(self, periods: Sequence[Period], by: str = "overall",
                 department: str | None = None) -> pd.DataFrame:
        """Exactly ``dossier_measures(as_of_view(data, at), periods, by, department)``."""
        if by not in BY_CHOICES:
            raise ValueError(f"by must be one of {BY_CHOICES}, not {by!r}")
        rows, events = self.rows, self.events
        if department is not None:
            chosen = (rows["department"] == department).to_numpy(dtype=bool, na_value=False)
            rows = rows[chosen]
            events = {base: (m[chosen], v[chosen], {k: w[chosen] for k, w in ms.items()})
                      for base, (m, v, ms) in events.items()}
        periods = list(dict.fromkeys(periods))
        sums, groups, bounds, starts, ends = period_sums(rows, events, periods, by)
        n_groups = len(groups)
        columns = measure_columns(sums, starts, ends)
        # The overdue backlog at each period's end: the whole data's rule at a boundary by the
        # start of D + 1, the dossiers open at D and due by D after it.
        after = np.repeat(boundary_day(bounds[:, 1], self.window) > self.day + 1, n_groups)

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
                   grid=AsOfMeasures(daily, data.conventions, day), _counted=None)
