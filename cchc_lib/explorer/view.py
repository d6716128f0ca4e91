"""What the explorer shows and saves: its charts, its tables (for the screen as HTML, for Excel
with number formats) and the exports under ``reports/explore/``.

Everything here takes the frames of :mod:`cchc_lib.explorer.engine` (engine output) and only lays them
out; the look is the reports' (:mod:`cchc_lib.publish.charts`), the formats Vietnamese (95,3%; 1.234).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from cchc_lib.atomic import atomic_path, write_text_atomic
from cchc_lib.conventions import DEFAULT as DEFAULT_CONVENTIONS
from cchc_lib.explorer.engine import (
    COMPARE_LABELS,
    GRANULARITY_LABELS,
    TIMELINESS_LABELS,
    Selection,
    breakdown_label,
    conventions_about,
    describe,
)
from cchc_lib.formatting import fmt_datetime, fmt_number, format_change, format_value
from cchc_lib.indicators import GROUP_OVERALL, INDICATORS
from cchc_lib.periods import Period
from cchc_lib.publish import charts
from cchc_lib.publish.fragments import render
from cchc_lib.publish.jobs import slug

MAX_BARS = 25  # a breakdown chart shows at most this many groups (the worst ones)

# -- charts --------------------------------------------------------------------------------------


def _unit(indicator: str) -> str:
    return INDICATORS[indicator].unit


def _label(period_code: str) -> str:
    return Period.parse(period_code).short_label_vi


def trend_figure(rows: pd.DataFrame, selection: Selection) -> go.Figure:
    """One line per chosen indicator over the range, its target dashed; rates on a percentage
    axis, other units (minutes, days, counts) on a second axis when mixed with rates."""
    periods = [p.code for p in selection.periods()]
    x = [_label(p) for p in periods]
    units = {_unit(i) for i in selection.indicators}
    has_rate = "rate" in units
    fig = charts._base(f"{describe(selection)}", percent_axis=has_rate)
    fig.update_layout(height=420)
    for n, indicator in enumerate(selection.indicators):
        part = rows[rows["indicator"] == indicator].set_index("period").reindex(periods)
        rate = _unit(indicator) == "rate"
        axis = "y" if rate or not has_rate else "y2"
        color = charts.SERIES_COLORS[n % len(charts.SERIES_COLORS)]
        hover = "%{y:.1%}" if rate else "%{y:,.1f}"
        fig.add_trace(go.Scatter(
            x=x, y=part["value"].astype(float).tolist(), mode="lines+markers",
            name=INDICATORS[indicator].label_vi, line={"color": color, "width": 3}, yaxis=axis,
            hovertemplate=hover, connectgaps=False, meta=indicator,
        ))
        targets = part["target"].astype(float)
        if targets.notna().any():
            fig.add_trace(go.Scatter(
                x=x, y=targets.tolist(), mode="lines", name=f"Chỉ tiêu: {INDICATORS[indicator].label_vi}",
                line={"color": color, "dash": "dash", "width": 2}, yaxis=axis, hoverinfo="skip",
                meta=f"target:{indicator}",
            ))
    if has_rate and units != {"rate"}:
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "showgrid": False,
                                  "rangemode": "tozero"})
    return charts._empty_note(fig, bool(rows["value"].notna().any()))


def _group_name(group: str, by: str, names: dict[str, str]) -> str:
    if by == "procedure":
        return charts._shorten(f"{group} {names.get(group, '')}".strip(), 48)
    return charts._shorten(group, 48)


def breakdown_figure(rows: pd.DataFrame, selection: Selection, names: dict[str, str]) -> go.Figure:
    """Horizontal bars, one per group (the worst at the top, at most MAX_BARS), one colour per
    chosen indicator; the first indicator's target as a dashed line."""
    focus = selection.focus()
    title = (f"{INDICATORS[selection.indicator].label_vi} theo {breakdown_label(selection.by).lower()}"
             f" — {selection.label(focus)}" + (f" — {selection.department}" if selection.department else ""))
    rate = _unit(selection.indicator) == "rate"
    fig = charts._base(title, percent_axis=False)
    first = rows[rows["indicator"] == selection.indicator]
    groups = list(dict.fromkeys(first["group"].astype(str)))[:MAX_BARS]
    labels = [_group_name(g, selection.by, names) for g in groups]
    fig.update_layout(barmode="group", height=max(420, 120 + 34 * len(groups) * len(selection.indicators)),
                      hovermode="y unified", margin={"l": 320, "r": 130})
    for n, indicator in enumerate(selection.indicators):
        part = rows[rows["indicator"] == indicator].set_index("group").reindex(groups)
        is_rate = _unit(indicator) == "rate"
        # The value written at the end of each bar (a 0% bar is otherwise invisible), with its
        # counts for a rate: "56,3% (170/302)".
        text = [format_value(r.value, r.unit, indicator)
                + (f" ({fmt_number(r.numerator)}/{fmt_number(r.denominator)})"
                   if is_rate and not pd.isna(r.denominator) else "")
                if not pd.isna(r.value) else "" for r in part.itertuples()]
        fig.add_trace(go.Bar(
            y=[charts.plot_text(t) for t in labels], x=part["value"].astype(float).tolist(),
            orientation="h", name=INDICATORS[indicator].label_vi, meta=indicator,
            marker_color=charts.SERIES_COLORS[n % len(charts.SERIES_COLORS)],
            text=text, textposition="outside", cliponaxis=False,
            hovertemplate="%{x:.1%}" if is_rate else "%{x:,.1f}",
        ))
    target = first["target"].astype(float).dropna()
    if len(target) and groups:
        fig.add_vline(x=float(target.iloc[0]), line_dash="dash", line_color=charts.COLORS["target"],
                      annotation_text="Chỉ tiêu", annotation_position="top")
    fig.update_yaxes(autorange="reversed", ticksuffix="  ")
    if rate:
        fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    return charts._empty_note(fig, bool(first["value"].notna().any()))


