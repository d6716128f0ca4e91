"""Working-day arithmetic, checked against the 2022-2023 calendar by hand."""

import pandas as pd
import pytest

from cchc_lib.workdays import add_working_days, is_working_day, vietnam_holidays

T = pd.Timestamp


@pytest.mark.parametrize(
    ("start", "days", "expected", "why"),
    [
        ("2023-03-06 08:12", 3, "2023-03-09 08:12", "Mon + 3 = Thu (the contract's example row)"),
        ("2023-03-10 10:00", 3, "2023-03-15 10:00", "Fri + 3 skips the weekend: Mon, Tue, Wed"),
        ("2023-03-04 20:00", 3, "2023-03-09 20:00", "a Saturday submission counts from Monday"),
        ("2023-03-01 09:00", 15, "2023-03-22 09:00", "15 days, three weekends"),
        # Tết Quý Mão: 20/01 (Fri) - 26/01 (Thu) off. Thu 19 = 1, Fri 27 = 2, Mon 30 = 3.
        ("2023-01-18 09:00", 3, "2023-01-30 09:00", "across Tết 2023"),
        # Tết Nhâm Dần: 31/01 - 04/02/2022 off, then the weekend.
        ("2022-01-28 14:00", 1, "2022-02-07 14:00", "across Tết 2022"),
        # 29/04 - 03/05/2023 off (Giỗ Tổ, 30/4, 1/5 and two compensatory days).
        ("2023-04-27 10:00", 3, "2023-05-05 10:00", "across 30/4 - 1/5 2023: Fri 28, Thu 4, Fri 5"),
        # 30/4 and 1/5/2022 fell on a weekend: Mon 2 and Tue 3 May off.
        ("2022-04-29 16:00", 1, "2022-05-04 16:00", "across 30/4 - 1/5 2022"),
        # 2/9/2023 fell on Saturday: Fri 1 and Mon 4 September off.
        ("2023-08-31 14:00", 1, "2023-09-05 14:00", "across 2/9 2023"),
        # 2022: Thu 1 and Fri 2 September off.
        ("2022-08-31 08:00", 2, "2022-09-06 08:00", "across 2/9 2022: Mon 5, Tue 6"),
        # Giỗ Tổ 2022 (Sunday 10/4) moved to Monday 11/4.
        ("2022-04-08 09:00", 1, "2022-04-12 09:00", "Giỗ Tổ Hùng Vương 2022"),
        # New Year 2023 (Sunday) moved to Monday 2/1.
        ("2022-12-30 09:00", 1, "2023-01-03 09:00", "across the new year"),
    ],
)
def test_add_working_days_scalar(start, days, expected, why):
    assert add_working_days(T(start), days) == T(expected), why


def test_add_working_days_vectorised_keeps_index_time_and_nat():
    start = pd.Series(
        pd.to_datetime(["2023-01-18 09:00", None, "2023-04-27 10:30", "2023-03-06 00:00"]),
        index=[10, 11, 12, 13],
    )
    got = add_working_days(start, [3, 3, 3, 0])
    assert list(got.index) == [10, 11, 12, 13]
    assert got[10] == T("2023-01-30 09:00")
    assert pd.isna(got[11])
    assert got[12] == T("2023-05-05 10:30")
    assert got[13] == T("2023-03-06")  # a working day plus 0 is itself
    assert str(got.dtype) == "datetime64[ns]"


def test_is_working_day():
    assert is_working_day(T("2023-01-27")) is True  # first day back after Tết
    assert is_working_day(T("2023-01-25")) is False  # Tết
    assert is_working_day(T("2023-09-04")) is False  # compensatory day for 2/9
    assert is_working_day(T("2023-03-11")) is False  # Saturday
    got = is_working_day(pd.Series(pd.to_datetime(["2022-05-03", "2022-05-04"])))
    assert got.tolist() == [False, True]


def test_holiday_list_includes_compensatory_days():
    days = {str(d) for d in vietnam_holidays([2022, 2023])}
    for d in ("2022-01-03", "2022-04-11", "2022-05-02", "2022-05-03", "2023-01-02",
              "2023-01-20", "2023-01-26", "2023-05-02", "2023-05-03", "2023-09-04"):
        assert d in days
