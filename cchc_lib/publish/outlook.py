"""The report's year-end outlook (:mod:`cchc_lib.projection` computes it): the table (HTML from
a template) and the chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cchc_lib.formatting import fmt_number, format_value, level_text
from cchc_lib.projection import STATUS_OFF_TRACK, STATUS_ON_TRACK
from cchc_lib.publish.charts import COLORS, SEPARATORS, TEMPLATE
from cchc_lib.publish.fragments import render


def projection_html(frame: pd.DataFrame) -> str:
    """The table: year to date, projection with its range, target, outlook."""
    rows = []
    for r in frame.to_dict("records"):
        unit = r["unit"]
        counts = "" if unit == "minutes" or np.isnan(r["ytd_denominator"]) else (
            f"{fmt_number(r['ytd_numerator'])}/{fmt_number(r['ytd_denominator'])}")
        rows.append({
            "label": r["label_vi"], "counts": counts,
            "ytd": "—" if np.isnan(r["ytd_value"]) else format_value(r["ytd_value"], unit),
            "point": "—" if np.isnan(r["projected"]) else format_value(r["projected"], unit),
            "band": ("—" if np.isnan(r["low"]) else f"{format_value(min(r['low'], r['high']), unit)} – "
                     f"{format_value(max(r['low'], r['high']), unit)}"),
            "target": level_text(r["op"], r["target"], unit),
            "css": {STATUS_ON_TRACK: "st-met", STATUS_OFF_TRACK: "st-missed"}.get(r["status"], "st-none"),
            "status": r["status"],
        })
    return render("projection.html.j2", rows=rows)



def projection_chart(frame: pd.DataFrame) -> go.Figure:
    """Each rate: year to date (circle), year-end projection (diamond) with its range (bar),
    and the target (tick)."""
    rates = frame[(frame["unit"] == "rate")] if len(frame) else frame
    fig = go.Figure(layout={"template": TEMPLATE, "separators": SEPARATORS,
                            "title": {"text": "Hướng tới cuối năm: từ đầu năm, dự báo và chỉ tiêu"}})
    if not len(rates):
        return fig
    labels = list(rates["label_vi"].astype(str))
    known = rates["low"].notna()
    fig.add_trace(go.Bar(
        orientation="h", y=[labels[i] for i in np.flatnonzero(known)],
        base=rates.loc[known, ["low", "high"]].min(axis=1),
        x=(rates.loc[known, "high"] - rates.loc[known, "low"]).abs(),
        name="Khoảng dự báo", marker_color=COLORS.get("target_min", "#a1887f"), opacity=0.35,
        hovertemplate="%{base:.1%} – %{x:.1%}<extra>Khoảng dự báo</extra>"))
    fig.add_trace(go.Scatter(x=rates["ytd_value"], y=labels, mode="markers", name="Từ đầu năm",
                             marker={"symbol": "circle", "size": 11, "color": COLORS["primary"]},
                             hovertemplate="%{x:.1%}<extra>Từ đầu năm</extra>"))
    fig.add_trace(go.Scatter(x=rates["projected"], y=labels, mode="markers", name="Dự báo cả năm",
                             marker={"symbol": "diamond", "size": 12, "color": COLORS["text"]},
                             hovertemplate="%{x:.1%}<extra>Dự báo cả năm</extra>"))
    fig.add_trace(go.Scatter(x=rates["target"], y=labels, mode="markers", name="Chỉ tiêu",
                             marker={"symbol": "line-ns-open", "size": 22, "line": {"width": 3},
                                     "color": COLORS["target"]},
                             hovertemplate="%{x:.0%}<extra>Chỉ tiêu</extra>"))
    fig.update_layout(barmode="overlay", height=max(320, 48 * len(labels) + 140),
                      yaxis={"autorange": "reversed", "title": None},
                      xaxis={"tickformat": ".0%", "range": [0, 1.05], "title": None})
    return fig
