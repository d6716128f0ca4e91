"""The plan's targets as data: one YAML file per plan year in the agency profile's targets folder
(:mod:`cchc_lib.config`; the packaged profile's is ``cchc_lib/targets/``).

``load_targets(2023)`` reads ``targets/2023.yaml`` (Kế hoạch 122/KH-SKH). A year without a file
gives an empty ``Targets`` whose ``available`` is False: every indicator then says "no target"
instead of failing, so a new year works before its plan has been typed in.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from cchc_lib.config import profile
from cchc_lib.formatting import OP_TEXT, fmt_number, format_level, level_text, yaml_error_place

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
# Fractions computed from counts are compared with a small tolerance so that 0.7 computed as
# 7/10 (0.7000000000000001 or 0.6999999999999999) meets a 70% target.
_EPS = 1e-9

STATUS_MET = "Đạt"


class TargetsError(ValueError):
    """A plan year's targets file cannot be used: one Vietnamese line naming the file, the
    indicator and the key (the file is edited by hand, one per plan year)."""
STATUS_NOT_MET = "Chưa đạt"


@dataclass(frozen=True)
class Target:
    """The target(s) of one indicator in one plan year."""

    indicator: str
    op: str | None = None
    value: float | None = None  # the figure that decides the status
    source: str = ""
    # When the plan gives two figures (its text and its detailed table disagree): the other
    # figure and where it comes from. Shown beside the deciding one, judged as ``status_min``.
    value_min: float | None = None
    source_min: str = ""
    relative_to_previous_year: float | None = None
    note_vi: str = ""
    no_number: bool = False
    # A target the plan does not state but that follows from one it does (e.g. no pending
    # overdue dossier from "100% đúng hạn"): labelled as derived, never cited as the plan's.
    derived_from: str = ""

    @property
    def conflicting(self) -> bool:
        """The plan writes two different figures for this indicator."""
        return self.value_min is not None and self.value is not None and self.value_min != self.value

    def resolved(self, previous_value: float | None) -> Target:
        """For a target relative to last year's value, the concrete target (capped at 100%)."""
        if self.relative_to_previous_year is None:
            return self
        if previous_value is None or _nan(previous_value):
            return Target(self.indicator, self.op, None, self.source, note_vi=self.note_vi,
                          relative_to_previous_year=self.relative_to_previous_year,
                          derived_from=self.derived_from)
        level = min(1.0, float(previous_value) + self.relative_to_previous_year)
        return Target(self.indicator, self.op, level, self.source, note_vi=self.note_vi,
                      relative_to_previous_year=self.relative_to_previous_year,
                      derived_from=self.derived_from)


