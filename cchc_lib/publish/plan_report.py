"""The plan report: is Kế hoạch CCHC on track? One page, area by area.

``publish/notebooks/plan.ipynb`` calls the content helpers here (``prepare_plan_report``,
``off_track_markdown``, ``area_html``, ``timeline_chart`` ...); ``render_plan_report`` runs it
through the reports module's papermill + nbconvert runner (same HTML standards as the period
reports) into ``<out>/ke-hoach-<year>/bao-cao-ke-hoach-<year>[-<as-of>].html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from cchc_lib import formatting as fmt
from cchc_lib import indicators, manual_figures, plan
from cchc_lib.config import PLAN_NOTEBOOK, profile
from cchc_lib.conventions import DEFAULT, Conventions, as_conventions, as_parameter, conventions_line_vi
from cchc_lib.formatting import fmt_date, fmt_datetime, fmt_number, md_text
from cchc_lib.periods import Period
from cchc_lib.processed import MissingDataError, load_processed
from cchc_lib.projection import indicators_as_of
from cchc_lib.publish.charts import COLORS, plot_text
from cchc_lib.publish.fragments import render
from cchc_lib.publish.jobs import plan_key, report_job
from cchc_lib.publish.runner import ReportJob, ReportResult, run_one
from cchc_lib.schema import conform
from cchc_lib.targets import cite, load_targets

PLAN_TITLE = "Báo cáo tình hình thực hiện Kế hoạch cải cách hành chính"

STATE_CLASS = {
    plan.DONE_ONTIME: "st-met",
    plan.DONE_LATE: "st-missed",
    plan.OVERDUE: "st-missed",
    plan.IN_PROGRESS: "st-none",
    plan.NOT_DUE: "st-plain",
}
STATE_COLORS = {
    plan.DONE_ONTIME: "#2e7d32",
    plan.DONE_LATE: "#f18f01",
    plan.OVERDUE: "#c62828",
    plan.IN_PROGRESS: "#2e86ab",
    plan.NOT_DUE: "#9aa5b1",
}


@dataclass
class PlanReportContext:
    """Everything the plan report shows, computed once."""

    year: int
    as_of: pd.Timestamp
    indicators: pd.DataFrame  # dossier + catalogue + other plan targets, overall
    tasks: pd.DataFrame  # plan tasks with their states as of ``as_of``
    tasks_reported: bool  # False: no state was reported (the shipped table only)
    sources: dict[str, bool]  # which optional inputs were present
    plan_name: str = ""
    generated_at: pd.Timestamp = field(default_factory=pd.Timestamp.now)
    conventions: Conventions | None = None  # the conventions the dossier numbers follow

    @property
    def period(self) -> Period:
        return Period.parse(str(self.year))


def default_as_of(year: int, today: pd.Timestamp | None = None) -> pd.Timestamp:
    """The end of the plan year, or today while the year is still running."""
    today = pd.Timestamp.now() if today is None else pd.Timestamp(today)
    end = pd.Timestamp(year=year, month=12, day=31)
    return plan.as_of_instant(min(today.normalize(), end))


def prepare_plan_report(year: int, as_of: object, processed_dir: str | Path,
                        conventions: object = None) -> PlanReportContext:
    """Load the processed data and compute the plan's targets and task states (dossier numbers
    under ``conventions``: a Conventions, its dict as a notebook parameter, or None)."""

    conventions = as_conventions(conventions) or DEFAULT
    year = int(year)
    period = Period.parse(str(year))
    at = default_as_of(year) if as_of in (None, "") else plan.as_of_instant(as_of)
    inputs = plan.load_plan_inputs(processed_dir)
    try:
        data = load_processed(Path(processed_dir), conventions)
        # Judged at the same date as the tasks: the year to that date (2023-YTD) before its end.
        dossier_rows = indicators_as_of(data, period, at)
    except MissingDataError:
        data, dossier_rows = None, pd.DataFrame(columns=indicators.COLUMNS)
    other = plan.plan_indicators(data, period, inputs, as_of=at)
    extra = manual_figures.extra_indicators(period, None if data is None else data.procedures,
                                            inputs.staff, manual_figures.load_manual_figures(processed_dir))
    all_rows = pd.concat([f for f in (dossier_rows, other, extra) if len(f)], ignore_index=True)

    tasks = inputs.plan_tasks
    reported = tasks is not None and bool(tasks["task_state"].notna().any())
    if tasks is None or not len(tasks):
        try:
            tasks = plan.shipped_plan_tasks(year)
        except FileNotFoundError:
            tasks = conform(pd.DataFrame(), "plan_tasks")
    states = plan.task_states(tasks, at, period, plan.plan_issued(year)) if len(tasks) else tasks
    if len(states):  # as of that date, a later completion and its document did not exist yet
        later = (states["completed_at"] > at).to_numpy()
        states.loc[later, "completed_at"] = pd.NaT
        states.loc[later, "result_document"] = pd.NA
    order = {s: i for i, s in enumerate(plan.SECTION_TITLES)}
    if len(states):
        states = states.assign(_s=states["section"].map(order).fillna(99)).sort_values(
            ["_s", "task_no"]).drop(columns="_s").reset_index(drop=True)
    sources = {t: getattr(inputs, t) is not None for t in plan.PLAN_TABLES}
    sources["dossiers"] = data is not None
    return PlanReportContext(year, at, all_rows, states, reported, sources,
                             load_targets(year).plan, conventions=conventions)


# -- text ---------------------------------------------------------------------------------------


def plan_title(year: int, as_of: pd.Timestamp) -> str:
    return f"{PLAN_TITLE} năm {year} — tính đến ngày {fmt_date(as_of)} — {profile().name}"


def _value_text(row: dict) -> str:
    return fmt.format_value(row.get("value"), row.get("unit"), row.get("indicator"))


def _short(text: object, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def header_markdown(ctx: PlanReportContext) -> str:
    names = {"dossiers": "hồ sơ TTHC", "documents": "sổ văn bản đi/đến", "workfiles": "hồ sơ công việc",
             "staff": "danh sách công chức", "feedback": "phản ánh, kiến nghị",
             "plan_tasks": "tiến độ nhiệm vụ (plan_tasks.csv)"}
    have = [n for k, n in names.items() if ctx.sources.get(k)]
    missing = [n for k, n in names.items() if not ctx.sources.get(k)]
    lines = [
        f"# {md_text(plan_title(ctx.year, ctx.as_of))}",
        f"**Kế hoạch:** {md_text(ctx.plan_name or f'Kế hoạch cải cách hành chính năm {ctx.year}')} · "
        f"**Tính đến:** hết ngày {fmt_date(ctx.as_of)}",
        f"**Dữ liệu có:** {', '.join(have) if have else 'không có'}."
        + (f" **Chưa có:** {', '.join(missing)} (các chỉ tiêu liên quan ghi «Chưa có dữ liệu»)."
           if missing else ""),
        f"**Ngày lập báo cáo:** {fmt_datetime(ctx.generated_at)}.",
    ]
    if ctx.conventions is not None:
        lines.append(md_text(conventions_line_vi(ctx.conventions)))
    return "\n\n".join(lines)


def _indicator_line(row: dict) -> str:
    counts = ""
    if not pd.isna(row.get("denominator")) and row.get("unit") == "rate":
        counts = f" ({fmt_number(row['numerator'])}/{fmt_number(row['denominator'])})"
    return (f"**{md_text(row['label_vi'])}:** {md_text(_value_text(row))}{counts}; "
            f"chỉ tiêu {md_text(row.get('target_text_vi') or '—')}")


def _task_line(row: dict) -> str:
    name = f"Nhiệm vụ {row['section']}.{row['task_no']} «{md_text(_short(row['content'], 80))}»"
    lead = md_text(row["lead_unit"]) if not pd.isna(row["lead_unit"]) else "—"
    if row["deadline_kind"] != plan.KIND_DATED:
        when = "thực hiện thường xuyên"
    else:
        when = f"hạn {md_text(row['deadline_text'])}"
    if row["state_vi"] == plan.DONE_LATE:
        return (f"{name} ({lead} chủ trì, {when}): hoàn thành ngày {fmt_date(row['completed_at'])}, "
                f"**quá hạn {fmt_number(row['days_late'])} ngày**.")
    if row["deadline_kind"] != plan.KIND_DATED:
        return (f"{name} ({lead} chủ trì, {when}): **chưa có báo cáo đã triển khai thực hiện "
                f"trong kỳ**.")
    if _due_that_day(row):
        return f"{name} ({lead} chủ trì, {when}): **chưa hoàn thành**, {_late_note(row)}."
    late = f", đã quá hạn {fmt_number(row['days_late'])} ngày" if row["days_late"] else ""
    return f"{name} ({lead} chủ trì, {when}): **chưa hoàn thành**{late}."


def _due_that_day(row: dict) -> bool:
    """An open task judged overdue on the very day it fell due (0 days late)."""
    return (row["state_vi"] == plan.OVERDUE and not pd.isna(row["days_late"])
            and int(row["days_late"]) == 0)


def _late_note(row: dict) -> str:
    """How late a late or overdue task is, in words. An open task due on the day the plan is
    judged is not "quá hạn 0 ngày": it fell due that day and is not done."""
    if _due_that_day(row):
        return f"đến hạn đúng ngày {fmt_date(row['due_at'])}"
    return f"quá hạn {fmt_number(row['days_late'])} ngày"


def _section_of(indicator: str) -> str:
    for section, ids in plan.AREA_INDICATORS.items():
        if indicator in ids:
            return section
    return "II"  # every other indicator of the engine is about dossiers and procedures


def off_track(ctx: PlanReportContext) -> dict[str, pd.DataFrame]:
    """What is off track: missed targets, overdue tasks, late tasks, indicators without data."""
    ind = ctx.indicators
    status = ind["status"].fillna("").astype(str)
    tasks = ctx.tasks
    state = tasks["state_vi"] if len(tasks) else pd.Series(dtype="string")
    none = tasks.iloc[0:0]
    return {
        "missed": ind[status == indicators.STATUS_NOT_MET],
        "no_data": ind[status == indicators.STATUS_NO_DATA],
        "overdue": tasks[(state == plan.OVERDUE).to_numpy()] if ctx.tasks_reported else none,
        "late": tasks[(state == plan.DONE_LATE).to_numpy()] if ctx.tasks_reported else none,
    }


def _count_phrase(count: int, what: str) -> str:
    """"**3** hoàn thành đúng hạn"; none is said in words: "không có nhiệm vụ chưa hoàn thành"."""
    return f"**{count}** {what}" if count else f"không có nhiệm vụ {what}"


STANDING_DONE = "Đã triển khai thực hiện trong kỳ"


def state_text(row: dict) -> str:
    """A task's state for people: a standing task ("Thường xuyên") reported done in the period
    "đã triển khai thực hiện trong kỳ" (it is never finished once and for all)."""
    state = str(row["state_vi"])
    if row.get("deadline_kind") == plan.KIND_RECURRING and state == plan.DONE_ONTIME:
        return STANDING_DONE
    return state


def off_track_markdown(ctx: PlanReportContext) -> str:
    """The short list first: what is missed, overdue or late, area by area, in plain Vietnamese."""
    found = off_track(ctx)
    status = ctx.indicators["status"].fillna("").astype(str)
    met = int((status == indicators.STATUS_MET).sum())
    missed = int((status == indicators.STATUS_NOT_MET).sum())
    head = f"Tính đến hết ngày {fmt_date(ctx.as_of)}: **{met}** chỉ tiêu đạt, **{missed}** chỉ tiêu chưa đạt."
    tasks = ctx.tasks
    if ctx.tasks_reported and len(tasks):
        due = tasks[tasks["due_at"] <= ctx.as_of]
        ontime = int((due["state_vi"] == plan.DONE_ONTIME).sum())
        head += (f" Trong {len(due)} nhiệm vụ đã đến hạn: "
                 + ", ".join(_count_phrase(n, what) for n, what in (
                     (ontime, "hoàn thành đúng hạn"), (len(found["late"]), "hoàn thành quá hạn"),
                     (len(found["overdue"]), "chưa hoàn thành"))) + ".")
        open_ = int(tasks["state_vi"].isin([plan.NOT_DUE, plan.IN_PROGRESS]).sum())
        if open_:
            head += f" {open_} nhiệm vụ đang thực hiện hoặc chưa đến hạn."
    else:
        head += (" Chưa có báo cáo tiến độ các nhiệm vụ của Biểu kế hoạch chi tiết "
                 "(tệp plan_tasks.csv chưa điền trạng thái).")
    parts = [head]
    lines: dict[str, list[str]] = {s: [] for s in plan.SECTION_TITLES}
    for row in found["missed"].to_dict("records"):
        lines.setdefault(_section_of(str(row["indicator"])), []).append(f"- {_indicator_line(row)}.")
    for frame in (found["overdue"], found["late"]):
        for row in frame.to_dict("records"):
            lines.setdefault(str(row["section"]), []).append(f"- {_task_line(row)}")
    if any(lines.values()):
        parts.append("**Chỉ tiêu chưa đạt, nhiệm vụ chưa hoàn thành hoặc hoàn thành quá hạn, "
                     "theo từng lĩnh vực:**")
        for section, items in lines.items():
            if items:
                title = plan.SECTION_TITLES.get(section, section)
                parts.append(f"**{md_text(section)}. {md_text(title)}**\n\n" + "\n".join(items))
    else:
        parts.append("Không có chỉ tiêu chưa đạt và không có nhiệm vụ quá hạn.")
    if len(found["no_data"]):
        names = "; ".join(md_text(n) for n in found["no_data"]["label_vi"].astype(str))
        parts.append(f"**Chưa có dữ liệu để đánh giá:** {names}.")
    return "\n\n".join(parts)


# -- tables -------------------------------------------------------------------------------------


def other_figure_label(row: dict) -> str:
    """"Theo Biểu II.6" for the figure that did not decide the status (the row's
    ``target_source`` is "<deciding source>; <other source>")."""
    parts = [p.strip() for p in str(row.get("target_source") or "").split(";")]
    return f"Theo {cite(parts[1])}" if len(parts) == 2 and parts[1] else "Theo mức còn lại"


def targets_html(rows: pd.DataFrame) -> str:
    """The targets of one area: value (with its counts), the plan's target(s), status."""
    body = []
    for row in rows.to_dict("records"):
        value_notes = []
        if row.get("unit") == "rate" and not pd.isna(row.get("denominator")):
            value_notes.append(f"{fmt_number(row['numerator'])}/{fmt_number(row['denominator'])}")
        where = row.get("figure_source")
        if isinstance(where, str) and where:
            value_notes.append(where)
        status = "" if pd.isna(row.get("status")) else str(row.get("status") or "")
        status_min = "" if pd.isna(row.get("status_min")) else str(row.get("status_min") or "")
        status_notes = []
        if status_min and not pd.isna(row.get("target_min")) and status_min != status:
            status_notes.append(f"{other_figure_label(row)}: {status_min}")
        body.append({
            "label": row.get("label_vi") or row["indicator"], "value": _value_text(row),
            "value_notes": value_notes, "target": row.get("target_text_vi") or "—",
            "source": row.get("target_source") or "", "css": fmt.status_class(status),
            "status": status, "no_status": "Không đánh giá", "status_notes": status_notes,
        })
    return render("scorecard.html.j2", rows=body, changes=False)


