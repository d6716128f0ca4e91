"""A batch's indicator frames computed together, once per batch worker: each report of a year
batch takes its own period's slice.

:func:`cchc_lib.publish.batch.run_batch` tells the kernels which periods the batch renders (the
environment variable :data:`BATCH_ENV`, set by the runner before each report: the notebook and
its parameters, the record of the run, stay as they are). The first report of a worker that
needs the engine's frames — the scorecard (overall), the departments' comparison, the monthly
series of the chart window and the late dossiers per procedure — computes them for every period
of the batch in one assembly (:func:`cchc_lib.indicator_runs.compute_runs`), kept in
:mod:`cchc_lib.datacache` for the worker's later reports.

No report depends on which reports ran before it: each period's frames are, to the last bit,
what the report computes alone (``compute_runs`` gives each run exactly ``compute_many``'s
rows; the late counts are whole numbers, the same summed over any months), they are keyed by
the whole list of the batch's periods (never by what ran first), and handed out as copies.
Outside a batch, or for a period the list does not hold, the report computes its own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cchc_lib.datacache import derived_part
from cchc_lib.index766.many import index_section_frames_many
from cchc_lib.indicator_runs import compute_runs
from cchc_lib.indicators import dossier_measures
from cchc_lib.periods import Period, PeriodError, months_between
from cchc_lib.processed import ProcessedData

BATCH_ENV = "CCHC_BATCH_PERIODS"  # the batch's period codes, comma-separated


def batch_environment(periods: Sequence[Period | str]) -> dict[str, str]:
    """What the runner sets in a batch's kernels so that their reports compute together (empty
    for a batch of one report: nothing to share)."""
    codes = list(dict.fromkeys(p.code if isinstance(p, Period) else Period.parse(str(p)).code
                               for p in periods))
    return {BATCH_ENV: ",".join(codes)} if len(codes) > 1 else {}


def batch_lanes(periods: Sequence[Period | str], workers: int) -> list[int]:
    """Which of ``workers`` worker processes renders each of ``periods``: the periods that end in
    the same month (2023-03, 2023-Q1; 2023-12, 2023-Q4, 2023) share their chart window and their
    year-end outlook, so they go to one worker; the groups are spread so that each worker has
    about as many reports (largest groups first, each to the worker with fewest so far)."""
    parsed = [p if isinstance(p, Period) else Period.parse(str(p)) for p in periods]
    groups: dict[Period, list[int]] = {}
    for i, p in enumerate(parsed):
        groups.setdefault(p.months()[-1], []).append(i)
    lanes = [0] * len(parsed)
    load = [0] * max(1, min(int(workers), len(groups)))
    for members in sorted(groups.values(), key=len, reverse=True):  # stable: request order on ties
        lane = load.index(min(load))
        load[lane] += len(members)
        for i in members:
            lanes[i] = lane
    return lanes


def batch_periods() -> tuple[Period, ...]:
    """The periods of the batch this kernel renders, or () outside a batch (or when the list
    cannot be read: then each report computes its own)."""
    text = os.environ.get(BATCH_ENV, "").strip()
    if not text:
        return ()
    try:
        return tuple(dict.fromkeys(Period.parse(code) for code in text.split(",") if code.strip()))
    except PeriodError:
        return ()


def chart_window(period: Period) -> tuple[Period, Period]:
    """The months the "by month" charts show: the 12 months ending with the period's last month.

    For a month that is the trailing year; for a quarter the year up to the quarter's end (an
    analyst reading Quý I wants the trend that led to it, never months after it); for a year its
    own 12 months."""
    last = period.months()[-1]
    return last.shift(-11), last


def late_measures(measures: pd.DataFrame) -> pd.DataFrame:
    """What :func:`cchc_lib.publish.report.late_procedures` reads of ``compute_indicators(...,
    by="procedure")`` — the late_rate rows' group and numerator — from the engine's measures of
    one period: the late dossiers per procedure."""
    return pd.DataFrame({"indicator": "late_rate", "group": measures["group"].to_numpy(),
                         "numerator": measures["late"].to_numpy(dtype="float64")})


def shared_frames(data: ProcessedData, period: Period, department: str | None) -> dict | None:
    """This period's frames from the batch's shared computation (``indicators``, ``monthly``,
    ``by_department``, ``late``: the late measures), or None outside a batch that lists it."""
    periods = batch_periods()
    if period not in periods:
        return None
    return derived_part(data, ("batch frames", periods, department),
                        lambda: _compute(data, periods, department), period)


def shared_index_frames(data: ProcessedData, period: Period,
                        department: str | None) -> dict[str, pd.DataFrame] | None:
    """This period's national-index frames (the whole department's) from the batch's shared
    computation (:func:`cchc_lib.index766.many.index_section_frames_many`: each period's equal
    to :func:`cchc_lib.index766.counts.index_section_frames` of it alone), or None outside a
    batch that lists it, or for one department's report."""
    periods = batch_periods()
    if department or period not in periods:
        return None
    return derived_part(data, ("batch index frames", periods),
                        lambda: index_section_frames_many(data, periods), period)


def _compute(data: ProcessedData, periods: tuple[Period, ...], department: str | None) -> dict:
    singles = [[p] for p in periods]
    overall = compute_runs(data, singles, "overall", department)
    by_department = compute_runs(data, singles, "department")
    windows = list(dict.fromkeys(chart_window(p) for p in periods))
    monthly = dict(zip(windows, compute_runs(data, [months_between(*w) for w in windows], "overall",
                                             department, with_changes=False), strict=True))
    # One call for every period: the late counts are whole numbers, summed exactly whatever
    # months the call spans. Rows are period by period, every group each time.
    measures = dossier_measures(data, list(periods), "procedure", department)
    size = len(measures) // len(periods)
    rows = np.arange(len(measures))
    return {p: {"indicators": overall[k], "by_department": by_department[k],
                "monthly": monthly[chart_window(p)].copy(),
                "late": late_measures(measures.iloc[rows[k * size:(k + 1) * size]].reset_index(drop=True))}
            for k, p in enumerate(periods)}
