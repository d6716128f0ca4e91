"""Vietnamese number, percentage and date formats for people (95,3%; 1.234 hồ sơ; 31/03/2023)."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any

import pandas as pd
from babel.numbers import format_decimal

LOCALE = "vi_VN"


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """``1234`` -> ``1.234``; ``12.5`` with 1 decimal -> ``12,5``; missing -> ``—``."""
    if value is None or _missing(value):
        return "—"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def fmt_percent(fraction: float | None, decimals: int = 1) -> str:
    """``0.953`` -> ``95,3%``; missing -> ``—``."""
    if fraction is None or _missing(fraction):
        return "—"
    return fmt_number(float(fraction) * 100, decimals) + "%"


def fmt_points(delta: float | None, decimals: int = 1) -> str:
    """A change in percentage points: ``+2,4 điểm %``."""
    if delta is None or _missing(delta):
        return "—"
    value = float(delta) * 100
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{fmt_number(abs(value), decimals)} điểm %"


def fmt_date(value: date | datetime | pd.Timestamp | None) -> str:
    """``31/03/2023``."""
    if value is None or value is pd.NaT or _missing(value):
        return "—"
    return str(pd.Timestamp(value).strftime("%d/%m/%Y"))


def fmt_datetime(value: date | datetime | pd.Timestamp | None) -> str:
    """``31/03/2023 14:05``."""
    if value is None or value is pd.NaT or _missing(value):
        return "—"
    return str(pd.Timestamp(value).strftime("%d/%m/%Y %H:%M"))


def fmt_count(value: float | int | None, unit: str = "hồ sơ") -> str:
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


# -- indicator values, targets and statuses: each rule once, for every report, table and e-mail --

#: How an indicator's unit is written after its value; rates are percentages.
UNIT_WORDS = {"minutes": "phút", "days": "ngày", "count": "hồ sơ"}
#: Unit codes that mean "a fraction shown as a percentage" (the engine says ``rate``; other
#: sources, such as hand-entered figures, may say one of the others).
PERCENT_UNITS = frozenset({"%", "rate", "percent", "ratio", "fraction", "tỷ lệ", "ty_le"})
#: Indicators whose frames may come without a unit (older processed data, the explorer's grid).
_UNIT_OF = {"avg_wait_minutes": "minutes", "avg_processing_days": "days", "pending": "count",
            "pending_overdue": "count", "carried_over": "count"}


def value_unit(unit: object = None, indicator: object = None) -> str:
    """The unit a value is written in: ``rate``, ``minutes``, ``days``, ``count`` or ``number``
    (a known indicator's own unit, else the frame's unit, else what the indicator's id says)."""
    name = "" if indicator is None else str(indicator)
    if name in _UNIT_OF:  # a known indicator's own unit wins over a frame's mislabelled one
        return _UNIT_OF[name]
    text = "" if unit is None or _missing(unit) else str(unit).strip().lower()
    if text in PERCENT_UNITS:
        return "rate"
    if text in UNIT_WORDS:
        return text
    if name.endswith(("_rate", "_share")) or name == "full_online_coverage" or name == "form_field_reduction":
        return "rate"
    return "number"


def format_value(value: object, unit: object = None, indicator: object = None, *,
                 count_word: bool = False) -> str:
    """An indicator's value for people: ``95,3%``, ``12,4 phút``, ``4,0 ngày``, ``1.234`` (``1.234
    hồ sơ`` with ``count_word``, where no column heading says what is counted); missing ``—``."""
    if value is None or _missing(value):
        return "—"
    kind = value_unit(unit, indicator)
    number = float(value)  # type: ignore[arg-type]
    if kind == "rate":
        return fmt_percent(number)
    if kind in ("minutes", "days"):
        return f"{fmt_number(number, 1)} {UNIT_WORDS[kind]}"
    if kind == "count":
        return fmt_count(number) if count_word else fmt_number(number)
    return fmt_number(number, 0 if number.is_integer() else 1)


def format_change(change: object, unit: object = None, indicator: object = None) -> str:
    """A change against an earlier period: percentage points for rates (``+2,4 điểm %``), plain
    signed numbers otherwise (``−1,5 phút``)."""
    if change is None or _missing(change):
        return "—"
    kind = value_unit(unit, indicator)
    if kind == "rate":
        return fmt_points(float(change))  # type: ignore[arg-type]
    value = float(change)  # type: ignore[arg-type]
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    decimals = 0 if kind == "count" else 1
    suffix = f" {UNIT_WORDS[kind]}" if kind in ("minutes", "days") else ""
    return f"{sign}{fmt_number(abs(value), decimals)}{suffix}"


OP_TEXT = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def format_level(level: float, unit: str) -> str:
    """A target level: whole percentages without decimals (``80%``, ``92,5%``), ``25 phút``."""
    if unit == "rate":
        return fmt_percent(level, 0 if float(level * 100).is_integer() else 1)
    if unit == "minutes":
        return f"{fmt_number(level)} phút"
    if unit == "days":
        return f"{fmt_number(level, 1)} ngày"
    if unit == "count":
        return f"{fmt_number(level)} hồ sơ"
    return fmt_number(level)


def level_text(op: str | None, level: float, unit: str) -> str:
    """One target level as a civil servant writes it: ``≥ 80%``, ``100%`` (never ``≥ 100%``:
    nothing is above all), ``trên 22%``, ``≤ 25 phút``, ``0 hồ sơ``."""
    if unit == "rate" and op == ">=" and abs(float(level) - 1.0) <= 1e-9:
        return format_level(1.0, unit)
    if op == "==":
        return format_level(level, unit)
    words = {">": "trên ", "<": "dưới "}
    prefix = words.get(op or "") or (f"{OP_TEXT[op]} " if op in OP_TEXT else "")
    return f"{prefix}{format_level(level, unit)}"


def target_text(row: dict[str, Any] | pd.Series) -> str:
    """The target of an indicator row for people: the engine's ``target_text_vi`` when it has one
    (it names the plan's section), else the level from ``target_op``/``target``; none ``—``."""
    text = row.get("target_text_vi")
    if isinstance(text, str) and text.strip():
        return text.strip()
    target = row.get("target")
    if target is None or _missing(target):
        return "—"
    unit = value_unit(row.get("unit"), row.get("indicator"))
    op = str(row.get("target_op") or "").strip() or None
    return level_text(op, float(target), unit)


def fmt_score(value: object, missing: str = "không có dữ liệu") -> str:
    """An index score or count with up to two decimals: ``17.5`` -> ``17,5``; ``6.0`` -> ``6``."""
    if value is None or _missing(value):
        return missing
    return format_decimal(round(float(value), 2), format="#,##0.##", locale=LOCALE)  # type: ignore[arg-type]


#: How each status looks: a CSS class in the reports (their stylesheet colours it) and the same
#: colours inline in e-mail (mail clients drop style sheets): (text colour, background).
STATUS_CLASS = {
    "Đạt": "st-met",
    "Chưa đạt": "st-missed",
    "Không phát sinh": "st-none",
    "Chưa có dữ liệu": "st-nodata",
}
STATUS_INLINE = {
    "st-met": ("#1b5e20", "#e8f5e9"),
    "st-missed": ("#b71c1c", "#ffebee"),
    "st-none": ("#455a64", "#eceff1"),
    "st-nodata": ("#6d4c41", "#efebe9"),
    "st-plain": ("#212121", "#ffffff"),
}
STATUS_LEGEND = (
    ("Đạt", "đạt chỉ tiêu kế hoạch"),
    ("Chưa đạt", "chưa đạt chỉ tiêu"),
    ("Không phát sinh", "không có hồ sơ để tính"),
    ("Chưa có dữ liệu", "thiếu dữ liệu đầu vào"),
)


def status_class(status: object, default: str = "st-plain") -> str:
    """The CSS class of a status (``Đạt`` -> ``st-met``)."""
    return STATUS_CLASS.get("" if status is None or _missing(status) else str(status), default)


def status_colours(status: object) -> tuple[str, str]:
    """(text, background) colours of a status for inline-styled HTML (e-mail)."""
    return STATUS_INLINE[status_class(status)]


# -- data text inside Markdown (the report notebooks' prose cells) ------------------------------


def md_text(value: object) -> str:
    """Data text for Markdown: HTML-escaped (Markdown passes HTML through) and with Markdown's own
    markup characters neutralised; missing ``—``."""
    text = "—" if value is None or _missing(value) else html.escape(str(value))
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", text)


def yaml_error_place(exc: BaseException) -> str:
    """Where a YAML parser stopped in a hand-edited file, for the message: " (dòng 3, cột 5)";
    empty when the error does not say."""
    mark = getattr(exc, "problem_mark", None)
    return f" (dòng {mark.line + 1}, cột {mark.column + 1})" if mark is not None else ""