def tasks_html(tasks: pd.DataFrame, reported: bool = True) -> str:
    """The tasks with their deadline and state."""
    rows = []
    for row in tasks.to_dict("records"):
        late = ""
        if reported and row["state_vi"] in (plan.DONE_LATE, plan.OVERDUE) and not pd.isna(row["days_late"]):
            late = _late_note(row)
        note, done = row.get("deadline_note"), row["completed_at"]
        rows.append({
            "section": row["section"], "task_no": row["task_no"], "content": row["content"],
            "product": row["product"], "lead_unit": row["lead_unit"], "deadline": row["deadline_text"],
            "deadline_note": "" if note is None or pd.isna(note) else str(note),
            "state": state_text(row) if reported else "Chưa có báo cáo",
            "css": STATE_CLASS.get(str(row["state_vi"]), "st-nodata") if reported else "st-nodata",
            "late": late, "done": None if pd.isna(done) else fmt_date(done),
            "result_document": row["result_document"],
        })
    return render("plan_tasks.html.j2", rows=rows)


def area_summary(ctx: PlanReportContext, section: str) -> str:
    """One line for an area: targets met / missed and tasks by state."""
    rows = ctx.indicators[ctx.indicators["indicator"].isin(plan.AREA_INDICATORS.get(section, ()))]
    status = rows["status"].fillna("").astype(str)
    bits = []
    if len(rows):
        bits.append(f"{int((status == indicators.STATUS_MET).sum())}/{len(rows)} chỉ tiêu đạt")
        if (status == indicators.STATUS_NOT_MET).any():
            bits.append(f"{int((status == indicators.STATUS_NOT_MET).sum())} chưa đạt")
    tasks = ctx.tasks[ctx.tasks["section"] == section] if len(ctx.tasks) else ctx.tasks
    if ctx.tasks_reported and len(tasks):
        counts = pd.Series([state_text(r) for r in tasks.to_dict("records")]).value_counts()
        bits.append(f"{len(tasks)} nhiệm vụ: " + ", ".join(
            f"{int(counts[s])} {s.lower()}" for s in (*plan.TASK_STATES_VI, STANDING_DONE)
            if s in counts.index))
    elif len(tasks):
        bits.append(f"{len(tasks)} nhiệm vụ (chưa có báo cáo tiến độ)")
    return "; ".join(bits) + "."


