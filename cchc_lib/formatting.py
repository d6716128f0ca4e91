"""Vietnamese number, percentage and date formats for people (95,3%; 1.234 hồ sơ; 31/03/2023)."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
from babel.numbers import format_decimal

LOCALE = "vi_VN"


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234`` -> ``1.234``; ``12.5`` with 1 decimal -> ``12,5``; missing -> ``—``."""
    if _missing(value):
        return "—"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def fmt_percent(fraction: float | None, decimals: int = 1) -> str:
    """``0.953`` -> ``95,3%``; missing -> ``—``."""
    if _missing(fraction):
        return "—"
    return fmt_number(float(fraction) * 100, decimals) + "%"


def fmt_points(delta: float | None, decimals: int = 1) -> str:
    """A change in percentage points: ``+2,4 điểm %``."""
    if _missing(delta):
        return "—"
    value = float(delta) * 100
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{fmt_number(abs(value), decimals)} điểm %"


def fmt_date(value: date | datetime | pd.Timestamp | None) -> str:
    """``31/03/2023``."""
    if value is None or value is pd.NaT or _missing(value):
        return "—"
    return pd.Timestamp(value).strftime("%d/%m/%Y")


def fmt_datetime(value: date | datetime | pd.Timestamp | None) -> str:
    """``31/03/2023 14:05``."""
    if value is None or value is pd.NaT or _missing(value):
        return "—"
    return pd.Timestamp(value).strftime("%d/%m/%Y %H:%M")


def fmt_count(value: int | None, unit: str = "hồ sơ") -> str:
    """``1234`` -> ``1.234 hồ sơ``."""
    return f"{fmt_number(value)} {unit}".strip()
