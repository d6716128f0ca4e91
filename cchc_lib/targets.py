"""The plan's targets as data: one YAML file per plan year in ``cchc_lib/targets/``.

``load_targets(2023)`` reads ``targets/2023.yaml`` (Kế hoạch 122/KH-SKH). A year without a file
gives an empty ``Targets`` whose ``available`` is False: every indicator then says "no target"
instead of failing, so a new year works before its plan has been typed in.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cchc_lib.formatting import fmt_number, fmt_percent

TARGETS_DIR = Path(__file__).with_name("targets")

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
_OP_TEXT = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
# Fractions computed from counts are compared with a small tolerance so that 0.7 computed as
# 7/10 (0.7000000000000001 or 0.6999999999999999) meets a 70% target.
_EPS = 1e-9

STATUS_MET = "Đạt"
STATUS_NOT_MET = "Chưa đạt"


@dataclass(frozen=True)
class Target:
    """The target(s) of one indicator in one plan year."""

    indicator: str
    op: str | None = None
    value: float | None = None  # primary level, "mức phấn đấu"
    source: str = ""
    value_min: float | None = None  # lower level, "mức tối thiểu"
    source_min: str = ""
    relative_to_previous_year: float | None = None
    note_vi: str = ""
    no_number: bool = False

    def resolved(self, previous_value: float | None) -> Target:
        """For a target relative to last year's value, the concrete target (capped at 100%)."""
        if self.relative_to_previous_year is None:
            return self
        if previous_value is None or _nan(previous_value):
            return Target(self.indicator, self.op, None, self.source, note_vi=self.note_vi,
                          relative_to_previous_year=self.relative_to_previous_year)
        level = min(1.0, float(previous_value) + self.relative_to_previous_year)
        return Target(self.indicator, self.op, level, self.source, note_vi=self.note_vi,
                      relative_to_previous_year=self.relative_to_previous_year)


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


def _fmt_level(level: float, unit: str) -> str:
    if unit == "rate":
        return fmt_percent(level, 0 if float(level * 100).is_integer() else 1)
    if unit == "minutes":
        return f"{fmt_number(level)} phút"
    if unit == "days":
        return f"{fmt_number(level, 1)} ngày"
    return fmt_number(level)


def target_text_vi(target: Target | None, unit: str, year: int | None = None,
                   previous_value: float | None = None) -> str:
    """The target for people: ``≥ 95% (III.2); tối thiểu ≥ 85% (Biểu II.6)``."""
    if target is None:
        return "Không có chỉ tiêu" if year is None else f"Chưa có chỉ tiêu kế hoạch năm {year}"
    if target.no_number:
        return target.note_vi or "Kế hoạch không nêu con số"
    op = _OP_TEXT.get(target.op or "", target.op or "")
    if target.relative_to_previous_year is not None:
        points = fmt_number(target.relative_to_previous_year * 100)
        prev_year = f"năm {year - 1}" if year else "năm trước"
        if _nan(previous_value):
            return (f"tăng thêm {points} điểm % so với {prev_year} "
                    f"(chưa có dữ liệu {prev_year}) ({target.source})")
        level = min(1.0, float(previous_value) + target.relative_to_previous_year)  # type: ignore[arg-type]
        return (f"{op} {_fmt_level(level, 'rate')}: {prev_year} {_fmt_level(previous_value, 'rate')}"
                f" + {points} điểm % ({target.source})")
    text = f"{op} {_fmt_level(target.value, unit)} ({target.source})" if target.value is not None else ""
    if target.value_min is not None:
        text += f"; tối thiểu {op} {_fmt_level(target.value_min, unit)} ({target.source_min})"
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


def _parse(year: int, raw: dict) -> Targets:
    entries: dict[str, Target] = {}
    for name, spec in (raw.get("indicators") or {}).items():
        spec = spec or {}
        op = spec.get("op")
        if op is not None and op not in OPS:
            raise ValueError(f"targets/{year}.yaml: {name}: unknown op {op!r}")
        entries[name] = Target(
            indicator=name,
            op=op,
            value=None if spec.get("target") is None else float(spec["target"]),
            source=str(spec.get("source", "")),
            value_min=None if spec.get("target_min") is None else float(spec["target_min"]),
            source_min=str(spec.get("source_min", "")),
            relative_to_previous_year=(
                None if spec.get("relative_to_previous_year") is None
                else float(spec["relative_to_previous_year"])
            ),
            note_vi=str(spec.get("note_vi", "")),
            no_number=bool(spec.get("no_number", False)),
        )
    return Targets(year=year, plan=str(raw.get("plan", "")), entries=entries, available=True)


def load_targets(year: int, directory: Path | None = None) -> Targets:
    """The targets of plan year ``year`` from ``<directory>/<year>.yaml`` (no file: no targets)."""
    path = (directory or TARGETS_DIR) / f"{int(year)}.yaml"
    if not path.exists():
        return Targets(year=int(year), available=False)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return _parse(int(year), raw)
