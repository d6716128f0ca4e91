"""Plain-text tables for the terminal: what ``cchc indicators`` and ``cchc index766`` print
(``cli.py`` prints them), in Vietnamese with Vietnamese number formats, columns padded by
:func:`cchc_lib.formatting.render_table`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_lib.formatting import fmt_number, fmt_percent, fmt_score, format_value, render_table
from cchc_lib.index766.scores import COMPONENT_BY_CODE, GROUP_BY_CODE, NOT_AVAILABLE_VI, TOTAL
from cchc_lib.indicators import BY_LABELS
from cchc_lib.periods import Period
from cchc_lib.targets import cite


def format_indicator_table(frame: pd.DataFrame, period: Period, by: str) -> str:
    """The terminal table: Vietnamese labels, percentages, targets and status."""
    title = f"Chỉ số CCHC - {period.label_window_vi} - theo {BY_LABELS[by].lower()}"
    blocks = [title]
    for group, part in frame.groupby("group", sort=False):
        rows = []
        for r in part.itertuples(index=False):
            if r.unit == "count":
                counts = ""
            elif np.isnan(r.denominator):
                counts = "—"
            elif r.unit == "rate":
                counts = f"{fmt_number(r.numerator)}/{fmt_number(r.denominator)}"
            else:
                counts = f"n = {fmt_number(r.denominator)}"
            status = r.status
            if r.status_min:
                parts = str(r.target_source).split(";")
                other = cite(parts[1]) if len(parts) == 2 else "mức còn lại"
                status += f" (theo {other}: {r.status_min})"
            rows.append([r.label_vi, format_value(r.value, r.unit), counts, r.target_text_vi, status])
        blocks.append("")
        blocks.append(f"{BY_LABELS[by]}: {group}" if by != "overall" else str(group))
        blocks.append(render_table(rows, ["Chỉ số", "Giá trị", "Tử số/Mẫu số", "Chỉ tiêu", "Trạng thái"]))
    return "\n".join(blocks)


def _index_label(metric: str) -> str:
    if metric == TOTAL:
        return "TỔNG ĐIỂM"
    if metric in GROUP_BY_CODE:
        return GROUP_BY_CODE[metric].label_vi
    return COMPONENT_BY_CODE[metric].label_vi


def index766_table(scores: pd.DataFrame, title: str = "") -> str:
    """A readable terminal table per unit: Vietnamese labels, ``17,5/20`` scores, ratios."""
    blocks: list[str] = []
    header = f"Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg){title}"
    for unit, frame in scores.groupby("unit", sort=False):
        rows: list[list[str]] = []
        for rec in frame.itertuples(index=False):
            level = 0 if rec.metric in GROUP_BY_CODE or rec.metric == TOTAL else 1
            score = (f"{fmt_score(rec.score)}/{fmt_score(rec.max_score)}" if rec.available
                     else NOT_AVAILABLE_VI)
            notes = []
            if level == 0 and rec.available and not rec.complete:
                notes.append("thiếu dữ liệu một số thành phần")
            if rec.metric == TOTAL and rec.estimate:
                notes.append("gồm phần ước tính")
            shown = bool(level and rec.available)
            rows.append([
                ("  " * level) + _index_label(str(rec.metric)), score,
                fmt_percent(rec.ratio) if shown else "",
                f"{fmt_score(rec.numerator, '')}/{fmt_score(rec.denominator, '')}" if shown else "",
                f"({'; '.join(notes)})" if notes else "",
            ])
        table = render_table(rows, ["Nhóm / thành phần", "Điểm", "Tỷ lệ", "Số liệu", ""])
        blocks.append(f"{header} — {unit}\n{table}")
    blocks.append(
        "Điểm nhóm = tổng các thành phần có dữ liệu; \"không có dữ liệu\" không được tính là 0. "
        "Nhóm Dịch vụ công trực tuyến là ước tính (công thức ứng viên, Cổng DVCQG chưa công bố)."
    )
    return "\n\n".join(blocks)


def index766_output(scores: pd.DataFrame, fmt: str, title: str = "") -> str:
    """``table`` for people; ``csv`` / ``json`` tidy for machines (NaN = empty / null)."""
    if fmt == "csv":
        return str(scores.to_csv(index=False)).rstrip("\n")
    if fmt == "json":
        return str(scores.to_json(orient="records", force_ascii=False, indent=1))
    return index766_table(scores, title)