def area_html(ctx: PlanReportContext, section: str) -> str:
    """One area of the plan: its title, summary, targets and tasks."""
    rows = ctx.indicators[ctx.indicators["indicator"].isin(plan.AREA_INDICATORS.get(section, ()))]
    order = {ind: i for i, ind in enumerate(plan.AREA_INDICATORS.get(section, ()))}
    rows = rows.assign(_o=rows["indicator"].map(order)).sort_values("_o")
    tasks = ctx.tasks[ctx.tasks["section"] == section] if len(ctx.tasks) else ctx.tasks
    return render("plan_area.html.j2", section=section, title=plan.SECTION_TITLES.get(section, section),
                  summary=area_summary(ctx, section),
                  targets=targets_html(rows) if len(rows) else "",
                  tasks=tasks_html(tasks, ctx.tasks_reported))


# -- timeline ------------------------------------------------------------------------------------


def timeline_frame(ctx: PlanReportContext) -> pd.DataFrame:
    """One bar per task: from the start of its window to its deadline, coloured by state."""
    tasks = ctx.tasks
    if not len(tasks):
        return pd.DataFrame(columns=["label", "start", "end", "state", "completed", "content"])
    period = ctx.period
    due = tasks["due_at"].dt.normalize()
    month_start = due.dt.to_period("M").dt.start_time
    start = month_start.where(month_start < period.start, period.start)
    state = tasks["state_vi"].astype(str) if ctx.tasks_reported else pd.Series(
        "Chưa có báo cáo", index=tasks.index)
    return pd.DataFrame({
        "label": tasks["section"].astype(str) + "." + tasks["task_no"].astype(str),
        "start": start, "end": due + pd.Timedelta(days=1),
        "state": state, "completed": tasks["completed_at"],
        "content": tasks["content"].astype(str).map(lambda t: _short(t, 70)),
        "deadline": tasks["deadline_text"].astype(str),
    })


