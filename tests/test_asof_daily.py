"""The data as it stood at a day's end, from the day-level aggregate (cchc_lib.asof_daily), gives
exactly the numbers of the dossier-level view (projection.as_of_view): every measure, indicator,
year-end projection and year-to-date row, at month ends, mid-month days, the 14th/15th of the
nd09 window, before the first dossier and after the last, for every combination of the counting
conventions and both windows, by every breakdown and department, on the sample and on random
data built to hit each cut (completions, ratings and returns after the date, ratings before a
completion, completions before a receipt, clock-stopped statuses with a completion, withdrawn
dossiers completed after the date, open dossiers due after it)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cchc_lib import projection
from cchc_lib.asof_daily import as_of_data, boundary_day, day_of_end
from cchc_lib.conventions import CLOCK_STOPPED, Conventions
from cchc_lib.daily import build_daily
from cchc_lib.indicators import BY_CHOICES, compute_many, dossier_measures
from cchc_lib.periods import Period
from cchc_lib.processed import load_processed
from tests.test_daily import CONVENTIONS, PERIODS, _same, random_data
from tests.test_indicators import dossier, make_data

ATS = [pd.Timestamp(d) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) for d in (
    "2020-06-30",  # before the first dossier
    "2022-01-31", "2022-06-30", "2022-12-13", "2022-12-14", "2022-12-15", "2022-12-31",
    "2023-02-14", "2023-03-15", "2023-06-17", "2023-12-14", "2024-02-29",
    "2026-01-31",  # after the last
)]


def odd_data(seed: int):
    """test_daily's random data, plus the cases the view cuts differently: clock-stopped statuses
    with a completion, ratings before their completion or with none, ratings on open dossiers."""
    data = random_data(seed)
    d = data.dossiers
    rng = np.random.default_rng(seed + 100)
    n = len(d)
    done = d["completed_at"].notna().to_numpy()
    # Long cases: many dossiers in flight at any date (received before it, completed after).
    slow = done & (rng.random(n) < 0.4)
    d.loc[slow, "completed_at"] = d["completed_at"][slow] + pd.to_timedelta(
        rng.integers(5, 90, int(slow.sum())), unit="D")
    withdrawn = (d["status"] == "withdrawn").to_numpy()
    clock = done & ~withdrawn & (rng.random(n) < 0.25)
    d.loc[clock, "status"] = rng.choice(list(CLOCK_STOPPED), int(clock.sum()))
    early_rating = done & (rng.random(n) < 0.2)  # rated between receipt and completion
    span = (d["completed_at"] - d["received_at"]).abs()
    d.loc[early_rating, "rated_at"] = (d["received_at"] + span * 0.5)[early_rating]
    d.loc[early_rating, "rating"] = "satisfied"
    open_rated = ~done & (rng.random(n) < 0.2)  # a rating on a dossier never completed
    d.loc[open_rated, "rated_at"] = (d["received_at"] + pd.Timedelta(days=3))[open_rated]
    d.loc[open_rated, "rating"] = "unsatisfied"
    d["returned_at"] = d["completed_at"] + pd.Timedelta(days=2)
    # Around every date tested: dossiers received before it and completed after it (or on it),
    # withdrawn or clock-stopped or not, due before or after it, rated before or after it.
    rows = []
    for at in ATS[1:-1]:
        for k in range(16):
            received = at.normalize() - pd.Timedelta(days=int(rng.integers(0, 40)),
                                                     hours=int(rng.integers(1, 12)))
            completed = at.normalize() + pd.Timedelta(days=int(rng.integers(-1, 30)), hours=10)
            due = (at.normalize() + pd.Timedelta(days=int(rng.integers(-20, 20)))).date()
            rated = rng.random() < 0.5
            rows.append(dossier(
                10_000 + len(rows), str(received), str(max(due, received.date())), str(completed),
                status=str(rng.choice(["withdrawn", "suspended", "awaiting_supplement", "resolved",
                                       "refused"])),
                department=str(rng.choice(["Phòng A", "Phòng B", "Phòng C"])),
                procedure_code=str(rng.choice(["1.1", "1.2", "2.1"])),
                channel=rng.choice(["online", "in_person", None]), apology_issued=bool(k % 2),
                fee_required=bool(rng.random() < 0.5), paid_online=bool(rng.random() < 0.5),
                rating=rng.choice(["satisfied", "unsatisfied"]) if rated else None,
                rated_at=(received + (completed - received) * float(rng.random()) * 1.5) if rated else None,
            ))
    extra = make_data(rows).dossiers
    extra["rated_at"] = pd.to_datetime(extra["rated_at"])
    extra["returned_at"] = extra["completed_at"] + pd.Timedelta(days=1)
    data.dossiers = pd.concat([d, extra[d.columns]], ignore_index=True)
    return data


def pair(data, conventions):
    """(from the aggregate, from the dossiers) under ``conventions``."""
    daily = build_daily(data.dossiers, data.procedures, data.feedback)
    dossier_level = replace(data, conventions=conventions, daily=None, daily_of=None, grid=None)
    aggregated = replace(dossier_level, daily=daily, daily_of=dossier_level.dossiers)
    return aggregated, dossier_level


def test_day_of_end_and_boundaries():
    assert day_of_end("2023-03-15 23:59:59.999999") == np.datetime64("2023-03-15", "D").astype(int)
    assert day_of_end("2023-03-15 23:59:59") is None and day_of_end("2023-03-15") is None
    months = np.array([2023 * 12 + 0, 2023 * 12 + 2])  # January and March 2023
    assert boundary_day(months, "calendar").tolist() == [
        np.datetime64(d, "D").astype(int) for d in ("2023-01-01", "2023-03-01")]
    assert boundary_day(months, "nd09").tolist() == [
        np.datetime64(d, "D").astype(int) for d in ("2022-12-15", "2023-02-15")]


def test_by_hand():
    """Four dossiers at the end of 10/02/2023, counted by hand."""
    data = make_data([
        # completed after the date: still open then, due 08/02: overdue at the date
        dossier(1, "2023-02-01 08:00", "2023-02-08", "2023-02-20 10:00"),
        # withdrawn after the date, due 05/02: overdue then even under on_time
        dossier(2, "2023-02-01 09:00", "2023-02-05", "2023-02-15 10:00", status="withdrawn"),
        # suspended, completed after the date: stopped then, never overdue
        dossier(3, "2023-02-01 10:00", "2023-02-03", "2023-02-25 10:00", status="suspended"),
        # received after the date: not there at all
        dossier(4, "2023-02-11 10:00", "2023-02-13", "2023-02-12 10:00"),
    ])
    at = pd.Timestamp("2023-02-10 23:59:59.999999")
    feb = [Period.parse("2023-02"), Period.parse("2023-01")]
    for conventions in (Conventions(), Conventions(withdrawn="on_time")):
        aggregated, _ = pair(data, conventions)
        m = dossier_measures(as_of_data(aggregated, at), feb).set_index("period")
        feb_counts = m.loc["2023-02", ["received", "resolved", "pending", "pending_overdue"]]
        assert feb_counts.tolist() == [3, 0, 3, 2]
        assert m.loc["2023-01", ["received", "pending", "carried_over"]].tolist() == [0, 0, 0]
    # The whole data: all three resolved in February, none pending at its end.
    aggregated, _ = pair(data, Conventions())
    m = dossier_measures(aggregated, feb).set_index("period")
    assert m.loc["2023-02", ["received", "resolved", "pending"]].tolist() == [4, 4, 0]


@pytest.mark.parametrize("seed", [3, 4])
def test_random_data_every_convention(seed):
    data = odd_data(seed)
    for conventions in CONVENTIONS:
        aggregated, dossier_level = pair(data, conventions)
        for at in ATS:
            ours = as_of_data(aggregated, at)
            assert ours is not None
            view = projection.as_of_view(dossier_level, at)
            for department in (None, "Phòng A", "Phòng không có"):
                for by in BY_CHOICES:
                    _same(dossier_measures(ours, PERIODS, by, department),
                          dossier_measures(view, PERIODS, by, department))
            _same(compute_many(ours, PERIODS[4:9], "department"),
                  compute_many(view, PERIODS[4:9], "department"))


@pytest.mark.parametrize("conventions", CONVENTIONS[::3] + CONVENTIONS[1::6])
def test_projection_and_year_to_date(conventions):
    """year_end and indicators_as_of read the aggregate and give the dossier path's numbers."""
    aggregated, dossier_level = pair(odd_data(5), conventions)
    for at in ATS[1:-1]:
        for department in (None, "Phòng B"):
            ours = projection.year_end(aggregated, 2023, at, department)
            theirs = projection.year_end(dossier_level, 2023, at, department)
            pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-9)
        for period in (Period.parse("2023"), Period.parse("2023-Q1")):
            pd.testing.assert_frame_equal(
                projection.indicators_as_of(aggregated, period, at, "department"),
                projection.indicators_as_of(dossier_level, period, at, "department"),
                check_exact=False, rtol=1e-9)


