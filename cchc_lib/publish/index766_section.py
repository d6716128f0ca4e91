"""The report's section on the national service index (Quyết định 766/QĐ-TTg): its frames for
the whole department or one phòng, the headline in Markdown, and the scores and levers tables
(HTML from templates). The scores themselves are :mod:`cchc_lib.index766.scores`'s."""

from __future__ import annotations

import pandas as pd

from cchc_lib import formatting as fmt
from cchc_lib.datacache import derived
from cchc_lib.formatting import fmt_number, fmt_percent, md_text
from cchc_lib.index766 import counts as ixc
from cchc_lib.index766 import scores as ix
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData
from cchc_lib.publish.batch_frames import shared_index_frames
from cchc_lib.publish.fragments import render

INDEX_TITLE = "Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg)"



def index_frames(data: ProcessedData, period: Period,
                 department: str | None = None) -> dict[str, pd.DataFrame]:
    """The frames of the report's national-index section (``scores``, ``summary``, ``trend``,
    ``departments``, ``levers``; see :func:`cchc_lib.index766.scores.index_section_frames`), for the
    whole department or, with ``department``, for that one phòng: its own scores, monthly trend
    and levers, while ``departments`` still compares every phòng. A phòng with no dossier in a
    period has no rows for it."""

    if not department:
        # In a batch: this period's frames, computed with the batch's other periods at once.
        return shared_index_frames(data, period, department) or ixc.index_section_frames(data, period)
    group_rows = [g.code for g in ix.GROUPS] + [ix.TOTAL]

    def own(counts: pd.DataFrame) -> pd.DataFrame:
        return counts[counts["unit"] == department].reset_index(drop=True)

    by_dept = ixc.counts_from_data(data, period, "department")
    counts = own(by_dept)
    scores = ix.score_from_counts(counts)
    trend = []
    for month in Period("year", period.year).months()[: period.first_month + period.n_months - 1]:
        def count(month: Period = month) -> pd.DataFrame:
            return ixc.counts_from_data(data, month, "department")

        month_counts = derived(data, ("index766-counts", month.code, "department"), count)
        s = ix.score_from_counts(own(month_counts))
        trend.append(s[s["metric"].isin(group_rows)].assign(period=month.code,
                                                            label=month.short_label_vi))
    departments = ix.score_from_counts(by_dept) if len(by_dept) else scores.iloc[0:0]
    return {
        "scores": scores,
        "summary": scores[scores["metric"].isin(group_rows)].reset_index(drop=True),
        "trend": pd.concat(trend, ignore_index=True),
        "departments": departments[departments["metric"].isin(group_rows)].reset_index(drop=True),
        "levers": ix.levers(counts, scores),
    }



def _score_text(score: object, max_score: object) -> str:
    """``17,5/20``; a component or group without input is "không có dữ liệu", never 0."""
    if score is None or pd.isna(score):
        return ix.NOT_AVAILABLE_VI
    return f"{fmt.fmt_score(score)}/{fmt.fmt_score(max_score)}"



def _index_label(metric: str, estimate: bool = False) -> str:
    """Vietnamese name of a group, component or the total; the estimated group already says
    "(ước tính)" in its name, the total says it when the estimate is part of it."""
    if metric == ix.TOTAL:
        return "Tổng điểm" + (f" ({ix.ESTIMATE_VI})" if estimate else "")
    if metric in ix.GROUP_BY_CODE:
        return ix.GROUP_BY_CODE[metric].label_vi
    return ix.COMPONENT_BY_CODE[metric].label_vi



