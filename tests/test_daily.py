"""The day-level aggregate (cchc_lib.daily) gives exactly the numbers of the dossier-level engine:
every measure, indicator and Biểu 06 cell for every period kind, breakdown, department filter,
both data windows and every combination of the counting conventions, on the sample and on
random data built to hit every convention-dependent case (withdrawn with and without a
completion, completions on the due date after the due time, clock-stopped statuses, receipts on
15-31 December under a catalogue that changes with the year, missing channels and dates)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cchc_lib.conventions import Conventions
from cchc_lib.daily import NO_DAY, build_daily, month_of_days
from cchc_lib.form06 import form06_table
from cchc_lib.index766.counts import counts_from_data
from cchc_lib.indicators import BY_CHOICES, compute_many, dossier_measures
from cchc_lib.measure_grid import with_grid
from cchc_lib.periods import Period
from cchc_lib.processed import load_processed
from cchc_lib.schema import STATUSES
from tests.test_indicators import dossier, frame, make_data, procedure

CONVENTIONS = [Conventions(timeliness=t, withdrawn=w, window=win, official_window=win)
               for t, w, win in itertools.product(("instant", "day"), ("by_dates", "on_time", "excluded"),
                                                  ("calendar", "nd09"))]
PERIODS = [Period.parse(p) for p in ("2021-12", "2022-01", "2022-Q4", "2022-12", "2023-01", "2023-02",
                                     "2023-Q1", "2023-Q2", "2023", "2023-12",
                                     "2024-01", "2022")]


def _with_daily(data, conventions):
    """The same data counted under ``conventions``: (from the aggregate, from the dossiers)."""
    daily = build_daily(data.dossiers, data.procedures, data.feedback)
    dossier_level = replace(data, conventions=conventions, daily=None, daily_of=None, grid=None)
    aggregated = replace(dossier_level, daily=daily, daily_of=dossier_level.dossiers)
    return aggregated, dossier_level


def _same(ours: pd.DataFrame, engine: pd.DataFrame) -> None:
    assert ours[["period", "group"]].values.tolist() == engine[["period", "group"]].values.tolist()
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), engine.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9, atol=1e-9, check_dtype=False)


def random_data(seed: int, n: int = 600):
    """Dossiers of every status, around year ends, due dates hit on the day after the due time."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-11-20")
    rows = []
    for i in range(n):
        received = start + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 800)))
        if rng.random() < 0.15:  # pile up on 14-16 December and 14-15 of a month
            received = received.replace(month=12, day=int(rng.integers(13, 17)))
        due = received.normalize() + pd.Timedelta(days=int(rng.integers(0, 20)))
        hour = int(rng.integers(8, 17))
        due_text = str(due.date()) if rng.random() < 0.5 else f"{due.date()} {hour:02d}:00"
        status = str(rng.choice(STATUSES))
        completed = None
        if status in ("resolved", "returned", "refused", "withdrawn") and rng.random() < 0.85:
            kind = rng.integers(0, 4)
            if kind == 0:  # on the due date, after the due time when it has one
                at = due.normalize() + pd.Timedelta(hours=int(rng.integers(12, 23)))
            elif kind == 1:
                at = received + pd.Timedelta(hours=int(rng.integers(1, 24 * 30)))
            elif kind == 2:  # before it was received (odd data)
                at = received - pd.Timedelta(hours=int(rng.integers(1, 48)))
            else:
                at = due.normalize() + pd.Timedelta(days=int(rng.integers(-5, 5)), hours=10)
            completed = str(at)
        rated = rng.random() < 0.4 and completed is not None
        row = dossier(
            i, str(received), due_text, completed, status=status,
            department=str(rng.choice(["Phòng A", "Phòng B", "Phòng C"])),
            procedure_code=str(rng.choice(["1.1", "1.2", "2.1"])),
            field=str(rng.choice(["Đầu tư", "Doanh nghiệp"])),
            channel=rng.choice(["online", "in_person", "postal", None]),
            fee_required=bool(rng.random() < 0.5), paid_online=bool(rng.random() < 0.5),
            apology_issued=bool(rng.random() < 0.3), digitized=bool(rng.random() < 0.5),
            synced_national=bool(rng.random() < 0.5), electronic_result=bool(rng.random() < 0.5),
            rating=rng.choice(["very_satisfied", "satisfied", "unsatisfied"]) if rated else None,
            rated_at=(completed if rated and rng.random() < 0.5 else None),
            wait_minutes=float(rng.integers(1, 60)) if rng.random() < 0.5 else None,
        )
        rows.append(row)
    # The catalogue accepts online payment for 1.1 in 2023 only, 1.2 in 2022 only: a December
    # receipt after the 14th falls in the next year's catalogue under nd09.
    procs = [procedure("1.1", 2022, online_payment=False), procedure("1.1", 2023, online_payment=True),
             procedure("1.2", 2022, online_payment=True), procedure("1.2", 2023, online_payment=False),
             procedure("2.1", 2022, online_payment=True), procedure("2.1", 2023, online_payment=True),
             procedure("2.1", 2024, online_payment=True)]
    data = make_data(rows, procs)
    data.dossiers["rated_at"] = pd.to_datetime(data.dossiers["rated_at"])
    for column in ("reused_digitized_data", "citizen_data_connected", "from_national_storage"):
        data.dossiers[column] = pd.array(rng.random(n) < 0.5, dtype="boolean")
    # PAKN about some dossiers (a complained-about dossier fails the satisfaction metric).
    data.feedback = frame("feedback", [
        {"feedback_id": f"f{i}", "received_at": pd.Timestamp("2023-01-10"),
         "due_at": pd.Timestamp("2023-01-20"), "dossier_id": f"HS{i:04d}",
         "source_file": "pakn.csv", "source_row": i + 2}
        for i in range(0, n, 7)])
    return data