def timeline_chart(ctx: PlanReportContext) -> go.Figure:
    """The tasks on a time axis: bars to the deadline, diamonds at completion, a line at as-of."""
    frame = timeline_frame(ctx)
    fig = go.Figure()
    for state in [*plan.TASK_STATES_VI, "Chưa có báo cáo"]:
        part = frame[frame["state"] == state]
        if not len(part):
            continue
        fig.add_trace(go.Bar(
            orientation="h", y=part["label"], base=part["start"],
            x=(part["end"] - part["start"]).dt.total_seconds() * 1000,
            name=state, marker_color=STATE_COLORS.get(state, "#c8a24a"), opacity=0.85,
            customdata=list(zip(part["content"].map(plot_text), part["deadline"].map(plot_text),
                                strict=True)),
            hovertemplate="%{y}: %{customdata[0]}<br>Thời hạn: %{customdata[1]}<extra>" + state
                          + "</extra>",
        ))
    done = frame[frame["completed"].notna()]
    if len(done):
        fig.add_trace(go.Scatter(
            x=done["completed"], y=done["label"], mode="markers", name="Ngày hoàn thành",
            marker={"symbol": "diamond", "size": 10, "color": COLORS["text"]},
            hovertemplate="%{y}: hoàn thành %{x|%d/%m/%Y}<extra></extra>",
        ))
    as_of = ctx.as_of.normalize() + pd.Timedelta(days=1)
    fig.add_shape(type="line", x0=as_of, x1=as_of, yref="paper", y0=0, y1=1,
                  line={"color": COLORS["target"], "dash": "dash", "width": 2})
    fig.add_annotation(x=as_of, yref="paper", y=1.02, text=f"Ngày {fmt_date(ctx.as_of)}",
                       showarrow=False, font={"color": COLORS["target"]})
    fig.update_layout(
        template="cchc", barmode="overlay", height=max(360, 26 * len(frame) + 140),
        title="Tiến độ các nhiệm vụ của Biểu kế hoạch chi tiết",
        xaxis={"type": "date", "tickformat": "%m/%Y", "title": None},
        yaxis={"autorange": "reversed", "type": "category", "title": None,
               "categoryorder": "array", "categoryarray": list(frame["label"])},
        hovermode="closest",
    )
    return fig