def index_summary_markdown(frames: dict[str, pd.DataFrame], period: Period,
                           department: str | None = None) -> str:
    """The headline: the total for the period, the weakest group and the lever that gains most."""
    summary = frames["summary"]
    unit = md_text(department) if department else "toàn Sở"
    when = period.label_vi if period.kind == "quarter" else period.label_vi.lower()
    if summary.empty:
        return f"{unit[:1].upper()}{unit[1:]} không có hồ sơ nào trong {when}: chưa tính được chỉ số."
    total = summary[summary["metric"] == ix.TOTAL].iloc[0]
    parts = [
        f"**{_index_label(ix.TOTAL, bool(total['estimate']))} của {unit} trong {when}: "
        f"{_score_text(total['score'], total['max_score'])} điểm**"
        + (" (chưa gồm các thành phần không có dữ liệu)." if not total["complete"] else ".")
    ]
    groups = summary[(summary["metric"] != ix.TOTAL) & summary["available"]]
    if len(groups):
        share = (groups["score"] / groups["max_score"]).astype("float64")
        weakest = groups.loc[share.idxmin()]
        parts.append(
            f"Nhóm tiêu chí đạt tỷ lệ điểm thấp nhất: {_index_label(str(weakest['metric']))} "
            f"({_score_text(weakest['score'], weakest['max_score'])})."
        )
    levers = frames["levers"]
    top = levers[levers["points_gained"].fillna(0) > 0]
    if len(top):
        first = top.iloc[0]
        gain = fmt.fmt_score(first["points_gained"])
        note, action = (f", {ix.ESTIMATE_VI}" if first["estimate"] else ""), str(first["action"])
        # "(tăng 4,65 điểm)" joins an action's own parentheses instead of a second pair.
        action = f"{action[:-1]}; " if action.endswith(")") else f"{action} ("
        parts.append(f"Giải pháp tăng điểm nhiều nhất: {md_text(f'{action}tăng {gain} điểm{note})')}.")
    if department:
        parts.append(
            "Điểm của phòng tính trên hồ sơ do phòng giải quyết; phản ánh, kiến nghị được tính cho "
            "phòng giải quyết hồ sơ liên quan; thủ tục trong danh mục được tính cho mọi phòng đã "
            "giải quyết hồ sơ của thủ tục đó."
        )
    return " ".join(parts)



def index_scores_html(scores: pd.DataFrame) -> str:
    """The six groups with their components and the total: score as ``x/max``, the component's
    ratio and its counts. Groups in bold, the estimated group and total labelled "(ước tính)",
    components without input "không có dữ liệu"."""
    rows = []
    for rec in scores.to_dict("records"):
        metric = str(rec["metric"])
        kind = "total" if metric == ix.TOTAL else ("grp" if metric in ix.GROUP_BY_CODE else "comp")
        notes = []
        if kind != "comp" and rec["available"] and not rec["complete"]:
            notes.append("chưa tính các thành phần không có dữ liệu")
        if kind == "comp" and rec["estimate"]:
            notes.append(f"công thức {ix.ESTIMATE_VI}")
        comp = kind == "comp" and rec["available"]
        rows.append({
            "kind": kind, "label": _index_label(metric, bool(rec["estimate"])),
            "score": _score_text(rec["score"], rec["max_score"]),
            "ratio": fmt_percent(rec["ratio"]) if comp else "",
            "counts": f"{fmt_number(rec['numerator'])}/{fmt_number(rec['denominator'])}" if comp else "",
            "notes": "; ".join(notes),
        })
    return render("index766_scores.html.j2", rows=rows)



def index_levers_html(levers: pd.DataFrame) -> str:
    """For each component, points missing against its maximum, the points the group can still
    gain and what closes the gap in the unit's own terms, most points first; components without
    input last."""
    rows = []
    for rec in levers.to_dict("records"):
        available = bool(rec["available"])
        gained = rec["points_gained"]
        lever = available and gained > 0
        current, target = ix.NOT_AVAILABLE_VI, ""
        if available:
            current = (f"{fmt_number(rec['numerator'])}/{fmt_number(rec['denominator'])}"
                       f" ({fmt_percent(rec['numerator'] / rec['denominator'])})"
                       if rec["denominator"] else "0/0")
            if lever and not pd.isna(rec["target_ratio"]):
                target = f"đủ điểm khi đạt {fmt_percent(rec['target_ratio'])}"
        estimate = f" ({ix.ESTIMATE_VI})" if rec["estimate"] and lever else ""
        rows.append({
            "lever": lever, "label": rec["label"], "group": _index_label(str(rec["group"])),
            "score": _score_text(rec["score"], rec["max_score"]),
            "missing": fmt.fmt_score(rec["points_missing"]) if available else "—",
            "gained": fmt.fmt_score(gained) + estimate if available else "—",
            "current": current, "target": target, "action": rec["action"],
        })
    return render("index766_levers.html.j2", rows=rows)
