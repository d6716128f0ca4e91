"""Plausible bounds of every number read from a raw export.

A value beyond them is a typo or garbage (a waiting time of ``1e308`` minutes made a month's
average 7.4e305), so the row is rejected with a reason instead of skewing an indicator. The
bounds are generous: they exist to stop nonsense, not to judge the department's work.
"""

from __future__ import annotations

from cchc_lib import schema

# column -> (lowest, highest) accepted, inclusive.
BOUNDS: dict[str, tuple[float, float]] = {
    # Minutes waited at the counter: more than a whole day is not a wait but a typo.
    "wait_minutes": (0, 24 * 60),
    # Statutory time in working days: the longest procedures take a few months.
    "statutory_days": (0, 365),
    # Fields of an application form (tờ khai): real forms have tens, never thousands.
    "form_fields_before": (0, 1000),
    "form_fields_after": (0, 1000),
    # The same window as dates (validation.MIN_DATE .. MAX_DATE).
    "year": (1950, 2099),
    # Task numbers within an area of the plan.
    "task_no": (1, 1000),
    # Manual figures (the targets no system exports): counts of documents, staff, dossiers ...
    # of one department in a year; a province has tens of thousands, never tens of millions.
    "numerator": (0, 10_000_000),
    "denominator": (0, 10_000_000),
}
# A numeric column added later without a bound of its own still gets one.
DEFAULT_BOUNDS: tuple[float, float] = (-1e9, 1e9)


def bounds(spec: schema.ColumnSpec) -> tuple[float, float]:
    """(lowest, highest) for a numeric column; the schema's min_value, if any, is kept."""
    low, high = BOUNDS.get(spec.name, DEFAULT_BOUNDS)
    if spec.min_value is not None:
        low = max(low, spec.min_value)
    return low, high
