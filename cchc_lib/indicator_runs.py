"""The indicator engine for many reports at once: :func:`compute_runs` gives, for each *run* (the
periods one ``compute_many`` call would be asked for), exactly what
``indicators.compute_many(data, run, by, department, with_changes)`` gives — the same rows, in
the same order, with the same values to the last bit — but assembles every run's rows in one
pass. A year batch's reports ask the engine the same questions for 17 periods; the assembly
(the indicators' columns, targets, statuses, the sort and the changes against earlier periods)
costs about the same for one period as for all of them, so a batch worker does it once.

Why each run keeps its own measure sums: the engine takes a period's flows as differences of
cumulative month sums that start at the earliest month the call asked for, and sums of
fractional values (processing days) round differently from another start. So every run's
measures come from its own ``dossier_measures`` call (a few milliseconds), and only what is
computed row by row is shared. Runs whose rows span other plan years are assembled apart, since
a target's comparison operator is read over the years a call covers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cchc_lib.indicators import (
    COLUMNS,
    DOSSIER_INDICATORS,
    GROUP_OVERALL,
    INDICATORS,
    _availability,
    _catalogue_rows,
    _indicator_rows,
    _period_year,
    _stacked,
    compute_many,
    dossier_measures,
)
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData

RUN = "_run"


def wanted_periods(run: Sequence[Period], with_changes: bool) -> list[Period]:
    """The periods ``compute_many`` computes for ``run``: the run's own and, with changes, each
    one's previous period and the same period a year earlier."""
    periods = list(dict.fromkeys(run))
    if with_changes:
        extra = [q for p in periods for q in (p.previous(), p.same_last_year())]
        periods = list(dict.fromkeys([*periods, *extra]))
    return periods


def compute_runs(data: ProcessedData, runs: Sequence[Sequence[Period]], by: str = "overall",
                 department: str | None = None, with_changes: bool = True) -> list[pd.DataFrame]:
    """``[compute_many(data, run, by, department, with_changes) for run in runs]``, assembled
    together (see the module docstring)."""
    own: list[list[Period]] = [list(dict.fromkeys(run)) for run in runs]
    wanted = [wanted_periods(run, with_changes) for run in own]
    out: list[pd.DataFrame | None] = [None] * len(own)
    # Runs covering the same plan years are assembled together.
    by_years: dict[frozenset[int], list[int]] = {}
    for i, run in enumerate(own):
        if run:
            by_years.setdefault(frozenset(p.year for p in wanted[i]), []).append(i)
        else:
            out[i] = compute_many(data, run, by, department, with_changes)
    for members in by_years.values():
        for i, frame in zip(members, _assemble(data, [own[i] for i in members],
                                               [wanted[i] for i in members], by, department,
                                               with_changes), strict=True):
            # A run without a row of its own: the single call's empty frame (its column types).
            out[i] = frame if frame is not None else compute_many(data, own[i], by, department,
                                                                  with_changes)
    return [frame for frame in out if frame is not None]