def test_an_instant_inside_a_day_reads_the_dossiers():
    aggregated, dossier_level = pair(odd_data(6), Conventions())
    at = pd.Timestamp("2023-03-15 12:00")
    assert as_of_data(aggregated, at) is None
    assert as_of_data(dossier_level, ATS[8]) is None  # no aggregate
    pd.testing.assert_frame_equal(projection.year_end(aggregated, 2023, at),
                                  projection.year_end(dossier_level, 2023, at))


def test_which_inputs_exist_at_the_date():
    """No ingest report: an input is there when a dossier received by the date holds a value
    then (a rating only once given), as the view finds it."""
    data = make_data([
        dossier(1, "2023-02-01 08:00", "2023-02-08", "2023-02-05 10:00", rating="satisfied",
                rated_at="2023-03-01 09:00"),
    ])
    data.dossiers["rated_at"] = pd.to_datetime(data.dossiers["rated_at"])
    aggregated, dossier_level = pair(data, Conventions())
    for day, rated in (("2023-02-28", False), ("2023-03-01", True)):
        at = pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        ours = compute_many(as_of_data(aggregated, at), [Period.parse("2023")])
        theirs = compute_many(projection.as_of_view(dossier_level, at), [Period.parse("2023")])
        _same(ours, theirs)
        status = ours.set_index("indicator").loc["satisfaction_rate", "status"]
        assert (status != "Chưa có dữ liệu") == rated


