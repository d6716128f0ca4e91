"""A month grid of every dossier measure, built once, from which ``dossier_measures`` answers
any period, breakdown and department filter without touching the dossiers again.

The engine (:mod:`cchc_lib.indicators`) sums the day-level aggregate (``daily.parquet``, see
:mod:`cchc_lib.daily`) or, without one, the dossiers on every call: right for a report, too slow
for the explorer, where each click asks again. The grid is built from the same events (from the
aggregate when ingest wrote one, else from the dossiers): one mechanism. Every measure is
additive, so it is enough to sum each one once per *cell* (one department, field, procedure
and channel: the finest split any breakdown or filter uses) and month, and keep the cumulative
sums: a breakdown is then a sum of cells, a period a difference of two cumulative columns, a
department filter a choice of cells. The per-dossier rules are the engine's own
(``_dossier_events``); this module only changes where the sums are taken, and a test holds its
output equal to the engine's for every breakdown, filter and kind of period.

Opt-in: ``data = with_grid(data)`` returns a copy of ProcessedData carrying the grid; the
engine uses it whenever present. The dossiers must not change afterwards (build a new grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cchc_lib import dossier_source
from cchc_lib.daily import FLOAT_MEASURES, KINDS, MEASURES, NO_DAY, month_events
from cchc_lib.indicators import (
    BY_CHOICES,
    CHANNEL_LABELS,
    DOSSIER_MEASURES,
    GROUP_OVERALL,
    GROUP_UNKNOWN,
    _dossier_events,
    _month_number,
    measure_columns,
)
from cchc_lib.periods import ND09_DAY, Period
from cchc_lib.processed import ProcessedData

CELL_COLUMNS = {"department": "department", "field": "field", "procedure": "procedure_code",
                "channel": "channel"}


class MeasureGrid:
    """Cumulative month sums of every measure per cell: ``sums[name]`` has one row per cell and
    one column per month boundary from the first month with an event to the month after the
    last, column k holding everything before month ``lo + k``."""

    def __init__(self, data: ProcessedData, window: str | None = None,
                 basis: GridBasis | None = None) -> None:
        # Built for one set of conventions and one data window (nd09 months run 15th-14th).
        self.conventions = data.conventions
        self.window = window or data.conventions.window
        # From the day-level aggregate when ingest wrote one for these dossiers (each of its rows
        # stands for the dossiers it sums), else from the dossiers: the same events either way.
        daily = data.aggregate()
        if basis is not None and basis.daily is not daily:
            raise ValueError("the grid basis was built from another day-level aggregate")
        if basis is not None:
            # The aggregate summed to half-months (see GridBasis): the same month sums, from
            # a seventh of the rows, with each row's cell already numbered.
            rows, events = month_events(basis.rows, self.conventions, self.window)
            # Only the cells with a row that counts (``excluded`` may leave some out).
            cells = rows["cell"].to_numpy()
            present = np.flatnonzero(np.bincount(cells, minlength=len(basis.cells["department"])))
            number = np.zeros(len(basis.cells["department"]), dtype=np.int64)
            number[present] = np.arange(len(present))
            cell_of = number[cells]  # numbered in the basis' order (by first appearance)
            self.n_cells = len(present)
            self.cells = {by: labels[present] for by, labels in basis.cells.items()}
        else:
            if daily is not None:
                dossiers, events = month_events(daily, self.conventions, self.window)
            else:
                dossiers = data.counted()
                events = _dossier_events(dossiers, data.procedures, self.window)
            cell_of, self.cells = _number_cells(dossiers)
            self.n_cells = int(cell_of.max()) + 1 if len(cell_of) else 0
        self.lo, self.width, self.sums = _cumulative_sums(cell_of, self.n_cells, events)

    def serves(self, conventions: object, window: str) -> bool:
        """Whether this grid answers for these conventions and this window."""
        return conventions == self.conventions and window == self.window

    def _column(self, bound: int) -> int:
        return min(max(bound - self.lo, 0), self.width)

    def measures(self, periods: Sequence[Period], by: str = "overall",
                 department: str | None = None) -> pd.DataFrame:
        """Exactly ``indicators.dossier_measures(data, periods, by, department)``."""
        if by not in BY_CHOICES:
            raise ValueError(f"by must be one of {BY_CHOICES}, not {by!r}")
        periods = list(dict.fromkeys(periods))
        chosen = (np.ones(self.n_cells, dtype=bool) if department is None
                  else np.array([d == department for d in self.cells["department"]], dtype=bool))
        if by == "overall":
            groups = [GROUP_OVERALL]
            group_of = np.zeros(self.n_cells, dtype=np.int64)
        else:
            labels = self.cells[by]
            if by == "channel":
                labels = np.array([CHANNEL_LABELS.get(v, v) for v in labels], dtype=object)
            labels = np.array([GROUP_UNKNOWN if v is None or v is pd.NA or v != v else str(v)
                               for v in labels], dtype=object)
            groups = sorted(set(labels[chosen]))
            index = {g: i for i, g in enumerate(groups)}
            group_of = np.array([index.get(v, -1) for v in labels], dtype=np.int64)
        n_groups = len(groups)
        # Only the boundary columns the periods need, summed per group over the chosen cells
        # (cells sorted by group, one reduceat per measure): a few thousand additions.
        bounds = [_month_number(p) for p in periods]
        needed = np.unique([self._column(b) for pair in bounds for b in pair]).astype(np.int64)
        position = {int(c): i for i, c in enumerate(needed)}
        starts = np.array([position[self._column(b[0])] for b in bounds], dtype=np.int64)
        ends = np.array([position[self._column(b[1])] for b in bounds], dtype=np.int64)
        cells = np.flatnonzero(chosen & (group_of >= 0))
        cells = cells[np.argsort(group_of[cells], kind="stable")]
        owner = group_of[cells]
        heads = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(cells) else np.zeros(0, int)
        sums: dict[str, np.ndarray] = {}
        for name, cum in self.sums.items():
            summed = np.zeros((n_groups, len(needed)))
            if len(cells):
                summed[owner[heads]] = np.add.reduceat(cum[np.ix_(cells, needed)], heads, axis=0)
            sums[name] = summed
        columns = measure_columns(sums, starts, ends)
        return pd.DataFrame({
            "period": np.repeat([p.code for p in periods], n_groups),
            "group": np.tile(np.array(groups, dtype=object), len(periods)),
            **{name: columns[name] for name in DOSSIER_MEASURES},
        })


def with_grid(data: ProcessedData, window: str | None = None,
              basis: GridBasis | None = None) -> ProcessedData:
    """A copy of ``data`` whose indicator computations (under its conventions, in ``window``,
    default the conventions' analysis window) read a prebuilt :class:`MeasureGrid`; ``basis``
    (:func:`grid_basis` of ``data``'s aggregate) makes it several times faster to build."""
    # The dossiers passed on as held: a file not read yet stays unread, and the aggregate stays
    # theirs (``dataclasses.replace`` alone would read them and lose it).
    return replace(data, dossiers=dossier_source.source_of(data), grid=MeasureGrid(data, window, basis))


@dataclass(frozen=True, eq=False)
class GridBasis:
    """What every month grid of one day-level aggregate shares, whatever the conventions and the
    window: the aggregate summed to *half-months* and each cell's labels.

    A month under either window is a union of half-months (calendar: 1st-14th and 15th-end;
    NĐ 09: 15th-end and the next month's 1st-14th), so summing the aggregate's days into the
    1st or the 15th of their month changes no month's sum under either window, while leaving
    about a seventh of the rows; the conventions only look at a row's kind, kept as a key.
    ``rows`` has the aggregate's columns (``day`` now the 1st or the 15th) with the cell as a
    number (``cell``) in place of its four labels, which ``cells`` holds once per cell.
    Counts stay exact; the two float sums (waits, processing days) are added in another
    grouping, so they may differ from the day-level grid's in the last bits."""

    daily: pd.DataFrame  # the day-level aggregate it sums (a grid checks it is its data's)
    rows: pd.DataFrame
    cells: dict[str, np.ndarray]


KIND_CODES = 3 * KINDS  # kind = w * KINDS + t, w in 0..2


def grid_basis(daily: pd.DataFrame) -> GridBasis:
    """The :class:`GridBasis` of a day-level aggregate (:mod:`cchc_lib.daily`): built once per
    aggregate (a few tenths of a second at a million dossiers), then shared by the month grids
    of every combination of conventions and window."""
    cell_of, cells = _number_cells(daily)
    half = _half_month(daily["day"].to_numpy(dtype=np.int64))
    known = half[half != NO_DAY]
    first = int(known.min()) if len(known) else 0
    span = int(known.max()) - first + 2 if len(known) else 1
    offset = np.where(half == NO_DAY, 0, half - first + 1)  # 0: no date
    # One integer key per (cell, half-month, kind), summed by bincount.
    keys = (cell_of.astype(np.int64) * span + offset) * KIND_CODES \
        + daily["kind"].to_numpy(dtype=np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    offset_of = unique // KIND_CODES % span
    rows: dict[str, np.ndarray] = {
        "cell": unique // KIND_CODES // span,
        "day": np.where(offset_of == 0, NO_DAY, offset_of - 1 + first).astype(np.int32),
        "kind": (unique % KIND_CODES).astype(np.int8),
    }
    for name in MEASURES:
        summed = np.bincount(inverse, weights=daily[name].to_numpy(dtype=np.float64),
                             minlength=len(unique))
        # Counts are whole numbers far below 2**53: exact in float64 and back.
        rows[name] = summed if name in FLOAT_MEASURES else np.rint(summed).astype(np.int64)
    return GridBasis(daily, pd.DataFrame(rows), cells)


def _half_month(days: np.ndarray) -> np.ndarray:
    """The first day of each day's half-month: the 1st or the 15th (NĐ 09's first day) of its
    month; NO_DAY stays."""
    valid = days != NO_DAY
    dates = np.where(valid, days, 0).astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    day_of_month = dates.astype(np.int64) - month_start + 1
    half = np.where(day_of_month >= ND09_DAY, month_start + ND09_DAY - 1, month_start)
    return np.where(valid, half, NO_DAY)


def _number_cells(frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each row's cell, numbered by first appearance, and each cell's department, field,
    procedure and channel (as the rows spell them, missing as None)."""
    n = len(frame)
    combined = np.zeros(n, dtype=np.int64)
    for column in CELL_COLUMNS.values():
        codes, values = pd.factorize(frame[column], use_na_sentinel=False)
        combined = combined * max(len(values), 1) + codes
    cell_of = pd.factorize(combined)[0]
    first = np.unique(cell_of, return_index=True)[1] if n else np.zeros(0, dtype=np.int64)
    # (the first row of each cell taken before converting: a few thousand values, not a million)
    cells = {by: frame[column].iloc[first].to_numpy(dtype=object, na_value=None)
             for by, column in CELL_COLUMNS.items()}
    return cell_of, cells


def _cumulative_sums(cell_of: np.ndarray, n_cells: int,
                     events: dict) -> tuple[int, int, dict[str, np.ndarray]]:
    """(first month, number of months, {measure: cumulative month sums per cell}) of the
    engine's event dict (per time base: month numbers, valid mask, {measure: weights})."""
    # Bases that share their month and valid arrays (every base of the aggregate does) share
    # their keys: computed once.
    shared: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for months, valid, _ in events.values():
        if (id(months), id(valid)) not in shared:
            shared[id(months), id(valid)] = (months, valid)
    present = [m for m in (months[valid] for months, valid in shared.values()) if len(m)]
    lo = int(min(m.min() for m in present)) if present else 0
    hi = int(max(m.max() for m in present)) if present else 0
    width = hi - lo + 1
    keys_of = {pair: (cell_of.astype(np.int64) * width + (months - lo))[valid]
               for pair, (months, valid) in shared.items()}
    everything = {pair: bool(valid.all()) for pair, (_, valid) in shared.items()}
    sums: dict[str, np.ndarray] = {}
    for months, valid, measures in events.values():
        keys = keys_of[id(months), id(valid)]
        for name, weights in measures.items():
            chosen = weights if everything[id(months), id(valid)] else weights[valid]
            counts = np.bincount(keys, weights=chosen.astype(np.float64, copy=False),
                                 minlength=n_cells * width)
            cum = np.zeros((n_cells, width + 1))
            np.cumsum(counts.reshape(n_cells, width), axis=1, out=cum[:, 1:])
            sums[name] = cum
    return lo, width, sums
