import pandas as pd
import pytest

from cchc_lib.formatting import fmt_count, fmt_date, fmt_percent, fmt_points
from cchc_lib.periods import Period, PeriodError, month_of, periods_between, periods_in_year


def test_parse_kinds_and_bounds():
    q1 = Period.parse("2023-Q1")
    assert (q1.start, q1.end) == (pd.Timestamp("2023-01-01"), pd.Timestamp("2023-04-01"))
    assert q1.label_vi == "Quý I/2023"
    march = Period.parse("2023-03")
    assert march.end == pd.Timestamp("2023-04-01") and march.label_vi == "Tháng 3/2023"
    assert Period.parse("2023").label_vi == "Năm 2023"
    assert [m.code for m in q1.months()] == ["2023-01", "2023-02", "2023-03"]


def test_neighbours_cross_year():
    assert Period.parse("2023-01").previous().code == "2022-12"
    assert Period.parse("2023-Q1").previous().code == "2022-Q4"
    assert Period.parse("2023-Q3").same_last_year().code == "2022-Q3"
    assert Period.parse("2023").previous().code == "2022"


@pytest.mark.parametrize("bad", ["2023-13", "2023-Q5", "23-01", "March 2023", ""])
def test_malformed_period_message_has_example(bad):
    with pytest.raises(PeriodError, match="2023-Q1"):
        Period.parse(bad)


def test_periods_in_year():
    assert len(periods_in_year(2023)) == 17


def test_vietnamese_formats():
    assert fmt_percent(0.953) == "95,3%"
    assert fmt_count(1234) == "1.234 hồ sơ"
    assert fmt_date(pd.Timestamp("2023-03-31 23:30")) == "31/03/2023"
    assert fmt_points(0.024) == "+2,4 điểm %"
    assert fmt_percent(None) == "—"


def test_month_of_and_periods_between():
    assert month_of(pd.Timestamp("2023-03-31 23:30")).code == "2023-03"
    first, last = Period.parse("2022-11"), Period.parse("2023-02")
    assert [p.code for p in periods_between(first, last, "month")] == [
        "2022-11", "2022-12", "2023-01", "2023-02"
    ]
    # November 2022 lies in Q4/2022, February 2023 in Q1/2023.
    assert [p.code for p in periods_between(first, last, "quarter")] == ["2022-Q4", "2023-Q1"]
    assert [p.code for p in periods_between(first, last, "year")] == ["2022", "2023"]
