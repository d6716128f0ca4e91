"""The editable header and value mapping (mapping.yaml), loaded into lookup tables.

Every header and value spelling is compared through `norm_key`: Unicode NFC, case-folded,
whitespace folded, so a user lists each spelling once and "Hài lòng" typed with decomposed
diacritics, in capitals or with a double space still matches.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cchc_lib.formatting import yaml_error_place
from cchc_lib.safe_text import strip_invisible

DEFAULT_MAPPING_PATH = Path(__file__).with_name("mapping.yaml")


class MappingError(ValueError):
    """mapping.yaml is malformed or ambiguous."""


def nfc(text: str) -> str:
    """Unicode NFC, skipping the work for text that is already normalised (the common case)."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def norm_key(text: object) -> str:
    """The comparison key of a header or value spelling: NFC, case-folded, whitespace folded."""
    s = nfc(strip_invisible(str(text)))  # a BOM or zero-width space must not hide a header
    # casefold may decompose some letters (e.g. German sharp s); re-NFC keeps keys comparable.
    return nfc(" ".join(s.casefold().split()))


@dataclass(frozen=True)
class Mapping:
    """Lookup tables built from mapping.yaml; every key is a `norm_key`."""

    headers: dict[str, dict[str, str]]  # table -> header key -> canonical column
    personal: frozenset[str]  # header keys of personal-data columns
    values: dict[str, dict[str, object]]  # kind -> value key -> canonical code
    source: Path = field(default=DEFAULT_MAPPING_PATH)
    ranks: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> header key -> list position

    def header_lookup(self, table: str) -> dict[str, str]:
        return self.headers.get(table, {})

    def header_rank(self, table: str) -> dict[str, int]:
        """Position of each header spelling in its column's list (the first listed wins)."""
        return self.ranks.get(table, {})

    def value_lookup(self, kind: str) -> dict[str, object] | None:
        return self.values.get(kind)


def _invert(groups: dict, where: str, convert=lambda code: code) -> dict[str, object]:
    """{code: [spellings]} -> {norm_key(spelling): code}, refusing one spelling for two codes."""
    out: dict[str, object] = {}
    for code, spellings in (groups or {}).items():
        if isinstance(spellings, str):
            spellings = [spellings]
        for spelling in spellings or []:
            key = norm_key(spelling)
            value = convert(code)
            if key in out and out[key] != value:
                raise MappingError(
                    f"mapping.yaml: '{spelling}' trong {where} ứng với hai giá trị ({out[key]} và {value})"
                )
            out[key] = value
    return out


def _yes_no(code: object) -> bool:
    text = str(code).strip().lower()
    if text in ("yes", "true"):
        return True
    if text in ("no", "false"):
        return False
    raise MappingError(f"mapping.yaml: values.yes_no chỉ có 'yes' và 'no', không có '{code}'")


SECTIONS = ("headers", "personal", "values")


def _spellings_problem(value: object) -> str | None:
    """Why ``value`` is not one spelling or a list of spellings (None when it is)."""
    if value is None or isinstance(value, str | int | float):
        return None
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return None
    return "phải là một cách viết hoặc danh sách [cách viết, ...]"


def check_shape(raw: object, src: Path) -> None:
    """MappingError naming the file and the key when the YAML is not shaped as mapping.yaml is:
    ``headers.<table>.<column>`` and ``values.<kind>.<code>`` each a spelling or a list of
    them, ``personal`` a list of headers (an edit that breaks the shape would otherwise stop
    the ingest with a Python traceback)."""
    def fail(where: str, problem: str) -> MappingError:
        return MappingError(f"tệp ánh xạ {src}: {where} {problem}")

    if not isinstance(raw, dict):
        raise fail("nội dung", f"phải là các mục {', '.join(SECTIONS)}")
    unknown = [str(k) for k in raw if k not in SECTIONS]
    if unknown:
        raise fail(f"mục '{unknown[0]}'", f"không có; các mục: {', '.join(SECTIONS)}")
    for section in ("headers", "values"):
        groups = raw.get(section)
        if groups is None:
            continue
        if not isinstance(groups, dict):
            raise fail(f"'{section}'",
                       "phải gồm các nhóm 'tên:' (mỗi nhóm là các dòng 'mã: [cách viết, ...]')")
        for name, entries in groups.items():
            if entries is None:
                continue
            if not isinstance(entries, dict):
                raise fail(f"'{section}.{name}'", "phải là các dòng 'mã: [cách viết, ...]'")
            for code, spellings in entries.items():
                if (problem := _spellings_problem(spellings)) is not None:
                    raise fail(f"'{section}.{name}.{code}'", problem)
    if (problem := _spellings_problem(raw.get("personal"))) is not None:
        raise fail("'personal'", problem)


def load_mapping(path: Path | str | None = None) -> Mapping:
    """Load mapping.yaml (the packaged one by default) into normalised lookup tables."""
    src = Path(path) if path is not None else DEFAULT_MAPPING_PATH
    try:
        raw = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise MappingError(f"không đọc được tệp ánh xạ {src}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"tệp ánh xạ {src} không đúng cú pháp YAML{yaml_error_place(exc)}") from None
    check_shape(raw, src)
    headers = {table: _invert(cols, f"headers.{table}") for table, cols in (raw.get("headers") or {}).items()}
    ranks = {
        table: {norm_key(sp): i for spellings in (cols or {}).values()
                for i, sp in enumerate([spellings] if isinstance(spellings, str) else spellings or [])}
        for table, cols in (raw.get("headers") or {}).items()
    }
    personal = frozenset(norm_key(h) for h in raw.get("personal") or [])
    for table, lookup in headers.items():
        clash = sorted(set(lookup) & personal)
        if clash:
            raise MappingError(
                f"mapping.yaml: tiêu đề {', '.join(clash)} vừa là dữ liệu cá nhân vừa là cột của bảng {table}"
            )
    values: dict[str, dict[str, object]] = {}
    for kind, groups in (raw.get("values") or {}).items():
        convert = _yes_no if kind == "yes_no" else (lambda code: str(code))
        values[kind] = _invert(groups, f"values.{kind}", convert)
    return Mapping(headers=headers, personal=personal, values=values, source=src, ranks=ranks)
