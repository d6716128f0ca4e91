"""The reports' charts: one shared plotly look and one function per chart.

Every chart takes the tidy indicator frames of :mod:`cchc_lib.indicators` (columns ``period,
indicator, numerator, denominator, value, target, target_min ...``) and returns a plotly Figure.
:func:`show` puts a figure into a notebook as HTML. In a report run (the runner's kernels) the
figure only queues its drawing and :mod:`cchc_lib.publish.export` adds plotly.js to the page once,
compressed, so the executed notebook stays small; interactively (JupyterLab) plotly.js is embedded
with the first figure of the kernel and never again. Either way the page works offline (plotly's
own notebook renderers either drop out of nbconvert's HTML or load plotly.js from a CDN).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from cchc_lib.formatting import format_level
from cchc_lib.index766 import scores as ix
from cchc_lib.periods import Period
from cchc_lib.publish.export import defer_plot_script
from cchc_lib.targets import cite

# -- the shared look --------------------------------------------------------------------------

FONT_FAMILY = '"Be Vietnam Pro", "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif'
COLORS = {
    "primary": "#1f4e79",  # the department's navy
    "secondary": "#2e86ab",
    "accent": "#f18f01",
    "early": "#2e7d32",
    "on_day": "#81c784",
    "late": "#c62828",
    "target": "#6d4c41",
    "target_min": "#a1887f",
    "grid": "#e6e9ef",
    "text": "#1d2733",
    "muted": "#6b7785",
}
SERIES_COLORS = ["#1f4e79", "#2e86ab", "#f18f01", "#6a4c93", "#2e7d32", "#c62828", "#8d6e63"]
HEIGHT = 380
SEPARATORS = ",."  # Vietnamese: decimal comma, thousands dot (1.234,5; 95,3%)

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT_FAMILY, "size": 13, "color": COLORS["text"]},
        "title": {"font": {"size": 16, "color": COLORS["primary"]}, "x": 0, "xanchor": "left"},
        "separators": SEPARATORS,
        "colorway": SERIES_COLORS,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "height": HEIGHT,
        "margin": {"l": 60, "r": 30, "t": 60, "b": 60},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0},
        "hovermode": "x unified",
        "xaxis": {"showgrid": False, "linecolor": "#b0b8c4", "ticks": "outside", "automargin": True},
        "yaxis": {"gridcolor": COLORS["grid"], "zeroline": False, "automargin": True},
        "bargap": 0.25,
    }
)
pio.templates["cchc"] = TEMPLATE

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "locale": "vi"}

_plotlyjs_sent = False  # per kernel: has the first figure carried plotly.js?
PLOTLYJS_ENV = "CCHC_PLOTLYJS"  # "export": plotly.js is added at export (cchc_lib.publish.export)


def plot_text(text: object) -> str:
    """Data text made safe for plotly labels: plotly reads a subset of HTML in text, so
    markup in a procedure name must arrive as entities (plotly decodes them to plain text)."""
    return html.escape(str(text), quote=False)


def figure_html(fig: go.Figure, include_plotlyjs: bool) -> str:
    """The figure as an HTML fragment, with or without the embedded plotly.js bundle."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=include_plotlyjs,
        include_mathjax=False,
        config=PLOT_CONFIG,
        default_width="100%",
        default_height=f"{int(fig.layout.height or HEIGHT)}px",
    )


def plotlyjs_deferred() -> bool:
    """Whether charts leave plotly.js to the export (the report runner sets
    ``CCHC_PLOTLYJS=export`` in its kernels); otherwise, as in JupyterLab, the first chart of
    the kernel carries plotly.js itself."""
    return os.environ.get(PLOTLYJS_ENV, "").strip().lower() == "export"


def show(fig: go.Figure) -> None:
    """Display a figure in the running notebook. In a report run the figure waits for the
    plotly.js that :mod:`cchc_lib.publish.export` adds to the page once; interactively plotly.js travels
    with the first figure of the kernel only."""
    global _plotlyjs_sent
    from IPython.display import HTML, display

    if plotlyjs_deferred():
        display(HTML(defer_plot_script(figure_html(fig, include_plotlyjs=False))))
        return
    display(HTML(figure_html(fig, include_plotlyjs=not _plotlyjs_sent)))
    _plotlyjs_sent = True


# -- helpers ----------------------------------------------------------------------------------


