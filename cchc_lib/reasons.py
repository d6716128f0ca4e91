"""Quoting a bad value in a reject reason without leaking a citizen's personal data.

A reason must help a person fix the row, so it quotes the value ("Kênh nộp: giá trị không hợp lệ
'Fax'"). But when a row is ragged (a missing cell shifts the personal columns left) or somebody
types a name or a phone number into a coded column, the value *is* personal data, and reasons go
to rejects.csv, ingest_report.json and the ingest summary. So a value is quoted only when it
cannot be personal data; otherwise the reason says what is wrong without the value (the file and
row next to it lead the person to the cell).

A value is withheld when it holds an e-mail address, nine digits or more (a phone number, a CCCD
or CMND number; a date written in full is allowed), or two capitalised words (how Vietnamese
names and addresses are written: "Nguyễn Văn An", "Số 5 Lê Lợi") - unless every word is one of
the column's own known spellings (a mis-typed "Rất Hài Lòng" stays quoted).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_QUOTE = 60  # long garbage values are cut in reasons
WITHHELD = "(không trích giá trị vì có thể là dữ liệu cá nhân)"
PERSONAL_DIGITS = 9
_PHONE_OR_ID_CHARS = re.compile(r"[+(]?\d[\d .\-()]*\d")
_DATE_SHAPE = re.compile(
    r"^\d{1,4}[/\-.]\d{1,2}[/\-.]\d{1,4}(?:[ T]\d{1,2}:\d{1,2}(?::\d{1,2}(?:[.,]\d+)?)?)?$"
)
_WORD = re.compile(r"\w+")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d): 'Hài lòng' and 'hai long' fold alike."""
    base = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in base if not unicodedata.combining(ch))


def vocabulary(spellings: Iterable[str]) -> frozenset[str]:
    """The folded words of a column's known spellings and codes."""
    return frozenset(w for s in spellings for w in _WORD.findall(fold(str(s))))


def _name_word(word: str) -> bool:
    """A capitalised word as names are written (Nguyễn, NGUYỄN), not an acronym (DVC, BCCI)."""
    return word[0].isupper() and (any(ch.islower() for ch in word[1:]) or not word.isascii())


def phone_or_id_shaped(value: str) -> bool:
    """Whether ``value`` is written as a Vietnamese phone number or a citizen's ID number is:
    nothing but 9 to 12 digits (spaces, dots, dashes, brackets between them), starting with 0
    or the country code (0912 345 678, +84 912 345 678, 001099000111). A record id may be a long
    digit string, but one of exactly this shape is withheld even there: a row shifted by one
    cell puts the phone or ID column in the id column (tests/test_properties.py found one)."""
    text = value.strip()
    if not _PHONE_OR_ID_CHARS.fullmatch(text):
        return False
    number = re.sub(r"\D", "", text)
    return 9 <= len(number) <= 12 and (number.startswith("0") or number.startswith("84"))


def may_be_personal(value: str, vocab: frozenset[str] = frozenset(), digits: bool = True) -> bool:
    """Whether ``value`` could be a name, a phone or ID number, an e-mail or an address.
    ``digits=False`` for record ids, which are long digit strings by design (only those shaped
    exactly like a phone or ID number count then)."""
    if _EMAIL.search(value) or phone_or_id_shaped(value):
        return True
    words = _WORD.findall(value)
    if vocab and words and all(fold(w) in vocab for w in words):
        return False
    if digits and sum(ch.isdigit() for ch in value) >= PERSONAL_DIGITS:
        if not _DATE_SHAPE.match(value.strip()):
            return True
    return sum(1 for w in words if _name_word(w)) >= 2


def quote(value: str, vocab: frozenset[str] = frozenset()) -> str:
    """``'value'`` (cut when long), or the withheld note when it may be personal data."""
    if may_be_personal(value, vocab):
        return WITHHELD
    return "'" + (value if len(value) <= MAX_QUOTE else value[: MAX_QUOTE - 1] + "…") + "'"
