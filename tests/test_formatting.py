"""The display rules, each written once in cchc_lib.formatting and used by the reports, the
index page, the e-mail, the explorer and the terminal; values worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_lib import formatting as fmt


@pytest.mark.parametrize(
    ("value", "unit", "indicator", "expected"),
    [
        (0.953, "rate", "ontime_rate", "95,3%"),
        (0.1, None, "online_payment_share", "10,0%"),  # no unit: the id says rate
        (12.34, "minutes", "avg_wait_minutes", "12,3 phút"),
        (18.0, "minutes", None, "18,0 phút"),
        (3.96, "days", None, "4,0 ngày"),
        (1234, "count", "pending", "1.234"),
        (1234, "rate", "pending", "1.234"),  # a known indicator's own unit wins over a wrong one
        (2.5, None, "something_else", "2,5"),
        (7.0, None, "something_else", "7"),
        (float("nan"), "rate", "satisfaction_rate", "—"),
        (None, "rate", None, "—"),
        (pd.NA, "count", None, "—"),
    ],
)
def test_format_value(value, unit, indicator, expected):
    assert fmt.format_value(value, unit, indicator) == expected


def test_a_count_can_say_what_it_counts():
    assert fmt.format_value(5, "count", "pending_overdue", count_word=True) == "5 hồ sơ"


@pytest.mark.parametrize(
    ("change", "unit", "expected"),
    [(0.059, "rate", "+5,9 điểm %"), (-1.0, "minutes", "−1,0 phút"), (0, "count", "±0"),
     (None, "rate", "—")],
)
def test_format_change(change, unit, expected):
    assert fmt.format_change(change, unit) == expected


@pytest.mark.parametrize(
    ("op", "level", "unit", "expected"),
    [(">=", 0.8, "rate", "≥ 80%"), (">=", 1.0, "rate", "100%"), (">=", 0.925, "rate", "≥ 92,5%"),
     (">", 0.22, "rate", "trên 22%"), ("<=", 25, "minutes", "≤ 25 phút"), ("==", 0, "count", "0 hồ sơ")],
)
def test_level_text(op, level, unit, expected):
    assert fmt.level_text(op, level, unit) == expected


def test_target_text_prefers_the_engines_text_then_the_level():
    assert fmt.target_text({"target_text_vi": " ≥ 70% (III.2) ", "target": 0.7}) == "≥ 70% (III.2)"
    assert fmt.target_text({"target_text_vi": None, "target": 1.0, "target_op": ">=", "unit": "rate",
                            "indicator": "ontime_rate"}) == "100%"
    assert fmt.target_text(pd.Series({"target_text_vi": "", "target": 20.0, "target_op": "<=",
                                      "unit": "minutes", "indicator": "avg_wait_minutes"})) == "≤ 20 phút"
    assert fmt.target_text({"target": float("nan")}) == "—"


def test_scores_and_statuses():
    assert fmt.fmt_score(17.5) == "17,5" and fmt.fmt_score(6.0) == "6" and fmt.fmt_score(4.25) == "4,25"
    assert fmt.fmt_score(None) == "không có dữ liệu" and fmt.fmt_score(None, "") == ""
    statuses = ("Đạt", "Chưa đạt", "Không phát sinh", "Chưa có dữ liệu", "", None)
    assert [fmt.status_class(s) for s in statuses] == ["st-met", "st-missed", "st-none", "st-nodata",
                                                        "st-plain", "st-plain"]
    assert fmt.status_colours("Đạt") == ("#1b5e20", "#e8f5e9")  # the e-mail's inline colours
    assert fmt.status_colours("lạ") == ("#212121", "#ffffff")


def test_md_text_neutralises_markup():
    assert fmt.md_text("<b>x</b> *y* [z]_#|") == "&lt;b&gt;x&lt;/b&gt; \\*y\\* \\[z\\]\\_\\#\\|"
    assert fmt.md_text(None) == "—"