def update_widget(widget: go.FigureWidget, figure: go.Figure) -> None:
    """Redraw a FigureWidget in place with another figure's traces and layout (one message each
    way to the browser, not a new widget)."""
    with widget.batch_update():
        widget.data = ()
        widget.layout = figure.layout
    widget.add_traces(list(figure.data))


# -- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # text | count | value | target | effect | datetime | days


def table_columns(kind: str, by: str) -> list[Column]:
    """The columns of a table the explorer shows and exports, with Vietnamese headers."""
    indicator_cols = [
        Column("label_vi", "Chỉ tiêu", "text"),
        Column("numerator", "Tử số", "count"),
        Column("denominator", "Mẫu số", "count"),
        Column("value", "Kết quả", "value"),
        Column("target", "Chỉ tiêu kế hoạch", "target"),
        Column("status", "Đánh giá", "text"),
    ]
    if kind == "trend":
        return [Column("period_vi", "Kỳ", "text"), *indicator_cols]
    if kind == "breakdown":
        return [Column("period_vi", "Kỳ", "text"), Column("group_vi", breakdown_label(by), "text"),
                *indicator_cols, Column("effect", "Ảnh hưởng đến kết quả chung", "effect")]
    if kind == "procedures":
        return [Column("group", "Mã TTHC", "text"), Column("procedure_name", "Tên thủ tục", "text"),
                *indicator_cols, Column("effect", "Ảnh hưởng đến kết quả của phòng", "effect")]
    if kind == "dossiers":
        return [Column("dossier_id", "Mã hồ sơ", "text"), Column("channel", "Kênh nộp", "text"),
                Column("received_at", "Ngày tiếp nhận", "datetime"),
                Column("due_at", "Ngày hẹn trả", "datetime"),
                Column("completed_at", "Ngày có kết quả", "datetime"),
                Column("timeliness_vi", "Tiến độ", "text"),
                Column("days_over", "Số ngày so với hạn (+ trễ, − sớm)", "days")]
    if kind == "comparison":
        unit_header = "Đơn vị" if by == "overall" else breakdown_label(by)
        return [Column("group_vi", unit_header, "text"), Column("label_vi", "Chỉ tiêu", "text"),
                Column("period_a_vi", "Kỳ phân tích", "text"), Column("value_a", "Kết quả", "value"),
                Column("numerator_a", "Tử số", "count"), Column("denominator_a", "Mẫu số", "count"),
                Column("period_b_vi", "Kỳ so sánh", "text"), Column("value_b", "Kết quả kỳ so sánh", "value"),
                Column("numerator_b", "Tử số kỳ so sánh", "count"),
                Column("denominator_b", "Mẫu số kỳ so sánh", "count"),
                Column("change", "Thay đổi", "effect")]
    raise ValueError(f"unknown table kind {kind!r}")


def prepare_table(rows: pd.DataFrame, kind: str, names: dict[str, str] | None = None,
                  department: str | None = None, window: str = "calendar") -> pd.DataFrame:
    """Add the Vietnamese text columns a table shows (period and group labels, timeliness).
    Under a department filter the engine's overall group is that department: named so. Under
    the nd09 window a period's label gives its data window's dates."""
    rows = rows.copy()

    def label(code: object) -> str:
        return Period.parse(str(code)).with_window(window).label_window_vi

    if "period" in rows:
        rows["period_vi"] = rows["period"].map(label)
    if "group" in rows:
        by = str(rows["group_by"].iloc[0]) if "group_by" in rows and len(rows) else ""
        names = names or {}
        rows["group_vi"] = rows["group"].map(
            lambda g: f"{g} {names.get(str(g), '')}".strip() if by == "procedure" else str(g))
        if department is not None:
            rows.loc[rows["group"] == GROUP_OVERALL, "group_vi"] = department
    if "timeliness" in rows:
        rows["timeliness_vi"] = rows["timeliness"].map(TIMELINESS_LABELS)
    if "period_a" in rows:
        rows["period_a_vi"] = rows["period_a"].map(label)
        rows["period_b_vi"] = rows["period_b"].map(label)
    return rows