def _nan(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def check(value: float | None, op: str | None, target: float | None) -> bool | None:
    """Whether ``value op target`` holds (with a tolerance); None when it cannot be judged."""
    if op is None or _nan(target) or _nan(value):
        return None
    v, t = float(value), float(target)  # type: ignore[arg-type]
    if op not in OPS:
        raise ValueError(f"unknown operator {op!r}")
    # Shift the target by the tolerance in the direction that forgives rounding noise only.
    shifted = {">=": t - _EPS, ">": t + _EPS, "<=": t + _EPS, "<": t - _EPS}.get(op)
    if shifted is None:  # "=="
        return abs(v - t) <= _EPS
    return OPS[op](v, shifted)


def status_for(value: float | None, op: str | None, target: float | None) -> str:
    """``Đạt`` / ``Chưa đạt``; empty when there is no numeric target."""
    ok = check(value, op, target)
    if ok is None:
        return ""
    return STATUS_MET if ok else STATUS_NOT_MET


def cite(source: str) -> str:
    """A section of the plan for people: ``mục III.2`` for its text, ``Biểu II.6`` for its table."""
    source = source.strip()
    if not source or source.lower().startswith(("biểu", "mục")):
        return source
    return f"mục {source}"


def is_table_source(source: str) -> bool:
    """Whether a source points into the plan's detailed table (Biểu ...) rather than its text."""
    return source.strip().lower().startswith("biểu")


CONFLICT_NOTE = "Kế hoạch ghi không thống nhất"


def target_text_vi(target: Target | None, unit: str, year: int | None = None,
                   previous_value: float | None = None) -> str:
    """The target for people: ``≥ 80% (II.2)``; both figures when the plan gives two:
    ``theo mục III.2: ≥ 95%; theo Biểu II.6: ≥ 85% (Kế hoạch ghi không thống nhất; đánh giá
    theo mục III.2)``; a derived target says so."""
    if target is None:
        return "Không có chỉ tiêu" if year is None else f"Chưa có chỉ tiêu kế hoạch năm {year}"
    if target.no_number:
        return target.note_vi or "Kế hoạch không nêu con số"
    op = OP_TEXT.get(target.op or "", target.op or "")
    if target.relative_to_previous_year is not None:
        points = fmt_number(target.relative_to_previous_year * 100)
        prev_year = f"năm {year - 1}" if year else "năm trước"
        if _nan(previous_value):
            return (f"tăng thêm {points} điểm % so với {prev_year} "
                    f"(chưa có dữ liệu {prev_year}) ({target.source})")
        previous = float(previous_value)  # type: ignore[arg-type]  # not missing: checked above
        level = min(1.0, previous + target.relative_to_previous_year)
        return (f"{op} {format_level(level, 'rate')}: {prev_year} {format_level(previous, 'rate')}"
                f" + {points} điểm % ({target.source})")
    if target.value is None:
        return target.note_vi
    if target.conflicting:
        figures = [(target.source, target.value), (target.source_min, target.value_min)]
        figures.sort(key=lambda f: is_table_source(f[0]))  # the text first, then the table
        both = "; ".join(f"theo {cite(s)}: {level_text(target.op, float(v or 0), unit)}"
                         for s, v in figures)
        return f"{both} ({CONFLICT_NOTE}; đánh giá theo {cite(target.source)})"
    text = f"{level_text(target.op, target.value, unit)} ({target.source})"
    if target.derived_from:
        text = (f"{level_text(target.op, target.value, unit)} (chỉ tiêu suy ra từ "
                f"{target.derived_from}; Kế hoạch không nêu trực tiếp)")
    return text


@dataclass(frozen=True)
class Targets:
    """All targets of one plan year; ``available`` is False when the year has no file."""

    year: int
    plan: str = ""
    entries: dict[str, Target] = field(default_factory=dict)
    available: bool = True

    def get(self, indicator: str) -> Target | None:
        return self.entries.get(indicator)


SECTIONS = ("plan", "year", "indicators")
KEYS = ("op", "target", "source", "figures", "decides", "derived_from", "relative_to_previous_year",
        "note_vi", "no_number", "target_min", "source_min")


def _number(value: object, where: str) -> float:
    """A target figure as a float; TargetsError (naming ``where``) when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TargetsError(f"{where} phải là một số (tỉ lệ viết dạng 0.95 cho 95%), không phải {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise TargetsError(f"{where} phải là một số (tỉ lệ viết dạng 0.95 cho 95%), "
                           f"không phải '{value}'") from None
    if math.isnan(number) or math.isinf(number):
        raise TargetsError(f"{where} phải là một số hữu hạn, không phải '{value}'")
    return number


def _figures(where: str, spec: dict) -> tuple[float | None, str, float | None, str]:
    """(deciding figure, its source, the other figure, its source) of one indicator.

    Either one figure (``target`` + ``source``) or, where the plan's text and its detailed table
    disagree, ``figures: [{target, source}, {target, source}]`` with ``decides: <source>`` naming
    the one that decides the status (default: the text's figure, i.e. the source that is not a
    "Biểu"). The older ``target_min`` / ``source_min`` pair is read as the second figure."""
    figures = spec.get("figures")
    if figures is None:
        if spec.get("target_min") is None:
            value = None if spec.get("target") is None else _number(spec["target"], f"{where}.target")
            return value, str(spec.get("source", "")), None, ""
        figures = [{"target": spec.get("target"), "source": spec.get("source", "")},
                   {"target": spec["target_min"], "source": spec.get("source_min", "")}]
    if (not isinstance(figures, list) or len(figures) != 2
            or any(not isinstance(f, dict) or f.get("target") is None for f in figures)):
        raise TargetsError(f"{where}.figures phải liệt kê đúng hai con số, mỗi số có target và source")
    pairs = [(_number(f["target"], f"{where}.figures.target"), str(f.get("source", ""))) for f in figures]
    decides = spec.get("decides")
    if decides is None:
        texts = [p for p in pairs if not is_table_source(p[1])]
        chosen = texts[0] if texts else pairs[0]
    else:
        matching = [p for p in pairs if p[1] == str(decides)]
        if not matching:
            raise TargetsError(f"{where}.decides '{decides}' không phải nguồn của một trong hai con số "
                               f"('{pairs[0][1]}', '{pairs[1][1]}')")
        chosen = matching[0]
    other = pairs[1] if chosen is pairs[0] else pairs[0]
    return chosen[0], chosen[1], other[0], other[1]


def _parse(year: int, raw: object, path: Path | str = "") -> Targets:
    """The targets of ``raw`` (the YAML of ``path``), checked: TargetsError names the file,
    the indicator and the key of anything that cannot be used."""
    src = str(path) or f"targets/{year}.yaml"
    if not isinstance(raw, dict):
        raise TargetsError(f"tệp chỉ tiêu {src} phải gồm các mục {', '.join(SECTIONS)}")
    unknown = [str(k) for k in raw if k not in SECTIONS]
    if unknown:
        # A misspelt "indicators" would otherwise leave every indicator without a target, silently.
        raise TargetsError(f"tệp chỉ tiêu {src}: mục '{unknown[0]}' không có; các mục: {', '.join(SECTIONS)}")
    indicators = raw.get("indicators") or {}
    if not isinstance(indicators, dict):
        raise TargetsError(f"tệp chỉ tiêu {src}: 'indicators' phải là các dòng 'tên_chỉ_tiêu:' "
                           "(mỗi chỉ tiêu có op, target, source ...)")
    entries: dict[str, Target] = {}
    for name, spec in indicators.items():
        where = f"tệp chỉ tiêu {src}: {name}"
        spec = spec or {}
        if not isinstance(spec, dict):
            raise TargetsError(f"{where} phải là các dòng 'khóa: giá trị' (op, target, source ...)")
        odd = [str(k) for k in spec if k not in KEYS]
        if odd:
            raise TargetsError(f"{where}: khóa '{odd[0]}' không có; các khóa: {', '.join(KEYS)}")
        op = spec.get("op")
        if op is not None and op not in OPS:
            raise TargetsError(f"{where}.op '{op}' không có; dùng một trong: {', '.join(OPS)}")
        value, source, other, other_source = _figures(where, spec)
        entries[name] = Target(
            indicator=name,
            op=op,
            value=value,
            source=source,
            value_min=other,
            source_min=other_source,
            relative_to_previous_year=(
                None if spec.get("relative_to_previous_year") is None
                else _number(spec["relative_to_previous_year"], f"{where}.relative_to_previous_year")
            ),
            note_vi=str(spec.get("note_vi", "")),
            no_number=bool(spec.get("no_number", False)),
            derived_from=str(spec.get("derived_from", "") or ""),
        )
    return Targets(year=year, plan=str(raw.get("plan", "")), entries=entries, available=True)


# path -> (size, modification time, targets read): a report asks for the year's targets a dozen
# times (engine, plan targets, projection, methods) and a batch worker for 17 reports; parsing
# the YAML took 10-20 ms each time. Read again whenever the file changes.
_read: dict[Path, tuple[int, int, Targets]] = {}


def load_targets(year: int, directory: Path | None = None) -> Targets:
    """The targets of plan year ``year`` from ``<directory>/<year>.yaml`` (no file: no targets)."""
    path = Path(directory or profile().targets_dir) / f"{int(year)}.yaml"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Targets(year=int(year), available=False)
    cached = _read.get(path)
    if cached is None or cached[:2] != (stat.st_size, stat.st_mtime_ns):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            place = yaml_error_place(exc)
            raise TargetsError(f"tệp chỉ tiêu {path} không đúng cú pháp YAML{place}") from None
        cached = _read[path] = (stat.st_size, stat.st_mtime_ns, _parse(int(year), raw, path))
    targets = cached[2]
    # Each caller its own dict of (frozen) targets: one that edits it cannot edit the next's.
    return replace(targets, entries=dict(targets.entries))


def targets_version(year: int, directory: Path | None = None) -> tuple:
    """Which file :func:`load_targets` reads for ``year`` and which version of it (path, size,
    modification time; no file: the path alone): part of the key of a value computed from
    the targets and kept between reports."""
    path = Path(directory or profile().targets_dir) / f"{int(year)}.yaml"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (str(path),)
    return (str(path), stat.st_size, stat.st_mtime_ns)