def _month_label(code: object) -> str:
    try:
        return Period.parse(str(code)).short_label_vi
    except ValueError:
        return str(code)


def _pivot(monthly: pd.DataFrame, indicators: Iterable[str], column: str = "value") -> pd.DataFrame:
    """One row per month (in order), one column per indicator, each cell the first value given
    for that month and indicator; missing values stay NaN. (A loop over the few hundred rows of
    a report's months: pandas' pivot_table took 10 ms a chart.)"""
    names = list(indicators)
    months = list(dict.fromkeys(monthly["period"].astype(str))) if len(monthly) else []
    table = np.full((len(months), len(names)), np.nan)
    if months and names:
        row_of = {month: i for i, month in enumerate(months)}
        column_of = {name: j for j, name in enumerate(names)}
        values = pd.to_numeric(monthly[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for month, name, value in zip(monthly["period"].astype(str).tolist(),
                                      monthly["indicator"].tolist(), values.tolist(), strict=True):
            j = column_of.get(name)
            if j is not None and value == value and np.isnan(table[row_of[month], j]):
                table[row_of[month], j] = value
    return pd.DataFrame(table, index=pd.Index(months, dtype=object), columns=pd.Index(names, dtype=object))


def _target(frame: pd.DataFrame, indicator: str, column: str, default: float) -> float:
    """The plan's target for an indicator as the indicator frame carries it (else the default)."""
    if column not in frame.columns or not len(frame):
        return default
    values = pd.to_numeric(frame.loc[frame["indicator"] == indicator, column], errors="coerce").dropna()
    return float(values.iloc[0]) if len(values) else default


def _source(frame: pd.DataFrame, indicator: str, default: str) -> str:
    """The section of the plan a target comes from, as the indicator frame carries it (the
    profile's targets file), else ``default``."""
    if "target_source" not in frame.columns:
        return default
    values = frame.loc[frame["indicator"] == indicator, "target_source"].dropna().astype(str)
    return values.iloc[0].strip() if len(values) and values.iloc[0].strip() else default


def _target_trace(x: list[str], value: float, name: str, color: str, dash: str = "dash", **kw) -> go.Scatter:
    return go.Scatter(
        x=x, y=[value] * len(x), mode="lines", name=name, hoverinfo="skip",
        line={"color": color, "dash": dash, "width": 2}, **kw,
    )


def _empty_note(fig: go.Figure, has_data: bool, text: str = "Không có dữ liệu trong kỳ") -> go.Figure:
    if not has_data:
        fig.add_annotation(
            text=text, showarrow=False, xref="paper", yref="paper",
            x=0.5, y=0.5, font={"size": 15, "color": COLORS["muted"]},
        )
    return fig


# The layout make_subplots(specs=[[{"secondary_y": True}]]) gives (one plot area, a second y axis
# on the right), written out: make_subplots took 6 ms a figure, more than the rest of the chart.
_SECONDARY_Y_LAYOUT = {
    "xaxis": {"anchor": "y", "domain": [0.0, 0.94]},
    "yaxis": {"anchor": "x", "domain": [0.0, 1.0]},
    "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right"},
}


def _secondary_y_figure() -> go.Figure:
    return go.Figure().update_layout(_SECONDARY_Y_LAYOUT)  # as make_subplots builds it


def _add_on_axis(fig: go.Figure, trace: go.Bar | go.Scatter, secondary: bool) -> None:
    """Add the trace on the first or the second y axis, as make_subplots' add_trace does (the
    axes named after the trace's own properties)."""
    fig.add_trace(trace)
    fig.data[-1].update(xaxis="x", yaxis="y2" if secondary else "y")


def _base(title: str, percent_axis: bool = True) -> go.Figure:
    fig = go.Figure(layout={"template": TEMPLATE, "title": {"text": title}, "separators": SEPARATORS})
    if percent_axis:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def _rate_lines(
    monthly: pd.DataFrame, title: str, series: dict[str, str], targets: list[tuple[float, str, str]],
    upper: float = 1.0,
) -> go.Figure:
    table = _pivot(monthly, series)
    x = [_month_label(p) for p in table.index]
    fig = _base(title)
    for i, (indicator, name) in enumerate(series.items()):
        fig.add_trace(
            go.Scatter(
                x=x, y=table[indicator].tolist(), mode="lines+markers", name=name,
                line={"color": SERIES_COLORS[i % len(SERIES_COLORS)], "width": 3},
                hovertemplate="%{y:.1%}", connectgaps=False,
            )
        )
    for value, name, color in targets:
        fig.add_trace(_target_trace(x, value, name, color))
    fig.update_yaxes(range=[0, upper * 1.05])
    return _empty_note(fig, bool(table.notna().any().any()))


# -- the report's charts ----------------------------------------------------------------------


def _sources(frame: pd.DataFrame, indicator: str, default: tuple[str, str]) -> tuple[str, str]:
    """(source of the deciding figure, source of the other one) as the rows carry them
    (``target_source`` = "III.2; Biểu II.6" for a target the plan writes twice)."""
    if "target_source" not in frame.columns:
        return default
    values = frame.loc[frame["indicator"] == indicator, "target_source"].dropna().astype(str)
    parts = [p.strip() for p in values.iloc[0].split(";")] if len(values) else []
    return (parts[0], parts[1]) if len(parts) == 2 else default


def _level(value: float) -> str:
    return format_level(value, "rate")


def _figure_lines(frame: pd.DataFrame, indicator: str, defaults: tuple[float, float],
                  sources: tuple[str, str], what: str = "") -> list[tuple[float, str, str]]:
    """The two figures of a target the plan writes twice, each labelled with its section of
    the plan; the deciding one drawn in the target colour."""
    main = _target(frame, indicator, "target", defaults[0])
    other: float | None = _target(frame, indicator, "target_min", defaults[1])
    src_main, src_other = _sources(frame, indicator, sources)
    lines = [(main, f"{what}Theo {cite(src_main)}: {_level(main)} (dùng để đánh giá)", COLORS["target"])]
    if other is not None and other != main:
        lines.append((other, f"{what}Theo {cite(src_other)}: {_level(other)}", COLORS["target_min"]))
    return lines


def satisfaction_chart(monthly: pd.DataFrame) -> go.Figure:
    """Satisfaction by month against both of the plan's figures (95% text, 85% table)."""
    targets = _figure_lines(monthly, "satisfaction_rate", (0.95, 0.85), ("III.2", "Biểu II.6"))
    table = _pivot(monthly, ["satisfaction_rate"])
    floor = min([0.7, *(v for v in table["satisfaction_rate"].dropna())]) if len(table) else 0.7
    fig = _rate_lines(
        monthly, "Mức độ hài lòng theo tháng", {"satisfaction_rate": "Tỷ lệ hài lòng"}, targets
    )
    fig.update_yaxes(range=[max(0.0, math.floor(floor * 10) / 10 - 0.05), 1.02])
    return fig


def timeliness_chart(monthly: pd.DataFrame) -> go.Figure:
    """Resolved dossiers by month, stacked early / on the day / late, with the early rate vs 80%."""
    counts = _pivot(monthly, ["early_rate", "ontime_rate", "late_rate"], column="numerator")
    rates = _pivot(monthly, ["early_rate"])
    x = [_month_label(p) for p in counts.index]
    early = counts["early_rate"]
    on_day = counts["ontime_rate"] - counts["early_rate"]
    late = counts["late_rate"]
    fig = _secondary_y_figure()
    fig.update_layout(template=TEMPLATE, title={"text": "Tiến độ giải quyết hồ sơ theo tháng"},
                      barmode="stack", separators=SEPARATORS)
    for values, name, color in (
        (early, "Trước hạn", COLORS["early"]),
        (on_day, "Đúng hạn", COLORS["on_day"]),
        (late, "Quá hạn", COLORS["late"]),
    ):
        _add_on_axis(fig,
            go.Bar(x=x, y=values.tolist(), name=name, marker_color=color,
                   hovertemplate="%{y:,.0f} hồ sơ"),
            secondary=False,
        )
    target = _target(monthly, "early_rate", "target", 0.8)
    _add_on_axis(fig,
        go.Scatter(x=x, y=rates["early_rate"].tolist(), mode="lines+markers", name="Tỷ lệ trước hạn",
                   line={"color": COLORS["primary"], "width": 3}, hovertemplate="%{y:.1%}"),
        secondary=True,
    )
    label = f"Chỉ tiêu trước hạn ≥ {_level(target)} ({_source(monthly, 'early_rate', 'II.2')})"
    _add_on_axis(fig, _target_trace(x, target, label, COLORS["target"]), secondary=True)
    fig.layout.yaxis.update(title_text="Số hồ sơ đã giải quyết", tickformat=",.0f")
    fig.layout.yaxis2.update(title_text="Tỷ lệ trước hạn", tickformat=".0%", range=[0, 1.05], dtick=0.2,
                             showgrid=False)
    return _empty_note(fig, bool(counts.notna().any().any()))


def online_share_chart(monthly: pd.DataFrame) -> go.Figure:
    """Online dossiers by month: the plan's reading (resolved online / resolved, by completion
    date) against its 70%, and the receipt-based share (no target of its own)."""
    target = _target(monthly, "online_resolved_share", "target", 0.7)
    series = {"online_resolved_share": "Hồ sơ giải quyết theo DVCTT / hồ sơ giải quyết",
              "online_share": "Hồ sơ nộp trực tuyến / hồ sơ tiếp nhận"}
    if "online_resolved_share" not in set(monthly.get("indicator", ())):
        series.pop("online_resolved_share")
    return _rate_lines(
        monthly, "Hồ sơ trực tuyến theo tháng", series,
        [(target, f"Chỉ tiêu ≥ {_level(target)} "
                   f"({_source(monthly, 'online_resolved_share', 'III.2, Biểu II.8')})", COLORS["target"])],
    )


def payment_chart(monthly: pd.DataFrame) -> go.Figure:
    """Online payment: dossiers whose procedure takes online payment (60%) and paid online
    (10% in the plan's text, 15% in its table)."""
    enabled = _target(monthly, "payment_enabled_share", "target", 0.6)
    targets = [(enabled, f"Chỉ tiêu triển khai ≥ {_level(enabled)}", COLORS["target"])]
    paid = _figure_lines(monthly, "online_payment_share", (0.10, 0.15), ("III.2", "Biểu II.8"),
                         "Giao dịch: ")
    targets += [(v, n, COLORS["accent"] if i == 0 else c) for i, (v, n, c) in enumerate(paid)]
    return _rate_lines(
        monthly, "Thanh toán trực tuyến theo tháng",
        {
            "payment_enabled_share": "Hồ sơ có phí được triển khai thanh toán trực tuyến",
            "online_payment_share": "Hồ sơ thanh toán trực tuyến",
        },
        targets,
    )


def digitisation_chart(monthly: pd.DataFrame) -> go.Figure:
    """Digitised dossiers, electronic results and national-portal sync by month."""
    sync = _target(monthly, "synced_share", "target", 1.0)
    return _rate_lines(
        monthly, "Số hóa hồ sơ, kết quả điện tử và đồng bộ Cổng DVCQG",
        {
            "digitized_share": "Hồ sơ được số hóa",
            "electronic_result_share": "Kết quả điện tử",
            "synced_share": "Đồng bộ Cổng DVCQG",
        },
        [(sync, f"Chỉ tiêu đồng bộ {_level(sync)} ({_source(monthly, 'synced_share', 'Biểu II.3')})",
          COLORS["target"])],
    )


def wait_time_chart(monthly: pd.DataFrame) -> go.Figure:
    """Average waiting time at the one-stop counter by month against 25 minutes."""
    table = _pivot(monthly, ["avg_wait_minutes"])
    x = [_month_label(p) for p in table.index]
    target = _target(monthly, "avg_wait_minutes", "target", 25.0)
    fig = _base("Thời gian chờ trung bình tại Bộ phận Một cửa (phút)", percent_axis=False)
    fig.add_trace(go.Bar(x=x, y=table["avg_wait_minutes"].tolist(), name="Thời gian chờ trung bình",
                         marker_color=COLORS["secondary"], hovertemplate="%{y:,.1f} phút"))
    label = f"Tối đa {target:g} phút ({_source(monthly, 'avg_wait_minutes', 'Biểu II.6')})"
    fig.add_trace(_target_trace(x, target, label, COLORS["target"]))
    fig.update_yaxes(tickformat=",.0f", title_text="Phút", rangemode="tozero")
    return _empty_note(fig, bool(table.notna().any().any()))


DEPARTMENT_SERIES = {
    "ontime_rate": "Giải quyết đúng hạn",
    "online_share": "Nộp trực tuyến",
    "satisfaction_rate": "Hài lòng",
}


def departments_chart(by_department: pd.DataFrame) -> go.Figure:
    """Departments side by side on on-time, online and satisfaction rates."""
    rows = by_department[by_department["indicator"].isin(list(DEPARTMENT_SERIES))]
    table = rows.pivot_table(index="group", columns="indicator", values="value", aggfunc="first",
                             dropna=False) if len(rows) else pd.DataFrame()
    table = table.reindex(columns=list(DEPARTMENT_SERIES)).astype("float64").sort_index()
    fig = _base("So sánh giữa các phòng")
    fig.update_layout(barmode="group", height=max(HEIGHT, 110 + 70 * len(table)))
    names = [plot_text(_shorten(g, 34)) for g in table.index]
    for i, (indicator, name) in enumerate(DEPARTMENT_SERIES.items()):
        fig.add_trace(go.Bar(y=names, x=table[indicator].tolist(), name=name, orientation="h",
                             marker_color=SERIES_COLORS[i], hovertemplate="%{x:.1%}"))
    fig.update_layout(hovermode="y unified", margin={"l": 230})
    fig.update_xaxes(tickformat=".0%", range=[0, 1.02], showgrid=True, gridcolor=COLORS["grid"])
    fig.update_yaxes(autorange="reversed", tickformat=None)
    return _empty_note(fig, bool(table.notna().any().any()))


def pareto_chart(late: pd.DataFrame, top: int = 10) -> go.Figure:
    """The procedures behind late dossiers: counts (bars) and cumulative share (line).

    ``late`` has columns ``procedure`` (name), ``late`` (count), ``cumulative_share`` as
    :func:`cchc_lib.publish.report.late_procedures` returns them, largest first."""
    head = late.head(top)
    names = [plot_text(_shorten(n)) for n in head["procedure"]]
    fig = _secondary_y_figure()
    fig.update_layout(template=TEMPLATE, title={"text": "Thủ tục có hồ sơ quá hạn (biểu đồ Pareto)"},
                      height=HEIGHT + 80, margin={"b": 150}, separators=SEPARATORS)
    _add_on_axis(fig, go.Bar(x=names, y=head["late"].tolist(), name="Số hồ sơ quá hạn",
                                  marker_color=COLORS["late"], hovertemplate="%{y:,.0f} hồ sơ"),
                 secondary=False)
    _add_on_axis(fig, go.Scatter(x=names, y=head["cumulative_share"].tolist(), mode="lines+markers",
                                      name="Tỷ lệ cộng dồn", line={"color": COLORS["primary"], "width": 3},
                                      hovertemplate="%{y:.1%}"), secondary=True)
    _add_on_axis(fig, _target_trace(names, 0.8, "Mốc 80%", COLORS["muted"], dash="dot"),
                 secondary=True)
    fig.update_xaxes(tickangle=-30)
    # Whole dossiers: with few late ones plotly would tick at 0,5 and print "1, 1, 2, 2".
    small = bool(len(head)) and float(head["late"].max()) <= 10
    fig.layout.yaxis.update(title_text="Số hồ sơ quá hạn", tickformat=",.0f", rangemode="tozero",
                            dtick=1 if small else None)
    fig.layout.yaxis2.update(tickformat=".0%", range=[0, 1.05], dtick=0.2, showgrid=False)
    fig.update_layout(legend={"yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1})
    return _empty_note(fig, bool(len(head)), "Không có hồ sơ quá hạn trong kỳ")


def _shorten(name: object, width: int = 38) -> str:
    text = str(name)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# -- the national service index (Quyết định 766/QĐ-TTg) -------------------------------------------

# One colour per group, the same in every index chart; the estimated group is also hatched.
INDEX_GROUP_COLORS = {
    "TRANSPARENCY": "#1f4e79",
    "PROGRESS": "#2e86ab",
    "ONLINE_SERVICE": "#f18f01",
    "PAYMENT": "#6a4c93",
    "SATISFACTION": "#2e7d32",
    "DIGITIZATION": "#8d6e63",
}


def _score_label(value: float) -> str:
    """A total above a bar: ``77,7`` (one decimal is enough to read a chart)."""
    return f"{value:.1f}".replace(".", ",")


def _index_stack(fig: go.Figure, frame: pd.DataFrame, key: str, categories: list[str],
                 horizontal: bool = False) -> bool:
    """Add one bar per group, stacked, and the total as a labelled marker at the end of each
    stack. ``frame`` has group and TOTAL rows, ``key`` names the column of the categories.
    Returns whether anything was drawn."""
    drawn = False
    for group in ix.GROUPS:
        rows = frame[frame["metric"] == group.code].set_index(key)
        values = rows["score"].astype("float64").reindex(categories)
        maxima = [group.max_score] * len(categories)
        drawn = drawn or bool(values.notna().any())
        axis = {"y": [plot_text(c) for c in categories], "x": values.tolist(), "orientation": "h"} \
            if horizontal else {"x": [plot_text(c) for c in categories], "y": values.tolist()}
        value = "%{x:.2f}" if horizontal else "%{y:.2f}"
        color = INDEX_GROUP_COLORS[group.code]
        # Hatched (stripes over the group's colour) = an estimate.
        pattern = ({"shape": "/", "fillmode": "overlay", "fgcolor": "white", "fgopacity": 0.7,
                    "size": 8, "solidity": 0.25} if group.code in ix.ESTIMATE_GROUPS else {"shape": ""})
        fig.add_trace(go.Bar(
            **axis, name=plot_text(group.label_vi), customdata=maxima,
            marker={"color": color, "pattern": pattern},
            hovertemplate=f"{value}/%{{customdata:g}} điểm",
        ))
    total = frame[frame["metric"] == ix.TOTAL].set_index(key)
    scores = total["score"].astype("float64").reindex(categories)
    estimate = bool(total["estimate"].any()) if len(total) else False
    name = "Tổng điểm" + (f" ({ix.ESTIMATE_VI})" if estimate else "")
    text = [_score_label(v) if not pd.isna(v) else "" for v in scores]
    labels = [plot_text(c) for c in categories]
    fig.add_trace(go.Scatter(
        **({"y": labels, "x": scores.tolist(), "textposition": "middle right"} if horizontal
           else {"x": labels, "y": scores.tolist(), "textposition": "top center"}),
        mode="markers+text", text=text, name=plot_text(name),
        marker={"color": COLORS["text"], "size": 7, "symbol": "diamond"},
        textfont={"color": COLORS["text"], "size": 12},
        hovertemplate=("%{x:.2f}" if horizontal else "%{y:.2f}") + "/100 điểm",
    ))
    return drawn


def index_trend_chart(trend: pd.DataFrame) -> go.Figure:
    """The index by month (year to date): the six groups stacked, the total on top.

    ``trend`` is the ``trend`` frame of :func:`cchc_lib.index766.scores.index_section_frames` (group and
    TOTAL rows with ``period`` and ``label``)."""
    months = list(dict.fromkeys(trend["label"].astype(str))) if len(trend) else []
    fig = _base("Chỉ số phục vụ người dân, doanh nghiệp theo tháng (thang 100 điểm)",
                percent_axis=False)
    drawn = _index_stack(fig, trend.assign(label=trend["label"].astype(str)), "label", months)
    fig.update_layout(barmode="stack", height=HEIGHT + 60)
    fig.update_yaxes(range=[0, 108], dtick=20, tickformat=",.0f", title_text="Điểm")
    return _empty_note(fig, drawn)


def index_departments_chart(departments: pd.DataFrame, highlight: str | None = None) -> go.Figure:
    """Departments compared on the index: groups stacked per phòng, highest total first.
    ``highlight`` (the report's phòng) is marked with "▶" before its name."""
    totals = departments[departments["metric"] == ix.TOTAL]
    order = totals.sort_values(["score", "unit"], ascending=[False, True], kind="stable")["unit"]
    units = [str(u) for u in order]
    # The report's own phòng is marked in its axis label.
    short = {u: ("▶ " if u == highlight else "") + _shorten(u, 34) for u in units}
    frame = departments.assign(unit=departments["unit"].astype(str).map(short))
    fig = _base("So sánh chỉ số phục vụ giữa các phòng (thang 100 điểm)", percent_axis=False)
    drawn = _index_stack(fig, frame, "unit", [short[u] for u in units], horizontal=True)
    fig.update_layout(barmode="stack", hovermode="y unified", margin={"l": 230, "r": 50},
                      legend={"traceorder": "normal"},
                      height=max(HEIGHT, 150 + 60 * len(units)))
    fig.update_xaxes(range=[0, 108], dtick=20, tickformat=",.0f", showgrid=True,
                     gridcolor=COLORS["grid"])
    fig.update_yaxes(autorange="reversed", ticksuffix="  ")  # names clear of the bars
    return _empty_note(fig, drawn, "Không có phòng nào có hồ sơ trong kỳ")