@lru_cache(maxsize=65_536, typed=True)
def _formatted(fn: Callable[..., str], *args: Any) -> str:
    return fn(*args)


def _format(fn: Callable[..., str], *args: Any) -> str:
    """``fn(*args)``, remembered: a click redraws mostly the numbers of the one before, and
    Babel's number formatting is most of a table's time. A NaN (never equal to itself) or an
    unhashable value is formatted directly."""
    if any(isinstance(a, float) and a != a for a in args):
        return fn(*args)
    try:
        return _formatted(fn, *args)
    except TypeError:
        return fn(*args)


def _cell_text(column: Column, row: Mapping[str, Any]) -> str:
    value: Any = row.get(column.key)
    indicator = str(row.get("indicator", ""))
    unit = row.get("unit")
    if column.kind == "text":
        return "—" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if column.kind == "count":
        decimals = 0 if unit in ("rate", "count") or unit is None else 1
        return _format(fmt_number, None if pd.isna(value) else float(value), decimals)
    if column.kind in ("value", "target"):
        return _format(format_value, value, unit, indicator)
    if column.kind == "effect":
        return _format(format_change, value, unit, indicator)
    if column.kind == "datetime":
        return _format(fmt_datetime, None if pd.isna(value) else value)
    if column.kind == "days":
        return "—" if pd.isna(value) else _format(fmt_number, float(value), 1)
    raise ValueError(column.kind)


def table_html(rows: pd.DataFrame, columns: list[Column], caption: str = "", limit: int = 200) -> str:
    """A table for the screen, Vietnamese formats, data text escaped; at most ``limit`` rows."""
    css = {c.key: "" if c.kind == "text" else "num" for c in columns}
    # Rows as dicts, not Series (iterrows builds a Series per row: most of a click's table time).
    records = rows.head(limit).to_dict("records")
    body = [[(css[c.key], _cell_text(c, row)) for c in columns] for row in records]
    return render("explorer_table.html.j2", caption=caption, rows=body,
                  columns=[{"css": css[c.key], "header": c.header} for c in columns],
                  more=fmt_number(len(rows) - limit) if len(rows) > limit else "")




# -- exports ------------------------------------------------------------------------------------

def _excel_format(column: Column, unit: str | None) -> str | None:
    if column.kind == "count":
        return "#,##0" if unit in ("rate", "count", None) else "#,##0.0"
    if column.kind in ("value", "target"):
        formats = {"rate": "0.0%", "minutes": '#,##0.0" phút"', "days": '#,##0.0" ngày"'}
        return formats.get(unit or "", "#,##0")
    if column.kind == "effect":
        return {"rate": '+0.0" điểm %";-0.0" điểm %";0.0" điểm %"',
                "minutes": '+#,##0.0" phút";-#,##0.0" phút";0.0" phút"',
                "days": '+#,##0.0" ngày";-#,##0.0" ngày";0.0" ngày"'}.get(unit or "", "+#,##0;-#,##0;0")
    if column.kind == "datetime":
        return "dd/mm/yyyy hh:mm"
    if column.kind == "days":
        return "#,##0.0"
    return None


def _excel_value(column: Column, row: pd.Series) -> object:
    value = row.get(column.key)
    if column.kind == "text":
        return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if value is None or pd.isna(value):
        return None
    if column.kind == "datetime":
        return pd.Timestamp(value).to_pydatetime()
    if column.kind == "effect" and row.get("unit") == "rate":
        return float(value) * 100  # percentage points
    return float(value)


