"""``cchc report --as-of`` from the day-level aggregate (issue 16, item 3): every table the as-of
report shows — scorecard, monthly series, by department, late procedures, Biểu 06, the national
index (counts, scores, trend, departments, levers), the other plan targets and the year-end
outlook — equals the one computed from the view of every dossier (``as_of_context_from_dossiers``,
the code before, kept as the fallback), at month ends, mid-month days, the 14th/15th around
the nd09 year boundary, before the first dossier and after the last, under conventions of both
windows, for the whole Sở and one department, on the sample and on random data built to put
dossiers in flight at every date; the report's context then reads no dossier whole; and the
rendered --as-of report is the dossier path's, page for page."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cchc_lib import dossier_source, indicators, projection
from cchc_lib.asof_daily import AsOfMeasures, as_of_data
from cchc_lib.conventions import Conventions
from cchc_lib.index766.counts import counts_from_data
from cchc_lib.periods import Period
from cchc_lib.processed import load_processed
from cchc_lib.publish import index766_section, report
from tests.test_asof_daily import ATS, odd_data, pair
from tests.test_browser import chromium  # noqa: F401  (the fixture)
from tests.test_daily import CONVENTIONS
from tests.test_indicators import dossier, frame, make_data

TABLES = ("indicators", "monthly", "by_department", "late", "form06")


def _context(data, period: Period, department: str | None) -> report.ReportContext:
    """A report's context before --as-of (its tables are recomputed by as_of_context)."""
    empty = pd.DataFrame()
    return report.ReportContext(period, department, data, empty, empty, empty, empty, empty,
                                report.chart_window(period))


def _shown(ctx: report.ReportContext, at: pd.Timestamp, processed_dir=None, index: bool = True) -> dict:
    """Every table the as-of report shows, computed as the notebook does from its context
    (``index``: with the national-index section, the slowest to compute)."""
    out = {name: getattr(ctx, name) for name in TABLES}
    if index:
        frames = index766_section.index_frames(ctx.data, ctx.period, ctx.department)
        out.update({f"index_{name}": value for name, value in frames.items()})
    out["year_end"] = projection.year_end(ctx.data, ctx.period.year, at, ctx.department)
    # The data at an earlier date, from the as-of data (the whole data's, cut there).
    out["year_end_earlier"] = projection.year_end(ctx.data, ctx.period.year,
                                                  at - pd.DateOffset(months=1), ctx.department)
    if processed_dir is not None:
        out["others"] = report.other_plan_targets(ctx.data, ctx.period, processed_dir, at)
    return out


def _equal(ours: dict, theirs: dict, where: str) -> None:
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        pd.testing.assert_frame_equal(ours[name].reset_index(drop=True), value.reset_index(drop=True),
                                      check_exact=False, rtol=1e-9, atol=1e-12, obj=f"{name} {where}")


def rated_later(seed: int):
    """test_asof_daily's odd data, with a third of the completed dossiers rated unsatisfied 1-40
    days after their completion: at many dates a dossier completed and not yet rated."""
    data = odd_data(seed)
    d = data.dossiers
    rng = np.random.default_rng(seed + 200)
    later = d["completed_at"].notna().to_numpy() & (rng.random(len(d)) < 0.33)
    d.loc[later, "rating"] = "unsatisfied"
    d.loc[later, "rated_at"] = d["completed_at"][later] + pd.to_timedelta(
        rng.integers(1, 40, int(later.sum())), unit="D")
    return data