def _same_counts(aggregated, dossier_level, periods) -> None:
    for period in periods:
        for by in ("overall", "department"):
            ours = counts_from_data(aggregated, period, by)
            theirs = counts_from_data(dossier_level, period, by)
            pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)


def test_month_of_days_both_windows():
    days = (np.array(["2022-12-14", "2022-12-15", "2023-01-31", "2023-02-01"], dtype="datetime64[D]")
            .astype(np.int64))
    assert month_of_days(days, "calendar").tolist() == [2022 * 12 + 11, 2022 * 12 + 11,
                                                         2023 * 12 + 0, 2023 * 12 + 1]
    assert month_of_days(days, "nd09").tolist() == [2022 * 12 + 11, 2023 * 12 + 0,
                                                     2023 * 12 + 1, 2023 * 12 + 1]
    assert month_of_days(np.array([NO_DAY]), "nd09").tolist() == [0]


def test_aggregate_by_hand():
    """Three dossiers; the aggregate's rows and their convention-dependent kinds, by hand."""
    data = make_data([
        # due 10/02 16:00, done 10/02 20:00: late by the instant, on the day by the date (t = 4)
        dossier(1, "2023-02-01 08:00", "2023-02-10 16:00", "2023-02-10 20:00"),
        # withdrawn on 05/02, due 03/02: late under by_dates, on the day under on_time (w = 2)
        dossier(2, "2023-02-01 09:00", "2023-02-03", "2023-02-05 10:00", status="withdrawn"),
        # never received: not in the aggregate at all
        dossier(3, "2023-02-01 10:00", "2023-02-03", None, status="not_received"),
    ])
    daily = build_daily(data.dossiers, data.procedures)
    day = {s: int(np.datetime64(s, "D").astype(np.int64)) for s in
           ("2023-02-01", "2023-02-03", "2023-02-05", "2023-02-10")}
    got = {(r.day, r.lag, r.kind): (r.received, r.resolved, r.out, r.due_in, r.due_out, r.inflight_due)
           for r in daily.itertuples()}
    assert got == {
        (day["2023-02-01"], 0, 0): (1, 0, 0, 0, 0, 0),    # dossier 1 received
        (day["2023-02-01"], 0, 10): (1, 0, 0, 0, 0, 0),   # dossier 2 received (w = 2)
        (day["2023-02-03"], 0, 10): (0, 0, 0, 1, 0, 0),   # dossier 2 due
        # ... and, until its completion two days later, an open withdrawn dossier past its due date
        (day["2023-02-03"], 2, 10): (0, 0, 0, 0, 0, 1),
        (day["2023-02-05"], 0, 13): (0, 1, 0, 0, 0, 0),   # dossier 2 done late (t = 3) ...
        (day["2023-02-05"], 0, 10): (0, 0, 1, 0, 1, 0),   # ... leaves the backlogs (t: completions only)
        (day["2023-02-10"], 0, 4): (0, 1, 0, 0, 0, 0),    # dossier 1 done (t = 4) ...
        (day["2023-02-10"], 0, 0): (0, 0, 1, 1, 1, 0),    # ... due and leaving the backlogs that day
    }
    feb = [Period.parse("2023-02")]

    def counts(**conv):
        a, _ = _with_daily(data, Conventions(**conv))
        m = dossier_measures(a, feb)
        return m[["received", "resolved", "early", "on_day", "late"]].iloc[0].tolist()

    assert counts() == [2, 2, 0, 0, 2]
    assert counts(timeliness="day") == [2, 2, 0, 1, 1]
    assert counts(withdrawn="on_time") == [2, 2, 0, 1, 1]
    assert counts(timeliness="day", withdrawn="on_time") == [2, 2, 0, 2, 0]
    assert counts(withdrawn="excluded") == [1, 1, 0, 0, 1]


