"""The indicator engine on small hand-built frames; every expected number is worked out by hand
in the comments next to it."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from cchc_lib.indicators import COLUMNS, GROUP_OVERALL, compute_indicators, compute_many, monthly_indicators
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData
from cchc_lib.schema import TABLES, empty_frame

END_OF_DAY = " 23:59:59.999999"
OPTIONAL_FLAGS = ("fee_required", "paid_online", "digitized", "electronic_result", "synced_national",
                  "apology_issued")


def frame(table: str, rows: list[dict], missing: tuple[str, ...] = ()) -> pd.DataFrame:
    """A processed-schema frame (dtypes as schema.empty_frame) from a few dicts.

    Optional yes/no columns default to "no" unless named in ``missing`` (then all <NA>: the
    export had no such column)."""
    template = empty_frame(table)
    df = pd.DataFrame(rows)
    out = {}
    for spec in TABLES[table]:
        if spec.name in df.columns and spec.name not in missing:
            values = df[spec.name]
            if spec.dtype.startswith("datetime"):
                out[spec.name] = pd.to_datetime(values, format="ISO8601").astype(spec.dtype)
            else:
                out[spec.name] = values.astype(spec.dtype)
        elif spec.dtype == "boolean" and spec.name not in missing and table == "dossiers" \
                and spec.name in OPTIONAL_FLAGS:
            out[spec.name] = pd.Series(False, index=df.index, dtype="boolean")
        else:
            out[spec.name] = pd.Series(pd.NA, index=df.index, dtype=spec.dtype)
    result = pd.DataFrame(out)
    assert list(result.columns) == list(template.columns)
    assert list(result.dtypes.astype(str)) == list(template.dtypes.astype(str))
    return result


def dossier(i: int, received: str, due: str, completed: str | None = None, **kw) -> dict:
    row = {
        "dossier_id": f"HS{i:04d}", "procedure_code": "1.1", "procedure_name": "Thủ tục A",
        "field": "Đầu tư", "department": "Phòng A", "channel": "in_person",
        "received_at": received, "due_at": due if " " in due else due + END_OF_DAY,
        "completed_at": completed, "status": "resolved" if completed else "processing",
        "source_file": "hs.csv", "source_row": i + 1,
    }
    row.update(kw)
    return row


def procedure(code: str, year: int, level: str = "partial", **kw) -> dict:
    row = {"procedure_code": code, "procedure_name": f"Thủ tục {code}", "field": "Đầu tư",
           "service_level": level, "year": year, "source_file": "tthc.csv", "source_row": 2}
    row.update(kw)
    return row


def make_data(dossier_rows: list[dict], procedure_rows: list[dict] | None = None,
              missing: tuple[str, ...] = ()) -> ProcessedData:
    procs = procedure_rows or [procedure("1.1", 2023, online_payment=False)]
    return ProcessedData(frame("dossiers", dossier_rows, missing), frame("procedures", procs), None, {})


def row(result: pd.DataFrame, indicator: str, group: str = GROUP_OVERALL, period: str | None = None):
    sel = result[(result["indicator"] == indicator) & (result["group"] == group)]
    if period is not None:
        sel = sel[sel["period"] == period]
    assert len(sel) == 1, (indicator, group, period, len(sel))
    return sel.iloc[0]


P = Period.parse


# -- timeliness, boundaries, refused / withdrawn ---------------------------------------------

@pytest.fixture
def timeliness_data() -> ProcessedData:
    return make_data([
        # due 10/02 without a time (= 23:59:59.999999); completed that evening: on the day
        dossier(1, "2023-02-01 08:00", "2023-02-10", "2023-02-10 20:00", apology_issued=False),
        # ... and the next morning: late, with an apology slip
        dossier(2, "2023-02-01 08:00", "2023-02-10", "2023-02-11 08:00", apology_issued=True),
        # completed on an earlier day than due: early
        dossier(3, "2023-02-01 08:00", "2023-02-10", "2023-02-05 10:00"),
        # refused with a completed_at: resolved like the others (early)
        dossier(4, "2023-02-01 08:00", "2023-02-10", "2023-02-07 09:00", status="refused"),
        # withdrawn after the due day: resolved, late, no apology
        dossier(5, "2023-02-01 08:00", "2023-02-10", "2023-02-12 09:00", status="withdrawn"),
        # received 31/03 23:30 (Q1), completed 01/04 00:10 (Q2), due 03/04: early in Q2
        dossier(6, "2023-03-31 23:30", "2023-04-03", "2023-04-01 00:10", channel="online"),
    ])


def test_timeliness_classes_in_february(timeliness_data):
    r = compute_indicators(timeliness_data, P("2023-02"))
    # resolved in Feb: dossiers 1-5 = 5; early: 3, 4 = 2; on the day: 1; late: 2, 5 = 2
    assert (row(r, "ontime_rate").numerator, row(r, "ontime_rate").denominator) == (3, 5)
    assert row(r, "ontime_rate").value == pytest.approx(0.6)
    assert row(r, "ontime_rate").status == "Chưa đạt"  # target 100%
    assert (row(r, "early_rate").numerator, row(r, "early_rate").value) == (2, pytest.approx(0.4))
    assert (row(r, "late_rate").numerator, row(r, "late_rate").value) == (2, pytest.approx(0.4))
    assert row(r, "late_rate").status == ""  # no numeric target
    # apology: 1 of the 2 late dossiers
    apology = row(r, "apology_rate")
    assert (apology.numerator, apology.denominator, apology.value) == (1, 2, 0.5)
    # mean processing days: 9.5 + 10 + 4.0833 + 6.0417 + 11.0417 = 40.6667 / 5 = 8.1333
    days = row(r, "avg_processing_days")
    assert days.numerator == pytest.approx(9.5 + 10 + 98 / 24 + 145 / 24 + 265 / 24)
    assert days.value == pytest.approx((9.5 + 10 + 98 / 24 + 145 / 24 + 265 / 24) / 5)
    assert days.unit == "days"


def test_period_boundaries(timeliness_data):
    q1 = compute_indicators(timeliness_data, P("2023-Q1"))
    q2 = compute_indicators(timeliness_data, P("2023-Q2"))
    # received 31/03 23:30 counts in Q1: 6 received in Q1, 1 online
    assert (row(q1, "online_share").numerator, row(q1, "online_share").denominator) == (1, 6)
    assert row(q2, "online_share").status == "Không phát sinh"
    # completed 01/04 00:10 counts in Q2 (and is early: due 03/04)
    assert row(q1, "ontime_rate").denominator == 5
    assert (row(q2, "early_rate").numerator, row(q2, "early_rate").denominator) == (1, 1)
    # ...so it is pending at the end of Q1 and carried over into Q2
    assert row(q1, "pending").value == 1
    assert row(q1, "pending_overdue").value == 0  # due 03/04, not before 01/04
    assert row(q2, "carried_over").value == 1
    assert row(q2, "pending").value == 0


def test_zero_denominator_is_no_event(timeliness_data):
    r = compute_indicators(timeliness_data, P("2023-07"))
    ontime = row(r, "ontime_rate")
    assert ontime.status == "Không phát sinh"
    assert (ontime.numerator, ontime.denominator) == (0, 0)
    assert math.isnan(ontime.value)
    assert list(r.columns) == COLUMNS
    # Satisfaction has two levels (95% / 85%): with no ratings in this data, both levels say so.
    # On-time has one level only, so there is no lower-level status to show.
    satisfaction = row(r, "satisfaction_rate")
    assert (satisfaction.status, satisfaction.status_min) == ("Chưa có dữ liệu", "Chưa có dữ liệu")
    assert ontime.status_min == ""


def test_backlog_counts_point_in_time():
    data = make_data([
        # received 15/01, due 20/02, completed 10/04: pending at the ends of Jan, Feb, Mar
        dossier(1, "2023-01-15 09:00", "2023-02-20", "2023-04-10 09:00"),
        # received 20/12/2022, never completed, due 10/01/2023: carried over into 2023
        dossier(2, "2022-12-20 09:00", "2023-01-10"),
        # received and completed in January: never pending at a month end
        dossier(3, "2023-01-03 09:00", "2023-01-20", "2023-01-04 09:00"),
    ])
    jan = compute_indicators(data, P("2023-01"))
    # end of Jan: 1 and 2 pending; 2 is overdue (due 10/01), 1 is not (due 20/02)
    assert (row(jan, "pending").value, row(jan, "pending_overdue").value) == (2, 1)
    assert row(jan, "pending_overdue").status == "Chưa đạt"  # target = 0
    assert row(jan, "carried_over").value == 1  # only 2 was open on 01/01
    feb = compute_indicators(data, P("2023-02"))
    # end of Feb: both pending, both overdue (20/02 < 01/03); carried over: 1 and 2
    assert (row(feb, "pending").value, row(feb, "pending_overdue").value) == (2, 2)
    assert row(feb, "carried_over").value == 2
    q1 = compute_indicators(data, P("2023-Q1"))
    assert (row(q1, "pending").value, row(q1, "pending_overdue").value, row(q1, "carried_over").value) \
        == (2, 2, 1)
    q2 = compute_indicators(data, P("2023-Q2"))
    # 1 completed 10/04: at the end of Q2 only 2 is pending
    assert (row(q2, "pending").value, row(q2, "carried_over").value) == (1, 2)
    assert np.isnan(row(q2, "pending").denominator)
    assert row(q2, "pending").unit == "count"


# -- received-based shares, payment, catalogue year ---------------------------------------------

def test_payment_with_and_without_catalogue_online_payment():
    procs = [
        procedure("1.1", 2023, online_payment=True),
        procedure("1.2", 2023, online_payment=False),
        procedure("1.2", 2022, online_payment=True),  # 1.2 accepted online payment in 2022 only
    ]
    data = make_data([
        dossier(1, "2023-05-02 08:00", "2023-05-20", procedure_code="1.1", fee_required=True,
                paid_online=True, channel="online"),
        dossier(2, "2023-05-03 08:00", "2023-05-20", procedure_code="1.1", fee_required=True),
        dossier(3, "2023-05-04 08:00", "2023-05-20", procedure_code="1.2", fee_required=True),
        dossier(4, "2023-05-05 08:00", "2023-05-20", procedure_code="1.1", channel="online"),
        # received in 2022: the 2022 catalogue decides (accepts), paid online
        dossier(5, "2022-12-05 08:00", "2022-12-20", procedure_code="1.2", fee_required=True,
                paid_online=True),
    ], procs)
    may = compute_indicators(data, P("2023-05"))
    # online: 1, 4 of 4 received = 50%
    assert row(may, "online_share").value == 0.5
    # fee dossiers 1, 2, 3; procedure accepts online payment in 2023: 1, 2 -> 2/3
    enabled = row(may, "payment_enabled_share")
    assert (enabled.numerator, enabled.denominator) == (2, 3)
    assert enabled.status == "Đạt"  # 66.7% >= 60%
    # paid online among those: 1 of 2 = 50% >= 15% (Biểu II.8) and >= 10% (III.2)
    paid = row(may, "online_payment_share")
    assert (paid.numerator, paid.denominator, paid.value) == (1, 2, 0.5)
    # the text's 10% (III.2) decides; the table's 15% (Biểu II.8) is shown beside it
    assert (paid.target, paid.target_min, paid.status, paid.status_min) == (0.10, 0.15, "Đạt", "Đạt")
    assert paid.target_text_vi == ("theo mục III.2: ≥ 10%; theo Biểu II.8: ≥ 15% "
                                   "(Kế hoạch ghi không thống nhất; đánh giá theo mục III.2)")
    dec = compute_indicators(data, P("2022-12"))
    assert (row(dec, "payment_enabled_share").numerator, row(dec, "payment_enabled_share").denominator) \
        == (1, 1)
    assert row(dec, "online_payment_share").value == 1.0
    # no plan file for 2022: no target, status empty
    assert math.isnan(row(dec, "online_payment_share").target)
    assert row(dec, "online_payment_share").status == ""
    assert "2022" in row(dec, "online_payment_share").target_text_vi


def test_missing_optional_input_is_no_data():
    data = make_data(
        [dossier(1, "2023-03-01 08:00", "2023-03-10", "2023-03-11 08:00", wait_minutes=12.0)],
        missing=("apology_issued", "synced_national"),
    )
    r = compute_indicators(data, P("2023-03"))
    for name in ("apology_rate", "synced_share", "satisfaction_rate"):  # rating: all empty
        assert row(r, name).status == "Chưa có dữ liệu", name
        assert math.isnan(row(r, name).value)
    # the other optional inputs are there
    assert row(r, "digitized_share").status == ""  # present, no number in the plan
    assert row(r, "digitized_share").value == 0.0
    assert row(r, "avg_wait_minutes").value == 12.0
    # a catalogue without the integration column: catalogue indicator has no data
    assert row(r, "national_integration_share").status == "Chưa có dữ liệu"


def test_wait_minutes_mean_and_shares():
    data = make_data([
        dossier(1, "2023-03-01 08:00", "2023-03-10", wait_minutes=10.0, synced_national=True,
                digitized=True),
        dossier(2, "2023-03-02 08:00", "2023-03-10", wait_minutes=0.0, synced_national=True),
        dossier(3, "2023-03-03 08:00", "2023-03-10", synced_national=True, digitized=True),
        dossier(4, "2023-03-04 08:00", "2023-03-10", wait_minutes=30.0),
    ])
    r = compute_indicators(data, P("2023-03"))
    # waits 10, 0, 30 recorded (0 is a wait), one missing: 40 / 3 = 13.33 <= 25
    wait = row(r, "avg_wait_minutes")
    assert (wait.numerator, wait.denominator) == (40, 3)
    assert wait.value == pytest.approx(40 / 3)
    assert (wait.status, wait.target_op) == ("Đạt", "<=")
    # synced 3 of 4 received = 75% < 100%; digitized 2 of 4
    assert (row(r, "synced_share").value, row(r, "synced_share").status) == (0.75, "Chưa đạt")
    assert row(r, "digitized_share").value == 0.5


def test_satisfaction_by_rating_date_with_fallback():
    rows = [
        # rated 02/06: June
        dossier(1, "2023-05-20 08:00", "2023-06-05", "2023-05-30 08:00", rating="very_satisfied",
                rated_at="2023-06-02 10:00"),
        # no rated_at: falls back to completed 10/06: June
        dossier(2, "2023-06-01 08:00", "2023-06-15", "2023-06-10 08:00", rating="satisfied"),
        # completed in June but rated 01/07: July
        dossier(3, "2023-06-01 08:00", "2023-06-25", "2023-06-20 08:00", rating="unsatisfied",
                rated_at="2023-07-01 09:00"),
        # not rated: not in the denominator
        dossier(4, "2023-06-01 08:00", "2023-06-25", "2023-06-20 08:00"),
    ]
    # and 9 satisfied + 1 unsatisfied in August: 90% -> below 95% (III.2), above 85% (Biểu II.6)
    rows += [dossier(10 + i, "2023-08-01 08:00", "2023-08-20", "2023-08-02 08:00",
                     rating="satisfied" if i < 9 else "unsatisfied") for i in range(10)]
    data = make_data(rows)
    june = row(compute_indicators(data, P("2023-06")), "satisfaction_rate")
    assert (june.numerator, june.denominator, june.value) == (2, 2, 1.0)
    july = row(compute_indicators(data, P("2023-07")), "satisfaction_rate")
    assert (july.numerator, july.denominator, july.value) == (0, 1, 0.0)
    aug = row(compute_indicators(data, P("2023-08")), "satisfaction_rate")
    assert aug.value == pytest.approx(0.9)
    assert (aug.target, aug.target_min) == (0.95, 0.85)
    assert (aug.status, aug.status_min) == ("Chưa đạt", "Đạt")
    assert aug.target_text_vi == ("theo mục III.2: ≥ 95%; theo Biểu II.6: ≥ 85% "
                                  "(Kế hoạch ghi không thống nhất; đánh giá theo mục III.2)")


# -- changes and rollups ---------------------------------------------------------------------

def test_prev_and_yoy_changes(timeliness_data):
    rows = list(frame_rows(timeliness_data))
    rows.append(dossier(20, "2023-01-03 08:00", "2023-01-20", "2023-01-05 08:00"))  # Jan: 1/1
    rows.append(dossier(21, "2022-02-01 08:00", "2022-02-10", "2022-02-15 08:00"))  # Feb 2022: 0/1
    data = make_data(rows)
    ontime = row(compute_indicators(data, P("2023-02")), "ontime_rate")
    # Feb 2023 = 3/5 = 0.6; Jan 2023 = 1.0; Feb 2022 = 0.0
    assert ontime.prev_value == 1.0
    assert ontime.change_prev == pytest.approx(-0.4)
    assert ontime.yoy_value == 0.0
    assert ontime.change_yoy == pytest.approx(0.6)
    # Q1 2023 vs Q4 2022 (nothing resolved: no value) and Q1 2022 (0/1)
    q1 = row(compute_indicators(data, P("2023-Q1")), "ontime_rate")
    assert math.isnan(q1.prev_value) and math.isnan(q1.change_prev)
    assert q1.value == pytest.approx(4 / 6)
    assert q1.change_yoy == pytest.approx(4 / 6)


def frame_rows(data: ProcessedData) -> list[dict]:
    """Back from a processed frame to builder rows (to extend a fixture)."""
    d = data.dossiers
    out = []
    for rec in d.to_dict("records"):
        clean = {k: (None if v is pd.NA or v is pd.NaT else v) for k, v in rec.items()}
        clean["received_at"] = str(rec["received_at"])
        clean["due_at"] = str(rec["due_at"])
        clean["completed_at"] = None if pd.isna(rec["completed_at"]) else str(rec["completed_at"])
        out.append({k: v for k, v in clean.items() if v is not None})
    return out


@functools.cache
def random_data(n: int = 3000, seed: int = 7) -> ProcessedData:
    rng = np.random.default_rng(seed)
    received = pd.Timestamp("2022-11-01") + pd.to_timedelta(rng.integers(0, 500 * 86400, n), unit="s")
    due = received + pd.to_timedelta(rng.integers(0, 20 * 86400, n), unit="s")
    done = rng.random(n) < 0.85
    completed = (received + pd.to_timedelta(rng.integers(0, 25 * 86400, n), unit="s")).where(done)
    rated = rng.random(n) < 0.5
    d = pd.DataFrame({
        "dossier_id": [f"R{i}" for i in range(n)],
        "procedure_code": rng.choice(["1.1", "1.2", "1.3"], n),
        "procedure_name": "x",
        "field": rng.choice(["Đầu tư", "Doanh nghiệp"], n),
        "department": rng.choice(["Phòng A", "Phòng B", "Phòng C"], n),
        "channel": rng.choice(["online", "in_person", "postal"], n),
        "received_at": received, "due_at": due, "completed_at": completed,
        "status": np.where(done, "resolved", "processing"),
        "fee_required": rng.random(n) < 0.4, "paid_online": rng.random(n) < 0.3,
        "digitized": rng.random(n) < 0.6, "electronic_result": rng.random(n) < 0.5,
        "synced_national": rng.random(n) < 0.9, "apology_issued": rng.random(n) < 0.5,
        "rating": pd.Series(rng.choice(["very_satisfied", "satisfied", "unsatisfied"], n)).where(
            rated & done),
        "wait_minutes": pd.Series(rng.integers(0, 40, n).astype(float)).where(rng.random(n) < 0.7),
        "source_file": "r.csv", "source_row": np.arange(n) + 2,
    })
    procs = [procedure(c, y, online_payment=(c != "1.3")) for c in ("1.1", "1.2", "1.3")
             for y in (2022, 2023, 2024)]
    return ProcessedData(frame("dossiers", d.to_dict("records")), frame("procedures", procs), None, {})


# apology_rate is not additive: its base includes the dossiers pending overdue at the period end.
ADDITIVE = ("ontime_rate", "early_rate", "late_rate", "online_resolved_share", "online_share",
            "payment_enabled_share", "online_payment_share", "satisfaction_rate", "avg_wait_minutes",
            "synced_share", "digitized_share", "electronic_result_share", "avg_processing_days")


@pytest.mark.parametrize("by", ["overall", "department"])
def test_quarter_is_sum_of_its_months(by):
    data = random_data()
    year = P("2023")
    periods = [*year.months(), *(Period("quarter", 2023, q) for q in range(1, 5)), year]
    r = compute_many(data, periods, by=by, with_changes=False)
    for q in [Period("quarter", 2023, i) for i in range(1, 5)] + [year]:
        months = [m.code for m in q.months()]
        for name in ADDITIVE:
            part = r[(r["indicator"] == name) & r["period"].isin(months)]
            whole = r[(r["indicator"] == name) & (r["period"] == q.code)].set_index("group")
            summed = part.groupby("group")[["numerator", "denominator"]].sum()
            assert np.allclose(whole.loc[summed.index, "numerator"], summed["numerator"]), (q, name)
            assert np.allclose(whole.loc[summed.index, "denominator"], summed["denominator"]), (q, name)
        # stocks: pending at the end = the last month's, carried over = the first month's
        for name, month in (("pending", months[-1]), ("carried_over", months[0])):
            a = r[(r["indicator"] == name) & (r["period"] == q.code)].set_index("group")["value"]
            b = r[(r["indicator"] == name) & (r["period"] == month)].set_index("group")["value"]
            assert a.to_dict() == b.reindex(a.index).fillna(0).to_dict()


def brute_force(d: pd.DataFrame, period: Period) -> dict[str, tuple[float, float]]:
    """The definitions written out naively, one mask per rule, to check the month grid."""
    s, e = period.start, period.end
    rec = (d.received_at >= s) & (d.received_at < e)
    res = (d.completed_at >= s) & (d.completed_at < e)
    late = res & (d.completed_at > d.due_at)
    early = res & ~late & (d.completed_at.dt.normalize() < d.due_at.dt.normalize())
    when = d.rated_at.fillna(d.completed_at)
    rated = d.rating.notna() & (when >= s) & (when < e)
    pend = (d.received_at < e) & (d.completed_at.isna() | (d.completed_at >= e))
    return {
        "ontime_rate": ((res & ~late).sum(), res.sum()),
        "early_rate": (early.sum(), res.sum()),
        # Biểu II.5: resolved late in the period + pending overdue at its end
        "apology_rate": (((late | (pend & (d.due_at < e))) & d.apology_issued.fillna(False)).sum(),
                         (late | (pend & (d.due_at < e))).sum()),
        "online_resolved_share": ((res & (d.channel == "online")).sum(), res.sum()),
        "online_share": ((rec & (d.channel == "online")).sum(), rec.sum()),
        "satisfaction_rate": ((rated & d.rating.isin(["very_satisfied", "satisfied"])).sum(), rated.sum()),
        "avg_wait_minutes": (d.wait_minutes[rec].sum(), d.wait_minutes[rec].notna().sum()),
        "pending": (pend.sum(), np.nan),
        "pending_overdue": ((pend & (d.due_at < e)).sum(), np.nan),
        "carried_over": (((d.received_at < s) & (d.completed_at.isna() | (d.completed_at >= s))).sum(),
                         np.nan),
    }


@pytest.mark.parametrize("code", ["2023-01", "2023-06", "2023-Q3", "2023", "2024-02"])
def test_engine_matches_naive_definitions(code):
    data = random_data()
    period = P(code)
    r = compute_indicators(data, period)
    for name, (num, den) in brute_force(data.dossiers, period).items():
        got = row(r, name)
        assert got.numerator == pytest.approx(float(num)), name
        if not np.isnan(den):
            assert got.denominator == den, name


def test_department_filter_and_breakdowns():
    data = make_data([
        dossier(1, "2023-03-01 08:00", "2023-03-10", "2023-03-05 08:00", department="Phòng A"),
        dossier(2, "2023-03-01 08:00", "2023-03-10", "2023-03-15 08:00", department="Phòng B",
                channel="online"),
        dossier(3, "2023-03-02 08:00", "2023-03-10", "2023-03-09 08:00", department="Phòng B",
                channel="postal"),
    ])
    only_b = compute_indicators(data, P("2023-03"), department="Phòng B")
    # B: 2 resolved, 1 late -> 50%; catalogue indicators left out with a department filter
    assert row(only_b, "ontime_rate").value == 0.5
    assert "full_online_coverage" not in set(only_b["indicator"])
    by_dep = compute_indicators(data, P("2023-03"), by="department")
    assert set(by_dep["group"]) == {"Phòng A", "Phòng B"}
    assert row(by_dep, "ontime_rate", "Phòng A").value == 1.0
    assert set(by_dep["group_by"]) == {"department"}
    by_channel = compute_indicators(data, P("2023-03"), by="channel")
    assert set(by_channel["group"]) == {"Trực tiếp", "Trực tuyến", "Bưu chính công ích"}
    assert row(by_channel, "late_rate", "Trực tuyến").value == 1.0
    # a department with nothing in the period is left out of a breakdown
    by_dep_july = compute_indicators(data, P("2023-07"), by="department")
    assert by_dep_july.empty
    assert list(by_dep_july.columns) == COLUMNS


def test_monthly_indicators_every_month(timeliness_data):
    m = monthly_indicators(timeliness_data, P("2023-01"), P("2023-Q2"))
    assert sorted(m["period"].unique()) == [f"2023-{i:02d}" for i in range(1, 7)]
    assert row(m, "ontime_rate", period="2023-02").value == pytest.approx(0.6)
    assert row(m, "early_rate", period="2023-04").value == 1.0
    assert list(m.columns) == COLUMNS


# -- catalogue indicators --------------------------------------------------------------------

def test_catalogue_indicators():
    procs = [
        # 2022: two online services (full, partial), one integrated -> 50%
        procedure("2.1", 2022, "full", national_integrated=True),
        procedure("2.2", 2022, "partial", national_integrated=False),
        procedure("2.3", 2022, "none", national_integrated=False),
        procedure("2.4", 2022, "none", national_integrated=False),
        # 2023
        procedure("2.1", 2023, "full", full_online_eligible=True, national_integrated=True,
                  published_posted=True, published_electronic=True, form_fields_before=20,
                  form_fields_after=15),
        procedure("2.2", 2023, "full", full_online_eligible=True, national_integrated=False,
                  published_posted=True, published_electronic=True, form_fields_before=10,
                  form_fields_after=10),
        procedure("2.3", 2023, "partial", full_online_eligible=False, national_integrated=True,
                  published_posted=True, published_electronic=True, form_fields_before=30,
                  form_fields_after=21, field="Doanh nghiệp"),
        procedure("2.4", 2023, "none", full_online_eligible=True, national_integrated=False,
                  published_posted=True, published_electronic=False, field="Doanh nghiệp"),
        procedure("2.5", 2023, "none", full_online_eligible=False, national_integrated=False,
                  published_posted=False, published_electronic=False, field="Doanh nghiệp"),
    ]
    data = make_data([dossier(1, "2023-03-01 08:00", "2023-03-10")], procs)
    r = compute_indicators(data, P("2023-Q1"))
    # eligible 2.1, 2.2, 2.4; full among them 2.1, 2.2 -> 2/3
    full = row(r, "full_online_coverage")
    assert (full.numerator, full.denominator, full.status) == (2, 3, "Chưa đạt")
    # online services 2.1, 2.2, 2.3 of 5
    assert row(r, "online_service_share").value == pytest.approx(0.6)
    # integrated 2.1, 2.3 of 3 online = 66.7%; target = 2022's 50% + 20 points = 70%
    integ = row(r, "national_integration_share")
    assert (integ.numerator, integ.denominator) == (2, 3)
    assert integ.target == pytest.approx(0.7)
    assert integ.status == "Chưa đạt"
    assert "năm 2022 50%" in integ.target_text_vi and "20 điểm %" in integ.target_text_vi
    # published both ways: 2.1, 2.2, 2.3 of 5
    assert row(r, "published_share").value == pytest.approx(0.6)
    # simplified forms 2.1 (20 -> 15) and 2.3 (30 -> 21): (5 + 9) / (20 + 30) = 28% >= 20%
    form = row(r, "form_field_reduction")
    assert (form.numerator, form.denominator, form.status) == (14, 50, "Đạt")
    # by field: Doanh nghiệp has 2.3, 2.4, 2.5; online 2.3 only; 2022 had no such field
    by_field = compute_indicators(data, P("2023-Q1"), by="field")
    dn = row(by_field, "online_service_share", "Doanh nghiệp")
    assert (dn.numerator, dn.denominator) == (1, 3)
    assert math.isnan(row(by_field, "national_integration_share", "Doanh nghiệp").target)
    inv = row(by_field, "national_integration_share", "Đầu tư")
    assert (inv.numerator, inv.denominator, inv.target) == (1, 2, pytest.approx(0.7))
    # catalogue indicators are not given by department
    assert "published_share" not in set(compute_indicators(data, P("2023-Q1"), by="department")["indicator"])


def test_catalogue_year_without_rows_is_no_data():
    data = make_data([dossier(1, "2024-03-01 08:00", "2024-03-10")],
                     [procedure("1.1", 2023, "full", full_online_eligible=True)])
    r = compute_indicators(data, P("2024-03"))
    assert row(r, "online_service_share").status == "Chưa có dữ liệu"
    # no 2024 plan file: the dossier indicators still compute, without a target
    assert row(r, "online_share").status == ""
    assert row(r, "online_share").target_text_vi == "Chưa có chỉ tiêu kế hoạch năm 2024"