def write_excel(path: Path, sheets: list[tuple[str, pd.DataFrame, list[Column]]],
                about: list[tuple[str, str]]) -> Path:
    """An .xlsx with one sheet per table (Vietnamese headers, real numbers with number formats,
    so Excel shows 95,3% and 1.234 in a Vietnamese locale) and a sheet describing the choice."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from cchc_lib.safe_text import no_formulas

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F3F6FA")
    for title, rows, columns in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append([c.header for c in columns])
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for _, row in rows.iterrows():
            unit = row.get("unit")
            sheet.append([_excel_value(c, row) for c in columns])
            for c, cell in zip(columns, sheet[sheet.max_row], strict=True):
                fmt = _excel_format(c, unit if isinstance(unit, str) else None)
                if fmt and cell.value is not None:
                    cell.number_format = fmt
        for i, c in enumerate(columns, start=1):
            width = 48 if c.key in ("label_vi", "procedure_name", "group_vi") else 18
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = width
        sheet.freeze_panes = "A2"
    info = book.create_sheet("Lựa chọn")
    for key, value in about:
        info.append([key, value])
        info.cell(info.max_row, 1).font = bold
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 90
    no_formulas(book)  # a department or procedure named "=HYPERLINK(...)" stays text
    path = Path(path)
    with atomic_path(path, suffix=".xlsx") as tmp:
        book.save(tmp)
    return path


def selection_about(selection: Selection) -> list[tuple[str, str]]:
    """The choice behind an export, in Vietnamese (the workbook's 'Lựa chọn' sheet): the
    controls, the data window (with its dates) and the counting conventions."""
    periods = selection.periods()
    return [
        ("Chỉ tiêu", "; ".join(INDICATORS[i].label_vi for i in selection.indicators)),
        ("Chia theo", breakdown_label(selection.by)),
        ("Chu kỳ", GRANULARITY_LABELS[selection.granularity]),
        ("Khoảng thời gian", f"{periods[0].label_vi} – {periods[-1].label_vi}"),
        ("Kỳ phân tích", selection.label(selection.focus())),
        ("So sánh với", f"{COMPARE_LABELS[selection.compare]} ({selection.label(selection.other())})"),
        ("Phòng", selection.department or "Tất cả các phòng"),
        ("Thủ tục", selection.procedure or "—"),
        *conventions_about(selection),
        ("Nguồn số liệu", "cchc_lib.indicators (cùng bộ máy tính với lệnh cchc indicators)"),
    ]


def export_stem(selection: Selection, what: str) -> str:
    """A file name that says what the file holds, e.g.
    ``bang-ty-le-ho-so-nop-truc-tuyen-theo-phong-xu-ly-2023-03-toan-so``; under the nd09 window
    or counting conventions other than the project's defaults it says so at the end
    (``-ky-nd09``, ``-dung-han-theo-ngay``, ``-ho-so-rut-tinh-dung-han``, ``-khong-tinh-ho-so-rut``)."""
    focus = selection.focus()
    names = "-".join(slug(INDICATORS[i].label_vi) for i in selection.indicators[:3])
    if selection.by == "overall":
        periods = selection.periods()
        every = slug(GRANULARITY_LABELS[selection.granularity])
        span = f"theo-{every}-{periods[0].code}-den-{periods[-1].code}"
    else:
        span = f"theo-{slug(breakdown_label(selection.by))}-{focus.code}"
    who = slug(selection.department) if selection.department else "toan-so"
    return f"{what}-{names}-{span}-{who}{conventions_suffix(selection)}"


def conventions_suffix(selection: Selection) -> str:
    """What a file name adds for the window and conventions (nothing for calendar months, due
    instants and withdrawn dossiers by their dates: the project's defaults)."""
    c = selection.conventions
    parts = ["ky-nd09"] if c.window == "nd09" else []
    if c.timeliness != DEFAULT_CONVENTIONS.timeliness:
        parts.append("dung-han-theo-ngay")
    if c.withdrawn != DEFAULT_CONVENTIONS.withdrawn:
        parts.append({"on_time": "ho-so-rut-tinh-dung-han", "excluded": "khong-tinh-ho-so-rut"}[c.withdrawn])
    return "".join(f"-{p}" for p in parts)


def write_chart(figure: go.Figure, path_stem: Path, fmt: str = "png") -> Path:
    """The chart as PNG (plotly + kaleido, which drives the local Chrome/Chromium headless: no
    download, no network) or as a self-contained HTML page (plotly.js embedded, opens offline).
    A PNG that cannot be drawn (no Chrome on the machine) raises RuntimeError naming the HTML
    alternative."""
    figure = go.Figure(figure)
    if fmt == "html":
        path = Path(f"{path_stem}.html")
        html = figure.to_html(full_html=True, include_plotlyjs=True, include_mathjax=False,
                              config=charts.PLOT_CONFIG)
        return write_text_atomic(path, html)
    if fmt != "png":
        raise ValueError(f"unknown chart format {fmt!r}")
    path = Path(f"{path_stem}.png")
    try:
        image = figure.to_image(format="png", width=1200, height=int(figure.layout.height or 420), scale=1)
    except Exception as exc:  # kaleido missing, or no Chrome/Chromium to drive
        raise RuntimeError(
            f"Không xuất được PNG ({type(exc).__name__}: {exc}). Hãy xuất HTML thay thế.") from exc
    with atomic_path(path, suffix=".png") as tmp:
        tmp.write_bytes(image)
    return path
