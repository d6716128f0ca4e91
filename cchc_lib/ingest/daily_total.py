"""The running total of day-level aggregates that ingest adds batch after batch (issue 16): the
same table as :func:`cchc_lib.daily.add_daily` applied once per batch, byte for byte, at a
fraction of its cost.

``add_daily`` on a running total stacks the total and the batch's aggregate as pandas frames,
factorizes the four cell columns of every row (text) and sorts everything by four keys: above a
million dossiers that was most of the aggregate's time (each 500,000-dossier batch added to a
total of some 800,000 rows at 10M dossiers). :class:`DailyTotal` holds the total as numpy
arrays instead: the cells once, as a small table in order of first appearance, each row's cell
as an integer, each measure as one array. Adding a batch finds only the batch's cells among the
known ones, then merges the sorted keys and adds each measure where its row belongs.

Why it is the same table, bits included: rows are ordered by (cell by first appearance among
all the batches, day, lag, kind), as add_daily orders them; a count is a sum of integers; a
float sum is ``total + batch`` for a row both have (numpy's ``reduceat`` over the two values
adds exactly those two), the batch's value for a row new to it and the total's for a row the
batch lacks, which is what the scatter below computes (the new array is zeros, the total's
values are placed, then the batch's added). Tested against add_daily in
tests/test_daily_total.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cchc_lib.daily import CELL_COLUMNS, FLOAT_MEASURES, MEASURES, NO_DAY, daily_arrays

_KINDS = 16  # kind < 15 (daily.KINDS * 3)


@dataclass
class Part:
    """One batch's aggregate in the form the running total adds (:func:`compact`): its cells
    once, in the order it first shows them, and per row the cell's number among them, the day,
    lag and kind, and the measures (counts as int32 when they fit: a batch of fewer than 2**31
    dossiers always does). Half the size of the frame to send from a worker, and the cells'
    text is compared once per cell, not once per row."""

    cells: pd.DataFrame
    cell: np.ndarray
    day: np.ndarray
    lag: np.ndarray
    kind: np.ndarray
    measures: dict[str, np.ndarray]
    template: pd.DataFrame  # an empty frame of the aggregate's columns and dtypes


def compact(part: pd.DataFrame) -> Part:
    """A batch's aggregate (daily.build_daily's frame) as a :class:`Part`."""
    key = np.zeros(len(part), dtype=np.int64)
    for column in CELL_COLUMNS:
        codes, uniques = pd.factorize(part[column], use_na_sentinel=False)
        key = key * max(len(uniques), 1) + codes
    cell, _ = pd.factorize(key)  # numbered in order of first appearance
    first = np.unique(cell, return_index=True)[1]
    measures = {name: _narrow(part[name].to_numpy(dtype=_dtype(name))) for name in MEASURES}
    return Part(part[list(CELL_COLUMNS)].iloc[first].reset_index(drop=True), cell.astype(np.int32),
                part["day"].to_numpy(dtype=np.int32), part["lag"].to_numpy(dtype=np.int32),
                part["kind"].to_numpy(dtype=np.int8), measures, part.iloc[:0].copy())


def build_part(dossiers: pd.DataFrame, procedures: pd.DataFrame,
               feedback: pd.DataFrame | None = None) -> Part:
    """``compact(build_daily(...))`` without spelling the cells out row by row and finding them
    again (a quarter of the time of a batch's aggregate)."""
    cells, cell, day, lag, kind, columns = daily_arrays(dossiers, procedures, feedback)
    template = cells.iloc[:0].copy()
    template["day"] = np.zeros(0, dtype=np.int32)
    template["lag"] = np.zeros(0, dtype=np.int32)
    template["kind"] = np.zeros(0, dtype=np.int8)
    for name in MEASURES:
        template[name] = np.zeros(0, dtype=_dtype(name))
    measures = {name: _narrow(columns.pop(name)) for name in MEASURES}
    return Part(cells, cell.astype(np.int32), day, lag, kind, measures, template)


def _narrow(values: np.ndarray) -> np.ndarray:
    fits = not len(values) or (values.min() >= _INT32_MIN and values.max() <= _INT32_MAX)
    if values.dtype == np.int64 and fits:
        return values.astype(np.int32)
    return values


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class DailyTotal:
    """The sum of the aggregates :meth:`add`-ed, in order (consecutive batches of dossiers)."""

    def __init__(self) -> None:
        self.cells: pd.DataFrame | None = None  # the cells met so far, by first appearance
        self.cell = np.zeros(0, dtype=np.int64)
        self.day = np.zeros(0, dtype=np.int32)
        self.lag = np.zeros(0, dtype=np.int32)
        self.kind = np.zeros(0, dtype=np.int8)
        # One array per measure (scattering one column at a time is three times as fast as rows
        # of a two-dimensional array); counts as int32 while every sum is sure to fit.
        self.measures: dict[str, np.ndarray] = {}
        self.bound = 0  # no count of the total exceeds this: the sum of the parts' largest counts
        self.template: pd.DataFrame | None = None

    def add(self, part: pd.DataFrame | Part) -> None:
        """One batch's aggregate (daily.build_daily's frame, or :func:`compact` of it) added."""
        if isinstance(part, pd.DataFrame):
            part = compact(part)
        if self.template is None:
            self.template = part.template
        cell = self._cell_codes(part)
        counts = [part.measures[name] for name in MEASURES if name not in FLOAT_MEASURES]
        self.bound += max((int(v.max()) for v in counts if len(v)), default=0)
        wide = self.bound > _INT32_MAX or any(v.dtype != np.int32 for v in counts)
        if not self.measures:
            self.cell, self.day, self.lag, self.kind = cell, part.day, part.lag, part.kind
            self.measures = {name: self._typed(name, part.measures[name], wide) for name in MEASURES}
            return
        n_total = len(self.cell)
        group = _group_ids(np.concatenate([self.cell, cell]), np.concatenate([self.day, part.day]),
                           np.concatenate([self.lag, part.lag]), np.concatenate([self.kind, part.kind]))
        at_total, at_part = group.ids[:n_total], group.ids[n_total:]
        for name in MEASURES:
            mine = self._typed(name, self.measures.pop(name), wide)
            summed: np.ndarray = np.zeros(group.count, dtype=mine.dtype)
            summed[at_total] = mine
            del mine
            # One aggregate's keys are distinct: no index twice, so each row is total + part.
            summed[at_part] += self._typed(name, part.measures[name], wide)
            self.measures[name] = summed
        self.cell, self.day = group.cell, group.day.astype(np.int32)
        self.lag, self.kind = group.lag.astype(np.int32), group.kind.astype(np.int8)

    @staticmethod
    def _typed(name: str, values: np.ndarray, wide: bool) -> np.ndarray:
        if name in FLOAT_MEASURES:
            return values
        return values.astype(np.int64 if wide else np.int32, copy=False)

    def _cell_codes(self, part: Part) -> np.ndarray:
        """Each row's cell as its number among all the cells met (new ones numbered on, in the
        order the part first shows them, as add_daily's factorize of the stacked frames)."""
        known = 0 if self.cells is None else len(self.cells)
        stacked = part.cells if self.cells is None else pd.concat([self.cells, part.cells], ignore_index=True)
        key = np.zeros(len(stacked), dtype=np.int64)
        for column in CELL_COLUMNS:
            codes, uniques = pd.factorize(stacked[column], use_na_sentinel=False)
            key = key * max(len(uniques), 1) + codes
        code, _ = pd.factorize(key)
        # The known cells are distinct and first in the stack: they keep their numbers 0..known-1;
        # the part's are distinct too, so its new ones are numbered on in its own order.
        ours = code[known:].astype(np.int64)
        new = ours >= known
        if new.any():
            added = part.cells[new]
            self.cells = added.reset_index(drop=True) if self.cells is None else \
                pd.concat([self.cells, added], ignore_index=True)
        return ours[part.cell]

    def frame(self) -> pd.DataFrame:
        """The total as add_daily returns it (the first part itself if only one was added)."""
        assert self.template is not None, "nothing added"
        if self.cells is None:
            return self.template
        out = self.cells.iloc[self.cell].reset_index(drop=True)
        out["day"] = self.day.astype(np.int32)
        out["lag"] = self.lag.astype(np.int32)
        out["kind"] = self.kind.astype(np.int8)
        for name in MEASURES:
            out[name] = self.measures[name].astype(_dtype(name), copy=False)
        return out


def _dtype(name: str) -> type:
    return np.float64 if name in FLOAT_MEASURES else np.int64


class _Groups:
    def __init__(self, ids: np.ndarray, count: int, cell: np.ndarray, day: np.ndarray, lag: np.ndarray,
                 kind: np.ndarray) -> None:
        self.ids, self.count = ids, count
        self.cell, self.day, self.lag, self.kind = cell, day, lag, kind


def _group_ids(cell: np.ndarray, day: np.ndarray, lag: np.ndarray, kind: np.ndarray) -> _Groups:
    """Each row's group among the distinct (cell, day, lag, kind), the groups numbered in that
    sort order, and each group's keys. One int64 sort when the four fit in 63 bits (always, for
    days and lags within some 700 years), else numpy's four-key lexsort."""
    cell, day, lag, kind = (a.astype(np.int64, copy=False) for a in (cell, day, lag, kind))
    packed = _pack(cell, day, lag, kind)
    if packed is not None:
        order = np.argsort(packed, kind="stable")  # two sorted runs: a merge
        ordered = packed[order]
        starts = np.empty(len(ordered), dtype=bool)
        starts[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    else:
        order = np.lexsort((kind, lag, day, cell))
        c, d, g, k = cell[order], day[order], lag[order], kind[order]
        starts = np.empty(len(order), dtype=bool)
        starts[:1] = True
        starts[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1]) | (g[1:] != g[:-1]) | (k[1:] != k[:-1])
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.cumsum(starts) - 1
    firsts = order[starts]
    return _Groups(ids, int(starts.sum()), cell[firsts], day[firsts], lag[firsts], kind[firsts])


def _pack(cell: np.ndarray, day: np.ndarray, lag: np.ndarray, kind: np.ndarray) -> np.ndarray | None:
    """(cell, day, lag, kind) as one int64 in the same order, or None if they do not fit."""
    if not len(cell):
        return np.zeros(0, dtype=np.int64)
    real = day != NO_DAY
    # NO_DAY (a missing date, -2**31) sorts first: numbered 0, the real days from 1.
    first = int(day[real].min()) if real.any() else 0
    days = (int(day[real].max()) - first + 2) if real.any() else 1
    lag_low = int(lag.min())
    lags = int(lag.max()) - lag_low + 1
    cells = int(cell.max()) + 1
    if cells * days * lags * _KINDS >= 2**62:
        return None
    day_code = np.where(real, day - first + 1, 0)
    return ((cell * days + day_code) * lags + (lag - lag_low)) * _KINDS + kind