@pytest.mark.parametrize("seed", [1, 2])
def test_random_data_every_convention(seed):
    data = random_data(seed)
    departments = ["Phòng A", "Phòng C", "Phòng không có"]
    for conventions in CONVENTIONS:
        aggregated, dossier_level = _with_daily(data, conventions)
        for department in (None, *departments):
            for by in BY_CHOICES:
                _same(dossier_measures(aggregated, PERIODS, by, department),
                      dossier_measures(dossier_level, PERIODS, by, department))
        _same(compute_many(aggregated, PERIODS[4:8], "department"),
              compute_many(dossier_level, PERIODS[4:8], "department"))
        # The explorer's month grid built from the aggregate: the same numbers again.
        _same(dossier_measures(with_grid(aggregated), PERIODS, "procedure", "Phòng A"),
              dossier_measures(dossier_level, PERIODS, "procedure", "Phòng A"))
        for period in (Period.parse("2023-01"), Period.parse("2022-Q4")):
            pd.testing.assert_frame_equal(form06_table(aggregated, period),
                                          form06_table(dossier_level, period))
        _same_counts(aggregated, dossier_level, PERIODS)


def test_sample_every_convention(sample_processed, sample_processed_dir):
    assert sample_processed.aggregate() is not None, "ingest writes daily.parquet"
    for conventions in CONVENTIONS:
        # Loaded under the conventions (a dataclass replace would read the dossiers and leave
        # the aggregate behind: both sides would then count dossiers).
        aggregated = load_processed(sample_processed_dir, conventions)
        assert aggregated.aggregate() is not None
        dossier_level = replace(aggregated, daily=None, daily_of=None)
        for by in BY_CHOICES:
            _same(compute_many(aggregated, PERIODS, by), compute_many(dossier_level, PERIODS, by))
        department = sorted(sample_processed.dossiers["department"].dropna().unique())[0]
        _same(compute_many(aggregated, PERIODS, "procedure", department),
              compute_many(dossier_level, PERIODS, "procedure", department))
        for period in PERIODS[3:7]:
            pd.testing.assert_frame_equal(form06_table(aggregated, period),
                                          form06_table(dossier_level, period))
        _same_counts(aggregated, dossier_level, PERIODS[3:9])


def test_a_view_with_other_dossiers_is_computed_from_them(sample_processed):
    """The aggregate belongs to the dossiers it was built from: a view with other dossiers (the
    as-of view of projection, a filter) never reads it."""
    aggregated, _ = _with_daily(sample_processed, Conventions())
    view = replace(aggregated, dossiers=aggregated.dossiers.iloc[:100])
    assert aggregated.aggregate() is not None and view.aggregate() is None
    received = dossier_measures(view, [Period.parse("2023")])["received"].iloc[0]
    d = view.dossiers
    assert received == ((d["status"] != "not_received") & (d["received_at"].dt.year == 2023)).sum()
