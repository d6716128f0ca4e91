"""validation.clean_column: a column cleaned whole (ASCII, in pyarrow) and per distinct value
(in Python, safe_text's rules) gives the same text, and its views agree with that text."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pyarrow as pa

from cchc_lib.mapping import nfc
from cchc_lib.safe_text import strip_invisible
from cchc_lib.validation import clean_column


def _by_hand(value: str) -> str:
    return nfc(strip_invisible(value)).strip()


def test_ascii_whole_and_per_value_agree():
    rng = random.Random(16)
    alphabet = [chr(c) for c in range(128)]
    values = ["", " ", "\t", "HS-1", " HS-1 ", "a\x07b", "\x1c", "x\r\ny"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(5000)
    ]
    whole = clean_column(pa.array(values)).text.to_pylist()
    per_value = clean_column(pa.array(values), by_value=True).text.to_pylist()
    assert whole == per_value == [_by_hand(v) for v in values]


def test_text_with_marks_and_invisibles_per_distinct_value():
    decomposed = unicodedata.normalize("NFD", "Đã tiếp nhận")
    values = ["Có", " Có\t", "Co\u0301", "", "Không\u200b", decomposed, "Có", "  "]
    chunked = pa.chunked_array([values[:3], values[3:5], [], values[5:]])
    clean = clean_column(chunked)
    expected = [_by_hand(v) for v in values]
    assert expected[:3] == ["Có", "Có", "Có"] and expected[5] == "Đã tiếp nhận"
    assert clean.text.to_pylist() == expected
    assert clean.empty().tolist() == [v == "" for v in expected]
    assert clean.values_at(np.array([7, 1, 5])) == [expected[7], expected[1], expected[5]]
    assert clean.nullable_text().to_pylist() == [v or None for v in expected]
    distinct, indices = clean.by_value()
    assert [distinct[i] for i in indices] == expected


def test_a_chunked_column_as_the_joined_one():
    rng = random.Random(3)
    words = ["Trực tuyến", "Trực tiếp", " Bưu chính ", "", "x"]
    values = [rng.choice(words) for _ in range(1000)]
    chunks = pa.chunked_array([values[i:i + 97] for i in range(0, 1000, 97)])
    for by_value in (False, True):
        assert clean_column(chunks, by_value).text.equals(clean_column(pa.array(values), by_value).text)
    assert len(clean_column(pa.chunked_array([], type=pa.string())).text) == 0
    assert clean_column(pa.chunked_array([], type=pa.string()), by_value=True).empty().size == 0


def test_dates_with_dashes_dots_or_the_year_first_with_slashes():
    """Forms Vietnamese systems write besides the contract's (dd/mm/yyyy, ISO 8601, serials):
    the day first with dashes or dots, the year first with slashes; an impossible day is still
    refused, and a month-first date (01-15-2023) is not read as one."""
    from cchc_lib.validation import parse_datetimes

    texts = ["15-01-2023", "15.01.2023 08:30", "15-1-2023 08:30:15", "2023/01/15", "2023/01/15 17:00",
             "31-02-2023", "31.04.2023", "2023/02/30", "01-15-2023", "15/01/2023"]
    values, date_only, invalid = parse_datetimes(pa.array(texts))
    expected = ["2023-01-15T00:00", "2023-01-15T08:30", "2023-01-15T08:30:15", "2023-01-15T00:00",
                "2023-01-15T17:00", None, None, None, None, "2023-01-15T00:00"]
    got = [None if np.isnat(v) else str(np.datetime_as_string(v, unit="s")) for v in values]
    assert got == [None if e is None else f"{e}:00" if e.count(":") == 1 else e for e in expected]
    assert date_only.tolist() == [True, False, False, True, False, False, False, False, False, True]
    assert invalid.tolist() == [e is None for e in expected]


def test_the_twelve_hour_clock_of_vietnamese_windows_and_fractions_of_a_second():
    """8:00 SA (sáng) / 8:00 CH (chiều), as Windows writes times in Vietnamese, AM/PM, and
    dd/mm/yyyy HH:MM:SS with a fraction (dropped): read; 13:00 CH and 31/02 are not times."""
    from cchc_lib.validation import parse_datetimes

    texts = ["15/01/2023 8:00 SA", "15/01/2023 08:00 CH", "15/01/2023 12:30 sa", "15/01/2023 8:05:30 ch",
             "15/01/2023 8:00 PM", "15/01/2023 08:00:00.000", "15/01/2023 08:00:59,5",
             "15/01/2023 13:00 CH", "31/02/2023 8:00 SA"]
    values, date_only, invalid = parse_datetimes(pa.array(texts))
    got = [None if np.isnat(v) else str(np.datetime_as_string(v, unit="s")) for v in values]
    assert got == ["2023-01-15T08:00:00", "2023-01-15T20:00:00", "2023-01-15T00:30:00",
                   "2023-01-15T20:05:30", "2023-01-15T20:00:00", "2023-01-15T08:00:00",
                   "2023-01-15T08:00:59", None, None]
    assert not date_only.any()
    assert invalid.tolist() == [False] * 7 + [True, True]
