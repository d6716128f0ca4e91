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
from dataclasses import replace

import numpy as np
import pandas as pd

from cchc_lib.daily import month_events
from cchc_lib.indicators import (
    BY_CHOICES,
    CHANNEL_LABELS,
    DOSSIER_MEASURES,
    GROUP_OVERALL,
    GROUP_UNKNOWN,
    ProcessedData,
    _dossier_events,
    _month_number,
    measure_columns,
)
from cchc_lib.periods import Period

CELL_COLUMNS = {"department": "department", "field": "field", "procedure": "procedure_code",
                "channel": "channel"}


class MeasureGrid:
    """Cumulative month sums of every measure per cell: ``sums[name]`` has one row per cell and
    one column per month boundary from the first month with an event to the month after the
    last, column k holding everything before month ``lo + k``."""

    def __init__(self, data: ProcessedData, window: str | None = None) -> None:
        # Built for one set of conventions and one data window (nd09 months run 15th-14th).
        self.conventions = data.conventions
        self.window = window or data.conventions.window
        # From the day-level aggregate when ingest wrote one for these dossiers (each of its rows
        # stands for the dossiers it sums), else from the dossiers: the same events either way.
        daily = data.aggregate()
        if daily is not None:
            dossiers, events = month_events(daily, self.conventions, self.window)
        else:
            dossiers = data.counted()
            events = _dossier_events(dossiers, data.procedures, self.window)
        n = len(dossiers)
        combined = np.zeros(n, dtype=np.int64)
        uniques: dict[str, np.ndarray] = {}
        for by, column in CELL_COLUMNS.items():
            codes, values = pd.factorize(dossiers[column], use_na_sentinel=False)
            uniques[by] = np.asarray(values, dtype=object)
            combined = combined * max(len(values), 1) + codes
        cell_of = pd.factorize(combined)[0]
        first = pd.Series(np.arange(n)).groupby(cell_of).first().to_numpy() if n else np.zeros(0, int)
        self.n_cells = int(cell_of.max()) + 1 if n else 0
        # Each cell's department, field, procedure and channel (as the dossiers spell them).
        # (the first row of each cell taken before converting: a few thousand values, not a million)
        self.cells = {by: dossiers[column].iloc[first].to_numpy(dtype=object, na_value=None)
                      for by, column in CELL_COLUMNS.items()}

        valid_months = [months[valid] for months, valid, _ in events.values()]
        present = [m for m in valid_months if len(m)]
        self.lo = int(min(m.min() for m in present)) if present else 0
        hi = int(max(m.max() for m in present)) if present else 0
        self.width = hi - self.lo + 1
        self.sums: dict[str, np.ndarray] = {}
        for months, valid, measures in events.values():
            keys = (cell_of.astype(np.int64) * self.width + (months - self.lo))[valid]
            for name, weights in measures.items():
                w = weights[valid].astype(np.float64)
                counts = np.bincount(keys, weights=w, minlength=self.n_cells * self.width)
                cum = np.zeros((self.n_cells, self.width + 1))
                np.cumsum(counts.reshape(self.n_cells, self.width), axis=1, out=cum[:, 1:])
                self.sums[name] = cum

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


def with_grid(data: ProcessedData, window: str | None = None) -> ProcessedData:
    """A copy of ``data`` whose indicator computations (under its conventions, in ``window``,
    default the conventions' analysis window) read a prebuilt :class:`MeasureGrid`."""
    return replace(data, grid=MeasureGrid(data, window))
