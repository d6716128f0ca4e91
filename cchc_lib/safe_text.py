"""Text that crosses a trust boundary: values read from raw exports, and text cells written into
files that people open in Excel.

- On read, `strip_invisible` removes format characters (zero-width space U+200B, BOM U+FEFF,
  soft hyphen U+00AD, direction marks ...) and control characters, so that two dossier codes that
  look the same are the same, and no NUL reaches a workbook (openpyxl refuses it).
- In a CSV meant for people (rejects.csv), `neutralise_csv_cell` puts an apostrophe before a text
  that Excel or LibreOffice would run as a formula (=, +, -, @, tab, CR), the usual defence
  against CSV injection. Machine CSV on stdout keeps exact values.
- In a workbook we write (Biểu 06), `set_text_cell` stores every text as a string cell, never a
  formula, whatever it begins with.
"""

from __future__ import annotations

import re

import pandas as pd

# Every code point of category Cf (format) or Cc (control) in Unicode 15 (computed from
# unicodedata once; scanning the code space at import would cost 0.4 s). Tab, LF, CR, VT and
# FF become a space (a line break inside a cell is a separator, not nothing); every other one is
# removed.
_WHITESPACE_CONTROLS = "\t\n\r\x0b\x0c"
INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
# ASCII controls as an RE2 class for pyarrow (an ASCII column cannot hold a Cf character).
ASCII_CONTROL_PATTERN = "[\\x00-\\x1f\\x7f]"
_TRANSLATE = {ord(c): " " for c in _WHITESPACE_CONTROLS}

# What Excel and LibreOffice read as the start of a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def strip_invisible(text: str) -> str:
    """``text`` without format or control characters (tab, CR, LF become a space)."""
    if text.isascii() and text.isprintable():
        return text
    return INVISIBLE_RE.sub("", text.translate(_TRANSLATE))


def neutralise_csv_cell(value: object) -> object:
    """A text that a spreadsheet would run as a formula, prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are safe to open in a spreadsheet."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out[name] = col.map(neutralise_csv_cell, na_action="ignore").astype(col.dtype)
    return out


def set_text_cell(cell, value: object) -> None:
    """Put ``value`` in an openpyxl cell; a text is always a string cell, never a formula, and
    carries no character the XLSX format forbids."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
    else:
        cell.value = value


def no_formulas(workbook) -> None:
    """Make every text cell of an openpyxl workbook a string cell, never a formula (call it just
    before saving a workbook built with ``append``, which turns any text starting with "=" into
    a formula). Text read by ingest holds no character the XLSX format forbids (append would
    refuse it); set_text_cell also clears them from text put in afterwards."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    set_text_cell(cell, cell.value)