# -- running ---------------------------------------------------------------------------------------


def plan_report_paths(year: int, out_dir: Path, as_of: object = None) -> tuple[Path, Path]:
    name = f"bao-cao-ke-hoach-{year}"
    if as_of not in (None, ""):
        name += f"-{plan.as_of_instant(as_of):%Y-%m-%d}"
    folder = Path(out_dir) / f"ke-hoach-{year}"
    return folder / f"{name}.html", folder / f"{name}.ipynb"


def plan_job(year: int, as_of: object, processed_dir: str | Path, out_dir: str | Path,
             conventions: object = None) -> ReportJob:
    """The runner's job for ``publish/notebooks/plan.ipynb`` (as_of None: the end of the plan year, or
    today while the year is running); results name it ``ke-hoach-<year>``."""
    year = int(year)
    at = default_as_of(year) if as_of in (None, "") else plan.as_of_instant(as_of)
    return report_job(
        Period.parse(str(year)), processed_dir, out_dir, None, notebook=PLAN_NOTEBOOK,
        extra_parameters={"year": year, "as_of": f"{at:%Y-%m-%d}",
                          **({"conventions": as_parameter(conventions)} if conventions is not None else {})},
        paths=plan_report_paths(year, Path(out_dir), as_of),
        title=plan_title(year, at), key=plan_key(year),
    )


def render_plan_report(year: int, as_of: object, processed_dir: str | Path, out_dir: str | Path,
                       conventions: object = None) -> ReportResult:
    """Execute ``publish/notebooks/plan.ipynb`` and publish it as self-contained HTML; the result
    is named by :func:`~cchc_lib.publish.jobs.plan_key` (``ke-hoach-<year>``), as in a batch."""
    return run_one(plan_job(year, as_of, processed_dir, out_dir, conventions))


