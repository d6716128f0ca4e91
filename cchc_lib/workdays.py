"""Working-day arithmetic for Vietnamese state agencies.

Statutory processing times of administrative procedures are counted in working days: Monday to
Friday, skipping public holidays (Tết Nguyên đán included) and the compensatory days off the
Government announces when a holiday falls on a weekend. The holiday list comes from the
``holidays`` package; the official days off of 2022-2023 are also listed here so that the
calendar does not depend on the package version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

# Official days off for civil servants 2022-2023 (announcements of the Ministry of Labour,
# Invalids and Social Affairs), compensatory days included.
OFFICIAL_DAYS_OFF: tuple[str, ...] = (
    # 2022
    "2022-01-01", "2022-01-03",  # Tết Dương lịch (1/1 fell on a Saturday)
    "2022-01-31", "2022-02-01", "2022-02-02", "2022-02-03", "2022-02-04",  # Tết Nhâm Dần
    "2022-04-11",  # Giỗ Tổ Hùng Vương (10/3 âm lịch = Sunday 10/4) moved to Monday
    "2022-04-30", "2022-05-01", "2022-05-02", "2022-05-03",  # 30/4 and 1/5 fell on a weekend
    "2022-09-01", "2022-09-02",  # Quốc khánh
    # 2023
    "2023-01-01", "2023-01-02",  # Tết Dương lịch (1/1 fell on a Sunday)
    "2023-01-20", "2023-01-21", "2023-01-22", "2023-01-23", "2023-01-24", "2023-01-25",
    "2023-01-26",  # Tết Quý Mão
    "2023-04-29", "2023-04-30", "2023-05-01", "2023-05-02", "2023-05-03",  # Giỗ Tổ, 30/4, 1/5
    "2023-09-01", "2023-09-02", "2023-09-04",  # Quốc khánh (2/9 fell on a Saturday)
)


@lru_cache(maxsize=16)
def _holiday_array(years: tuple[int, ...]) -> np.ndarray:
    days = {np.datetime64(d, "D") for d in holidays.Vietnam(years=list(years))}
    days |= {np.datetime64(d, "D") for d in OFFICIAL_DAYS_OFF if int(d[:4]) in years}
    return np.array(sorted(days), dtype="datetime64[D]")


def vietnam_holidays(years: Iterable[int]) -> np.ndarray:
    """Sorted public holidays and official days off of the given years (datetime64[D])."""
    return _holiday_array(tuple(sorted(set(int(y) for y in years))))


def _calendar(years: Iterable[int]) -> np.busdaycalendar:
    return np.busdaycalendar(weekmask="1111100", holidays=vietnam_holidays(years))


def is_working_day(dates: pd.Series | pd.Timestamp | dt.date) -> pd.Series | bool:
    """True for Monday-Friday days that are not public holidays or official days off."""
    if isinstance(dates, pd.Series):
        days = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        years = _years(days)
        return pd.Series(np.is_busday(days, busdaycal=_calendar(years)), index=dates.index)
    day = np.datetime64(pd.Timestamp(dates).date(), "D")
    return bool(np.is_busday(day, busdaycal=_calendar(_years(np.array([day])))))


def _years(days: np.ndarray) -> range:
    valid = days[~np.isnat(days)]
    if len(valid) == 0:
        return range(2022, 2024)
    lo = int(valid.min().astype("datetime64[Y]").astype(int)) + 1970
    hi = int(valid.max().astype("datetime64[Y]").astype(int)) + 1970
    # One spare year: a due date late in December can run into January.
    return range(lo, hi + 2)


def add_working_days(
    start: pd.Series | pd.Timestamp, days: int | np.ndarray | pd.Series
) -> pd.Series | pd.Timestamp:
    """``start`` plus ``days`` working days, keeping the time of day.

    A start on a weekend or holiday counts from the next working day (a dossier received online
    on Saturday is dealt with from Monday), so Saturday + 3 = Thursday, as is Monday + 3.
    Vectorised over a Series of timestamps and an int or array of day counts.
    """
    scalar = not isinstance(start, pd.Series)
    series = pd.Series([start]) if scalar else start
    stamps = series.to_numpy(dtype="datetime64[ns]")
    day = stamps.astype("datetime64[D]")
    time_of_day = stamps - day.astype("datetime64[ns]")
    offsets = np.asarray(days, dtype=np.int64)
    if offsets.ndim:
        offsets = np.broadcast_to(offsets, day.shape)
    nat = np.isnat(day)
    safe_day = np.where(nat, np.datetime64("2000-01-03", "D"), day)
    cal = _calendar(_years(day))
    due = np.busday_offset(safe_day, offsets, roll="forward", busdaycal=cal)
    out = due.astype("datetime64[ns]") + time_of_day
    out = np.where(nat, np.datetime64("NaT", "ns"), out)
    if scalar:
        return pd.Timestamp(out[0])
    return pd.Series(out, index=series.index, dtype="datetime64[ns]")
