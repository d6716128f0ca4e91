"""Reporting periods: a month (``2023-03``), a quarter (``2023-Q1``) or a year (``2023``).

A period is half-open in local time, ``[start, end)``, so a month includes all of its last day.
Its data window is the calendar one, or ``nd09`` (Nghị định 09/2019/NĐ-CP Điều 12: from the 15th
of the month before to the 14th of the period's last month, e.g. Quý I/2023 = [15/12/2022,
15/03/2023)). The code and labels of a period do not depend on its window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

PeriodKind = Literal["month", "quarter", "year"]

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})$"), "year"),
)


WINDOWS = ("calendar", "nd09")
ND09_DAY = 15  # Nghị định 09/2019/NĐ-CP Điều 12: data close on the 14th, the window opens on the 15th

PERIOD_HINT = "Dùng tháng (2023-03), quý (2023-Q1) hoặc năm (2023)."


class PeriodError(ValueError):
    """A period string that is not a month, a quarter or a year."""


@dataclass(frozen=True, order=True)
class Period:
    kind: PeriodKind
    year: int
    number: int = 1  # month 1-12, quarter 1-4, 1 for a year
    window: str = "calendar"  # "calendar" or "nd09" (the data window, see the module docstring)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``2023-03``, ``2023-Q1`` or ``2023``; raise PeriodError with an example."""
        value = str(text).strip()
        for pattern, kind in _PATTERNS:
            match = pattern.match(value)
            if not match:
                continue
            year = int(match.group(1))
            number = int(match.group(2)) if kind != "year" else 1
            if kind == "month" and not 1 <= number <= 12:
                break
            if not 1900 <= year <= 2200:
                break
            return cls(kind, year, number)  # type: ignore[arg-type]
        raise PeriodError(
            f"Kỳ báo cáo không hợp lệ: '{text}'. {PERIOD_HINT}"
        )

    # -- bounds --------------------------------------------------------------------------
    @property
    def first_month(self) -> int:
        return {"month": self.number, "quarter": 3 * self.number - 2, "year": 1}[self.kind]

    @property
    def n_months(self) -> int:
        return {"month": 1, "quarter": 3, "year": 12}[self.kind]

    @property
    def calendar_start(self) -> pd.Timestamp:
        return pd.Timestamp(year=self.year, month=self.first_month, day=1)

    @property
    def start(self) -> pd.Timestamp:
        """First instant of the period's data window."""
        if self.window == "nd09":
            return self.calendar_start - pd.DateOffset(months=1) + pd.Timedelta(days=ND09_DAY - 1)
        return self.calendar_start

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the data window (exclusive bound)."""
        return self.start + pd.DateOffset(months=self.n_months)

    def with_window(self, window: str) -> Period:
        """The same period under another data window (``calendar`` or ``nd09``)."""
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS}, not {window!r}")
        return self if window == self.window else Period(self.kind, self.year, self.number, window)

    @property
    def last_day(self) -> pd.Timestamp:
        return self.end - pd.Timedelta(days=1)

    def months(self) -> list[Period]:
        """The months that make up this period, in order."""
        return [Period("month", self.year, self.first_month + i, self.window) for i in range(self.n_months)]

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    # -- neighbours ----------------------------------------------------------------------
    def shift(self, steps: int) -> Period:
        """The period ``steps`` periods of the same kind later (negative: earlier)."""
        if self.kind == "year":
            return Period("year", self.year + steps, 1, self.window)
        per_year = 12 if self.kind == "month" else 4
        index = self.year * per_year + (self.number - 1) + steps
        return Period(self.kind, index // per_year, index % per_year + 1, self.window)

    def previous(self) -> Period:
        return self.shift(-1)

    def same_last_year(self) -> Period:
        return Period(self.kind, self.year - 1, self.number, self.window)

    # -- labels --------------------------------------------------------------------------
    @property
    def code(self) -> str:
        """Machine label: ``2023-03``, ``2023-Q1``, ``2023``."""
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return f"{self.year}"

    @property
    def label_vi(self) -> str:
        """Vietnamese label: ``Tháng 3/2023``, ``Quý I/2023``, ``Năm 2023``."""
        if self.kind == "month":
            return f"Tháng {self.number}/{self.year}"
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.number]}/{self.year}"
        return f"Năm {self.year}"

    @property
    def short_label_vi(self) -> str:
        """Compact label for chart axes: ``T3/2023``, ``QI/2023``, ``2023``."""
        if self.kind == "month":
            return f"T{self.number}/{self.year}"
        if self.kind == "quarter":
            return f"Q{_ROMAN[self.number]}/{self.year}"
        return str(self.year)

    @property
    def label_window_vi(self) -> str:
        """The label with its data window when that is not the calendar one:
        ``Quý I/2023 (số liệu từ 15/12/2022 đến 14/03/2023)``."""
        if self.window == "calendar":
            return self.label_vi
        first, last = self.start.strftime("%d/%m/%Y"), self.last_day.strftime("%d/%m/%Y")
        return f"{self.label_vi} (số liệu từ {first} đến {last})"

    def __str__(self) -> str:
        return self.code


def month_of(instant: object) -> Period:
    """The month holding a timestamp (``2023-03-31 23:30`` -> ``2023-03``)."""
    ts = pd.Timestamp(instant)
    return Period("month", ts.year, ts.month)


def periods_between(first: Period, last: Period, kind: PeriodKind) -> list[Period]:
    """Every period of ``kind`` that overlaps ``[first.start, last.end)``, in order."""
    start = {"month": Period("month", first.year, first.first_month, first.window),
             "quarter": Period("quarter", first.year, (first.first_month - 1) // 3 + 1, first.window),
             "year": Period("year", first.year, 1, first.window)}[kind]
    out = [start]
    while out[-1].end < last.end:
        out.append(out[-1].shift(1))
    return out


def months_between(start: Period, end: Period) -> list[Period]:
    """Every month from the first of ``start`` to the last of ``end`` inclusive, in order (the
    months of the engine's monthly series)."""
    first, last = start.months()[0], end.months()[-1]
    months = []
    current = first
    while current <= last:
        months.append(current)
        current = current.shift(1)
    return months


def periods_in_year(year: int) -> list[Period]:
    """The 12 months, 4 quarters and the year itself."""
    months = [Period("month", year, m) for m in range(1, 13)]
    quarters = [Period("quarter", year, q) for q in range(1, 5)]
    return [*months, *quarters, Period("year", year)]
