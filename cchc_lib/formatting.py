"""Vietnamese number, percentage and date formats for people (95,3%; 1.234 hồ sơ; 31/03/2023)."""

from __future__ import annotations

import math
import unicodedata
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


def _text_width(text: str) -> int:
    """Columns a text takes on a terminal: combining marks (decomposed tones) take none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def render_table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain-text table for the terminal, columns padded to their widest cell."""
    widths = [max(_text_width(h), *(_text_width(r[i]) for r in rows)) if rows else _text_width(h)
              for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - _text_width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])