def _quarter_of(at: pd.Timestamp) -> Period:
    return Period("quarter", at.year, (at.month - 1) // 3 + 1)


@pytest.mark.parametrize("conventions", CONVENTIONS[::3] + CONVENTIONS[1::6])
def test_random_data_every_table(conventions):
    """Every date under each conventions; the period (the date's quarter, its year, Quý I/2023
    seen from any date), the department and whether the index section is compared (a second
    a case) take turns, so that every date meets each of them under some conventions."""
    aggregated, dossier_level = pair(rated_later(7), conventions)
    shift = CONVENTIONS.index(conventions)
    for i, at in enumerate(ATS):
        turn = i + shift
        period = (_quarter_of(at), Period("year", at.year), Period.parse("2023-Q1"))[turn % 3]
        department = (None, "Phòng A")[turn % 2]
        ctx = report.as_of_context(_context(aggregated, period, department), at)
        assert isinstance(ctx.data.grid, AsOfMeasures)  # from the aggregate
        reference = report.as_of_context_from_dossiers(_context(dossier_level, period, department), at)
        index = turn % 3 != 1
        _equal(_shown(ctx, at, index=index), _shown(reference, at, index=index),
               f"at {at:%d/%m/%Y}, {period.code}, {department}, {conventions}")


def test_sample_every_table(sample_processed_dir):
    """The sample, as a report loads it (dossiers unread), against the view of its dossiers."""
    cases = (
        (ATS[7], Period.parse("2023-Q1"), None),  # 14/02/2023
        (ATS[8], Period.parse("2023-Q1"), "Phòng Đăng ký kinh doanh"),  # 15/03/2023
        (ATS[9], Period.parse("2023"), None),  # 17/06/2023
        (ATS[4], Period.parse("2023-Q1"), None),  # 14/12/2022: before the period
        (ATS[10], Period.parse("2023-Q4"), None),  # 14/12/2023: nd09's last day of 2023
        (pd.Timestamp("2023-03-31 23:59:59.999999"), Period.parse("2023-Q1"), None),
    )
    for c, conventions in enumerate((Conventions(), Conventions(window="nd09"), CONVENTIONS[3])):
        lazy = load_processed(sample_processed_dir, conventions)
        eager = load_processed(sample_processed_dir, conventions)
        dossier_level = replace(eager, daily=None, daily_of=None)  # every dossier read
        for i, (at, period, department) in enumerate(cases):
            ctx = report.as_of_context(_context(lazy, period, department), at)
            assert isinstance(ctx.data.grid, AsOfMeasures)
            reference = report.as_of_context_from_dossiers(_context(dossier_level, period, department), at)
            index = (i + c) % 2 == 0
            _equal(_shown(ctx, at, sample_processed_dir, index),
                   _shown(reference, at, sample_processed_dir, index),
                   f"at {at:%d/%m/%Y}, {period.code}, {department}, {conventions}")
        assert dossier_source.is_lazy(lazy)


def test_index_satisfaction_at_a_date_by_hand():
    """The national index's "resolved without an unsatisfied rating or a PAKN, not late" at a date:
    a rating given after the date did not exist then. Four dossiers, counted by hand."""
    data = make_data([
        # completed 05/02 on time, rated unsatisfied on 20/02
        dossier(1, "2023-02-01 08:00", "2023-02-10", "2023-02-05 10:00", rating="unsatisfied",
                rated_at="2023-02-20 09:00"),
        # completed 06/02 on time, rated unsatisfied the same day
        dossier(2, "2023-02-01 08:00", "2023-02-10", "2023-02-06 10:00", rating="unsatisfied",
                rated_at="2023-02-06 11:00"),
        # completed 07/02 on time, rated satisfied on 25/02
        dossier(3, "2023-02-01 08:00", "2023-02-10", "2023-02-07 10:00", rating="satisfied",
                rated_at="2023-02-25 09:00"),
        # completed 08/02 on time, a PAKN about it
        dossier(4, "2023-02-01 08:00", "2023-02-10", "2023-02-08 10:00"),
    ])
    data.dossiers["rated_at"] = pd.to_datetime(data.dossiers["rated_at"])
    data.feedback = frame("feedback", [{
        "feedback_id": "f1", "received_at": pd.Timestamp("2023-02-09"), "due_at": pd.Timestamp("2023-02-19"),
        "dossier_id": "HS0004", "source_file": "pakn.csv", "source_row": 2}])
    aggregated, dossier_level = pair(data, Conventions())
    february = Period.parse("2023-02")
    for day, content in (("2023-02-10", 2), ("2023-02-19", 2), ("2023-02-20", 1), ("2023-02-28", 1)):
        at = pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
        ours = counts_from_data(as_of_data(aggregated, at), february).set_index("metric")
        theirs = counts_from_data(projection.as_of_view(dossier_level, at), february).set_index("metric")
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
        row = ours.loc["DOSSIER_RECEIVING_SATISFACTION"]
        assert (row["numerator"], row["denominator"]) == (content, 4), day


def test_index_overdue_at_a_date_by_hand():
    """The index's on-time progress at a date, by hand: a dossier open at the date and due
    after it is not overdue at a later period end; one completed after the date is open then."""
    data = make_data([
        # due 08/02, completed 20/02: at 10/02 open and overdue
        dossier(1, "2023-02-01 08:00", "2023-02-08", "2023-02-20 10:00"),
        # due 15/02, completed 25/02: at 10/02 open, not due yet (nor at the end of February)
        dossier(2, "2023-02-01 09:00", "2023-02-15", "2023-02-25 10:00"),
        # due 06/02, completed 05/02 on time
        dossier(3, "2023-02-01 10:00", "2023-02-06", "2023-02-05 10:00"),
        # withdrawn, due 03/02, completed 12/02: still open (and overdue) at 10/02
        dossier(4, "2023-02-01 10:00", "2023-02-03", "2023-02-12 10:00", status="withdrawn"),
    ])
    at = pd.Timestamp("2023-02-10 23:59:59.999999")
    for conventions in (Conventions(), Conventions(withdrawn="on_time"), Conventions(withdrawn="excluded")):
        aggregated, dossier_level = pair(data, conventions)
        for period, (num, den) in (
            # February (ends after the date): 1 resolved on time, 3 open of which 2 overdue at the
            # date (1 and 4; 2 is due after it); excluded: dossier 4 is not counted
            (Period.parse("2023-02"), (2, 4) if conventions.withdrawn != "excluded" else (2, 3)),
            # January: nothing yet
            (Period.parse("2023-01"), (0, 0)),
        ):
            ours = counts_from_data(as_of_data(aggregated, at), period).set_index("metric")
            theirs = counts_from_data(projection.as_of_view(dossier_level, at), period).set_index("metric")
            pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
            row = ours.loc["PROGRESS_ON_TIME"]
            assert (row["numerator"], row["denominator"]) == (num, den), (conventions, period)


def test_the_as_of_report_reads_no_dossier_whole(sample_processed_dir, watch_dossier_reads):
    """What an --as-of report's kernel does (context, index section, other plan targets, outlook,
    methods) never reads the dossier file whole: a few columns at most (the inputs no export
    recorded, the department for the header, the dossiers PAKN concern)."""
    from cchc_lib import datacache
    from cchc_lib.asof_daily import INPUT_COLUMNS
    from cchc_lib.publish import methods

    read = watch_dossier_reads()
    datacache._loaded.clear()
    for period, as_of, department in (("2023-Q1", "2023-02-15", None), ("2023", "2023-06-17", None),
                                      ("2023-Q1", "2023-02-15", "Phòng Đăng ký kinh doanh")):
        ctx = report.prepare_report(period, sample_processed_dir, department)
        report.header_markdown(ctx)
        ctx = report.as_of_context(ctx, as_of)
        assert isinstance(ctx.data.grid, AsOfMeasures)
        report.summary_markdown(ctx)
        others = report.other_plan_targets(ctx.data, ctx.period, sample_processed_dir, as_of)
        frames = index766_section.index_frames(ctx.data, ctx.period, ctx.department)
        assert len(frames["scores"])
        outlook = projection.year_end(ctx.data, ctx.period.year, as_of, ctx.department)
        assert len(outlook)
        methods.methods_markdown(pd.concat([ctx.indicators, others]), ctx.period,
                                 conventions=ctx.data.conventions)
    allowed = {*INPUT_COLUMNS, "rated_at", "completed_at", "department", "dossier_id",
               "status", "due_at", "received_at"}
    assert all(set(names) <= allowed for names in read), read
    # The dossiers PAKN concern are read by id: never the other dossiers' ids.
    assert all(dossier_source.is_lazy(d) for _, d in datacache._loaded.values())


def test_an_old_aggregate_falls_back_to_the_dossiers(sample_processed_dir, tmp_path):
    """An aggregate written before the as-of columns cannot say: the context is the dossier
    view's, the same numbers."""
    old = _old_aggregate(sample_processed_dir, tmp_path / "old")
    at = ATS[7]
    period = Period.parse("2023-Q1")
    data = load_processed(old)
    assert as_of_data(data, at) is None
    ctx = report.as_of_context(_context(data, period, None), at)
    assert not isinstance(ctx.data.grid, AsOfMeasures)
    new = report.as_of_context(_context(load_processed(sample_processed_dir), period, None), at)
    _equal(_shown(ctx, at), _shown(new, at), "old aggregate")


def _old_aggregate(processed_dir: Path, out: Path) -> Path:
    """A copy of a processed folder whose aggregate lacks the as-of columns."""
    import shutil

    from cchc_lib.daily import ASOF, DAILY_FILE

    shutil.copytree(processed_dir, out)
    daily = pd.read_parquet(out / DAILY_FILE)
    daily.drop(columns=[c for c in ASOF if c in daily.columns]).to_parquet(out / DAILY_FILE)
    return out


def _normalised(html: str, processed: Path) -> str:
    """A rendered report without what differs between two runs: its generation time, the
    kernel's timings and the random ids of its charts."""
    html = html.replace(str(processed), "PROCESSED")
    html = re.sub(r"\d{2}:\d{2}(:\d{2})? \d{2}/\d{2}/\d{4}|\d{2}/\d{2}/\d{4} \d{2}:\d{2}(:\d{2})?",
                  "TIME", html)
    html = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?", "STAMP", html)
    html = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", html)
    html = re.sub(r'id="cell-id=[0-9a-f-]+"', 'id="cell-id=X"', html)  # papermill's parameters cell
    return re.sub(r'"(duration|execution_count)":\s*[0-9.e-]+', r'"\1": X', html)


def test_the_rendered_as_of_report_is_the_dossier_paths(sample_processed_dir, tmp_path, capsys,
                                                        chromium):  # noqa: F811
    """`cchc report --period 2023-Q1 --as-of 2023-02-15` through papermill, from the aggregate and
    from a folder whose aggregate cannot say (the dossier view): the same page, which draws
    every chart offline in Chromium."""
    from cchc_lib.cli import main
    from tests.browser import open_page

    old = _old_aggregate(sample_processed_dir, tmp_path / "old")
    pages, files = [], []
    for processed, out in ((sample_processed_dir, tmp_path / "new-out"), (old, tmp_path / "old-out")):
        code = main(["report", "--period", "2023-Q1", "--as-of", "2023-02-15",
                     "--processed", str(processed), "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        html = out / "2023-Q1" / "bao-cao-2023-Q1-den-2023-02-15.html"
        files.append(html)
        pages.append(_normalised(html.read_text(encoding="utf-8"), processed))
    assert "Số liệu tính đến hết ngày 15/02/2023" in pages[0]
    assert "Biểu 06" in pages[0] and "Hướng tới cuối năm" in pages[0]
    if pages[0] != pages[1]:
        import difflib

        diff = [line for line in difflib.unified_diff(pages[1].splitlines(), pages[0].splitlines(),
                                                      lineterm="", n=0)][:40]
        raise AssertionError("\n".join(diff))
    page = open_page(files[0])
    assert page.charts > 0 and page.drawn == page.charts, f"{page.drawn}/{page.charts} charts drawn"
    assert page.console_errors == [] and page.plotly == "object"
    assert all(url.startswith("file://") for url in page.requests), page.requests
    assert "Số liệu tính đến hết ngày 15/02/2023" in page.text


def test_asof_data_of_as_of_data():
    """The as-of data judged again: at or after its own date it is itself; earlier, the whole
    data's as-of (the view of a view at an earlier instant is the view of the whole data)."""
    aggregated, dossier_level = pair(odd_data(8), Conventions())
    at = ATS[9]
    ours = as_of_data(aggregated, at)
    assert as_of_data(ours, at) is ours and as_of_data(ours, at + pd.Timedelta(days=40)) is ours
    for earlier in (ATS[8], ATS[8] - pd.Timedelta(hours=5)):
        theirs = projection.as_of_view(dossier_level, earlier)
        got = projection.engine_as_of(ours, earlier)
        pd.testing.assert_frame_equal(
            indicators.compute_many(got, [Period.parse("2023-Q1"), Period.parse("2023")], "department"),
            indicators.compute_many(theirs, [Period.parse("2023-Q1"), Period.parse("2023")], "department"),
            check_exact=False, rtol=1e-9)
    assert np.isfinite(ours.grid.day)