def _assemble(data: ProcessedData, runs: list[list[Period]], wanted: list[list[Period]], by: str,
              department: str | None, with_changes: bool) -> list[pd.DataFrame | None]:
    """compute_many's rows for each run, one assembly for all; None for a run with no row."""
    avail = _availability(data)
    bases = []
    for i, periods in enumerate(wanted):
        base = dossier_measures(data, periods, by, department)
        base[RUN] = i
        bases.append(base)
    base = pd.concat(bases, ignore_index=True)
    if by != "overall":
        activity = base[["received", "resolved", "rated", "pending", "carried_over"]].sum(axis=1)
        base = base[activity.to_numpy() > 0].reset_index(drop=True)
    present = set(base[RUN].tolist())
    if len(present) < len(runs):
        return _without_empty(data, runs, wanted, present, by, department, with_changes)
    years = _period_year(base["period"])
    run_of = base[RUN].to_numpy()
    frames = []
    for defn in DOSSIER_INDICATORS:
        available = np.full(len(base), all(avail[k] for k in defn.requires))
        part = _indicator_rows(defn, base, years, available, by)
        part[RUN] = run_of
        frames.append(part)
    if by in ("overall", "field") and department is None:
        frames.extend(_catalogue_parts(data, wanted, by, avail))
    rows = _stacked(frames)
    position = {(i, p.code): k for i, periods in enumerate(wanted) for k, p in enumerate(periods)}
    ind_order = {name: k for k, name in enumerate(INDICATORS)}
    rows["_r"] = rows[RUN]
    rows["_p"] = [position[key] for key in zip(rows[RUN].tolist(), rows["period"].tolist(), strict=True)]
    rows["_g"] = (rows["group"] != GROUP_OVERALL).astype(int)
    rows["_i"] = rows["indicator"].map(ind_order)
    rows = rows.sort_values(["_r", "_p", "_g", "group", "_i"], kind="stable").drop(
        columns=["_r", "_p", "_g", "_i"]).reset_index(drop=True)
    requested = {(i, p.code) for i, run in enumerate(runs) for p in run}
    if with_changes:
        keys = [RUN, "period", "group", "indicator"]
        lookup = rows[[*keys, "value"]]
        for prefix, shift in (("prev", Period.previous), ("yoy", Period.same_last_year)):
            mapping = {p.code: shift(p).code for run in runs for p in run}
            probe = rows[keys].copy()
            probe["period"] = probe["period"].map(mapping)
            rows[f"{prefix}_value"] = probe.merge(lookup, on=keys, how="left")["value"].to_numpy(dtype=float)
        keep = [key in requested for key in zip(rows[RUN].tolist(), rows["period"].tolist(), strict=True)]
        rows = rows[np.array(keep, dtype=bool)].reset_index(drop=True)
    else:
        rows["prev_value"] = np.nan
        rows["yoy_value"] = np.nan
    rows["change_prev"] = rows["value"] - rows["prev_value"]
    rows["change_yoy"] = rows["value"] - rows["yoy_value"]
    run_column = rows[RUN].to_numpy()
    rows = rows[COLUMNS]
    return [rows[run_column == i].reset_index(drop=True) for i in range(len(runs))]


def _without_empty(data: ProcessedData, runs: list[list[Period]], wanted: list[list[Period]],
                   present: set[int], by: str, department: str | None,
                   with_changes: bool) -> list[pd.DataFrame | None]:
    """The runs that have rows assembled together; the others left to the single call."""
    keep = sorted(present)
    assembled = _assemble(data, [runs[i] for i in keep], [wanted[i] for i in keep], by, department,
                          with_changes) if keep else []
    out: list[pd.DataFrame | None] = [None] * len(runs)
    for i, frame in zip(keep, assembled, strict=True):
        out[i] = frame
    return out


def _catalogue_parts(data: ProcessedData, wanted: list[list[Period]], by: str,
                     avail: dict[str, bool]) -> list[dict]:
    """The catalogue indicators' rows of every run. Overall, a period's rows depend on its year
    alone: computed once for all the runs' periods, then laid out run by run as the single call
    lays them out (its periods in order); by field each run's own (the fields listed depend on
    the years asked)."""
    if by != "overall":
        parts_of = [_catalogue_rows(data, periods, by, avail) for periods in wanted]
    else:
        union = list(dict.fromkeys(p for periods in wanted for p in periods))
        shared = _catalogue_rows(data, union, by, avail)
        row_of = {p.code: k for k, p in enumerate(union)}  # one group: one row per period
        parts_of = []
        for periods in wanted:
            index = np.array([row_of[p.code] for p in periods], dtype=np.int64)
            parts_of.append([{name: (value[index] if isinstance(value, np.ndarray) else value)
                              for name, value in part.items()} for part in shared])
    out = []
    for k in range(len(parts_of[0])):
        merged: dict = {}
        for name in parts_of[0][k]:
            values = [parts[k][name] for parts in parts_of]
            if isinstance(values[0], np.ndarray):
                merged[name] = np.concatenate(values)
            else:
                merged[name] = values[0]
        merged[RUN] = np.concatenate([np.full(len(parts[k]["period"]), i, dtype=np.int64)
                                      for i, parts in enumerate(parts_of)])
        out.append(merged)
    return out