def test_sample_every_convention(sample_processed_dir):
    for conventions in CONVENTIONS:
        # Loaded as a report loads it (dossiers unread): a dataclass replace would read them
        # and leave the aggregate behind.
        aggregated = load_processed(sample_processed_dir, conventions)
        assert as_of_data(aggregated, ATS[9]) is not None
        dossier_level = replace(aggregated, daily=None, daily_of=None)
        for at in (ATS[6], ATS[8], ATS[9], ATS[10]):
            ours = as_of_data(aggregated, at)
            view = projection.as_of_view(dossier_level, at)
            for by in ("overall", "department", "procedure"):
                _same(compute_many(ours, PERIODS, by), compute_many(view, PERIODS, by))
            pd.testing.assert_frame_equal(projection.year_end(aggregated, 2023, at),
                                          projection.year_end(dossier_level, 2023, at),
                                          check_exact=False, rtol=1e-9)


def test_the_projection_reads_no_dossier_whole(sample_processed_dir, watch_dossier_reads):
    """The report's year-end projection and the year to date (plan report) read the aggregate:
    the dossier file is never read whole, at most the input columns no export recorded."""
    from cchc_lib import dossier_source
    from cchc_lib.asof_daily import INPUT_COLUMNS

    eager = {}
    data = load_processed(sample_processed_dir)
    at = ATS[9]
    dossier_level = replace(data, daily=None, daily_of=None)  # reads the file whole, here
    eager["year_end"] = projection.year_end(dossier_level, 2023, at)
    eager["ytd"] = projection.indicators_as_of(dossier_level, Period.parse("2023"), at, "department")

    lazy = load_processed(sample_processed_dir)
    read = watch_dossier_reads()
    pd.testing.assert_frame_equal(projection.year_end(lazy, 2023, at), eager["year_end"])
    pd.testing.assert_frame_equal(
        projection.indicators_as_of(lazy, Period.parse("2023"), at, "department"), eager["ytd"])
    assert dossier_source.is_lazy(lazy)
    # The plan report's context (its year to date judged at the tasks' date) and its outlook.
    from cchc_lib.publish.plan_report import prepare_plan_report

    ctx = prepare_plan_report(2023, "2023-06-17", sample_processed_dir)
    assert ctx.as_of == at and len(ctx.indicators)
    assert len(projection.year_end_from(str(sample_processed_dir), 2023, at))
    allowed = {*INPUT_COLUMNS, "rated_at", "completed_at"}
    assert all(set(names) <= allowed for names in read), read


def test_no_dossiers_to_read(sample_processed_dir):
    """The as-of data holds no dossiers: Biểu 06 in either window (the analysis window or
    another, as the report's default conventions ask) equals the view's; anything asking for
    single dossiers fails loudly rather than count an empty table."""
    from cchc_lib.form06 import form06_table

    at, period = ATS[9], Period.parse("2023-Q2")
    for window in ("nd09", "calendar"):
        served = load_processed(sample_processed_dir, Conventions().with_window(window))
        view = projection.as_of_view(replace(served, daily=None, daily_of=None), at)
        ours = as_of_data(served, at)
        for official in ("nd09", "calendar"):
            pd.testing.assert_frame_equal(form06_table(ours, period, window=official),
                                          form06_table(view, period, window=official))
    with pytest.raises(RuntimeError, match="daily.parquet"):
        ours.dossiers  # noqa: B018
