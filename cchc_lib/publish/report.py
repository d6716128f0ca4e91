"""What a period report shows: :func:`prepare_report` computes every table and series once
(a :class:`ReportContext`), and the helpers the report notebook calls
(``cchc_lib/publish/notebooks/report.ipynb``) turn them into Markdown (data text escaped with
:func:`cchc_lib.formatting.md_text`) or HTML (from the templates, autoescaped). A report judged
before its period's end (``--as-of``) recomputes the context with :func:`as_of_context`.

Running the notebook is :mod:`cchc_lib.publish.jobs` / :mod:`cchc_lib.publish.runner`; the
national-index section is :mod:`cchc_lib.publish.index766_section`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from cchc_lib import datacache, manual_figures, plan
from cchc_lib import formatting as fmt
from cchc_lib.asof_daily import as_of_data
from cchc_lib.config import profile
from cchc_lib.conventions import as_conventions, conventions_line_vi
from cchc_lib.datacache import derived, load_processed
from cchc_lib.dossier_source import dossier_columns, last_procedure_names, receipt_range
from cchc_lib.form06 import FORM06_COLUMNS, footnotes, form06_table, period_line
from cchc_lib.formatting import fmt_count, fmt_date, fmt_datetime, fmt_number, fmt_percent, md_text
from cchc_lib.indicators import COLUMNS, compute_indicators, dossier_measures, monthly_indicators
from cchc_lib.periods import Period
from cchc_lib.plan import as_of_instant
from cchc_lib.processed import ProcessedData
from cchc_lib.projection import as_of_view, indicators_as_of
from cchc_lib.publish.batch_frames import chart_window, late_measures, shared_frames
from cchc_lib.publish.fragments import render
from cchc_lib.publish.jobs import report_paths, report_title

# -- what the notebook shows ------------------------------------------------------------------


@dataclass
class ReportContext:
    """Everything one report shows, computed once by :func:`prepare_report`."""

    period: Period
    department: str | None
    data: ProcessedData
    indicators: pd.DataFrame
    monthly: pd.DataFrame
    by_department: pd.DataFrame
    late: pd.DataFrame
    form06: pd.DataFrame
    window: tuple[Period, Period]
    generated_at: pd.Timestamp = field(default_factory=pd.Timestamp.now)


def prepare_report(
    period: str | Period, processed_dir: str | Path, department: str | None = None,
    conventions: object = None,
) -> ReportContext:
    """Load the processed data and compute every table and series the report shows, under
    ``conventions`` (a Conventions or the dict of :func:`conventions_parameter`; None: the
    packaged defaults)."""
    period = period if isinstance(period, Period) else Period.parse(period)
    department = department or None
    data = load_processed(Path(processed_dir), as_conventions(conventions))  # read once per batch worker
    start, end = chart_window(period)
    # In a batch: this period's slice of the frames computed for the whole batch at once.
    frames = shared_frames(data, period, department) or {
        "indicators": compute_indicators(data, period, by="overall", department=department),
        "monthly": monthly_indicators(data, start, end, by="overall", department=department),
        "by_department": compute_indicators(data, period, by="department"),
        "late": _late_by_procedure(data, period, department),
    }
    return ReportContext(
        period=period,
        department=department,
        data=data,
        indicators=frames["indicators"],
        monthly=frames["monthly"],
        by_department=frames["by_department"],
        late=late_procedures(frames["late"], _procedure_names(data)),
        form06=form06_table(data, period, department=department),
        window=(start, end),
    )


def _late_by_procedure(data: ProcessedData, period: Period, department: str | None) -> pd.DataFrame:
    """What :func:`late_procedures` reads of ``compute_indicators(data, period, by="procedure",
    department=department)`` — the late_rate rows' group and numerator — straight from the
    engine's measures: the late dossiers per procedure, without the other indicators of the
    period, the previous one and last year's (a sixth of a report's indicator work)."""
    return late_measures(dossier_measures(data, [period], "procedure", department))


def _procedure_names(data: ProcessedData) -> dict[str, str]:
    """Procedure code -> name, from the dossiers (latest name wins) then the catalogue; the
    same for every report of a data read, so worked out once per read in a batch worker."""
    return derived(data, ("procedure names",), lambda: _read_procedure_names(data))


def _read_procedure_names(data: ProcessedData) -> dict[str, str]:
    names: dict[str, str] = {}
    frame = getattr(data, "procedures", None)
    if frame is not None and len(frame) and "procedure_name" in frame.columns:
        pairs = frame[["procedure_code", "procedure_name"]].dropna().drop_duplicates("procedure_code",
                                                                                    keep="last")
        names.update(zip(pairs["procedure_code"].astype(str), pairs["procedure_name"].astype(str),
                         strict=True))
    names.update(last_procedure_names(data))  # two columns of the dossiers, grouped in pyarrow
    return names


def late_procedures(by_procedure: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Late dossiers per procedure, largest first, with each one's share and the cumulative share.

    ``by_procedure`` is ``compute_indicators(..., by="procedure")``; the late count of a procedure
    is its ``late_rate`` numerator. ``group`` may be a code or a name; codes are named via
    ``names``. Columns: ``procedure, code, late, share, cumulative_share``."""
    rows = by_procedure[by_procedure["indicator"] == "late_rate"]
    late = pd.to_numeric(rows["numerator"], errors="coerce").fillna(0)
    groups = rows["group"].astype(str)
    frame = pd.DataFrame({"code": groups.to_numpy(), "late": late.to_numpy()})
    frame = frame[frame["late"] > 0]
    frame = frame.sort_values(["late", "code"], ascending=[False, True], kind="stable").reset_index(
        drop=True)
    names = names or {}
    frame["procedure"] = frame["code"].map(lambda c: names.get(c, c))
    total = frame["late"].sum()
    frame["share"] = frame["late"] / total if total else 0.0
    frame["cumulative_share"] = frame["share"].cumsum()
    return frame[["procedure", "code", "late", "share", "cumulative_share"]]


def coverage(data: ProcessedData) -> dict[str, Any]:
    """Dossiers in the processed data, their received-date range and the rows rejected at ingest
    (never-received registrations are not dossiers the agency handled: left out here too). The
    same for every report of a data read: worked out once per read in a batch worker."""
    return derived(data, ("coverage",), lambda: _coverage(data))


def _coverage(data: ProcessedData) -> dict[str, Any]:
    count, first, last = receipt_range(data)  # two columns streamed, not every dossier
    report = getattr(data, "ingest_report", None) or {}
    return {
        "dossiers": count,
        "first_received": first,
        "last_received": last,
        "rows_rejected": _rejected(report),
    }


def _rejected(report: dict[str, Any]) -> int | None:
    """Total rejected rows from ingest_report.json (``total`` or ``totals`` block)."""
    for key in ("total", "totals"):
        block = report.get(key)
        if isinstance(block, dict) and "rows_rejected" in block:
            return int(block["rows_rejected"])
    if "rows_rejected" in report:
        return int(report["rows_rejected"])
    return None


def header_markdown(ctx: ReportContext) -> str:
    """Title, unit, data coverage and date of generation."""
    cov = coverage(ctx.data)
    unit = f"**Đơn vị:** {md_text(ctx.department)}" if ctx.department else "**Phạm vi:** toàn Sở"
    rejected = (
        f"; {fmt_number(cov['rows_rejected'])} dòng bị loại khi nhập dữ liệu (chi tiết trong rejects.csv)"
        if cov["rows_rejected"] is not None else ""
    )
    start, end = ctx.window
    own = ""
    if ctx.department:
        # The coverage (and the rejects) are the whole Sở's; say how much of it is the unit's.
        dossiers = dossier_columns(ctx.data, ("department",))
        count = int((dossiers["department"] == ctx.department).sum()) if len(dossiers) else 0
        own = f" của toàn Sở, trong đó {fmt_count(count)} do {md_text(ctx.department)} xử lý"
    outside = ""
    first, last = cov["first_received"], cov["last_received"]
    conventions = getattr(ctx.data, "conventions", None)
    window = conventions.window if conventions is not None else "calendar"
    shown = ctx.period.with_window(window)
    if first is not None and last is not None and (
        shown.start > pd.Timestamp(last) or shown.end <= pd.Timestamp(first)
    ):
        # An unattended run for a month the exports do not reach yet must say so, not just
        # show a page of "Không phát sinh".
        outside = (
            f"\n\n> **Lưu ý:** kỳ báo cáo nằm ngoài khoảng thời gian của dữ liệu đã nhập "
            f"({fmt_date(first)} – {fmt_date(last)}): hãy bổ sung tệp xuất dữ liệu của kỳ này "
            f"vào data/raw/dossiers/ rồi chạy lại."
        )
    return "\n\n".join([
        f"# {md_text(report_title(ctx.period))}",
        f"{unit} · **Kỳ báo cáo:** {ctx.period.label_vi} "
        f"({'số liệu từ ' if window != 'calendar' else ''}{fmt_date(shown.start)} – "
        f"{fmt_date(shown.last_day)})",
        f"**Dữ liệu:** {fmt_count(cov['dossiers'])}{own}, tiếp nhận từ {fmt_date(cov['first_received'])} "
        f"đến {fmt_date(cov['last_received'])}{rejected}.{outside}",
        f"**Ngày lập báo cáo:** {fmt_datetime(ctx.generated_at)}. Các biểu đồ theo tháng trình bày "
        f"12 tháng từ {start.label_vi} đến {end.label_vi}.",
        *([md_text(conventions_line_vi(conventions))] if conventions is not None else []),
    ])


def indicator_value(frame: pd.DataFrame, indicator: str, column: str = "value") -> float | None:
    """One overall value (or ``column``) of ``indicator`` in an indicator frame; None when absent."""
    rows = frame[(frame["indicator"] == indicator)]
    if not len(rows) or column not in rows.columns:
        return None
    value = pd.to_numeric(rows[column], errors="coerce").iloc[0]
    return None if pd.isna(value) else float(value)


def summary_markdown(ctx: ReportContext) -> str:
    """A few sentences on the period: dossiers received and resolved, targets met."""
    df = ctx.indicators
    received = indicator_value(df, "online_share", "denominator")
    resolved = indicator_value(df, "ontime_rate", "denominator")
    statuses = df["status"].fillna("").astype(str)
    met, missed = int((statuses == "Đạt").sum()), int((statuses == "Chưa đạt").sum())
    parts = [
        f"Trong {ctx.period.label_vi.lower() if ctx.period.kind != 'quarter' else ctx.period.label_vi}, "
        f"{md_text(ctx.department or 'Sở')} đã tiếp nhận {fmt_count(received or 0)} và giải quyết "
        f"{fmt_count(resolved or 0)}; "
        f"tỷ lệ giải quyết đúng hạn {fmt_percent(indicator_value(df, 'ontime_rate'))}, "
        "giải quyết theo dịch vụ công trực tuyến "
        f"{fmt_percent(indicator_value(df, 'online_resolved_share'))}, "
        f"mức độ hài lòng {fmt_percent(indicator_value(df, 'satisfaction_rate'))}.",
        f"Có **{met}** chỉ tiêu đạt và **{missed}** chỉ tiêu chưa đạt so với "
        f"Kế hoạch {profile().plan_number}.",
    ]
    if missed:
        names = df.loc[statuses == "Chưa đạt", "label_vi"].astype(str).tolist()
        parts.append("Chỉ tiêu chưa đạt: " + "; ".join(md_text(n) for n in names) + ".")
    return " ".join(parts)


def scorecard_lead() -> str:
    """The sentence above the scorecard: which plan (the profile's) the targets come from."""
    agency = profile()
    return (f"Kết quả từng chỉ tiêu của Kế hoạch số {md_text(agency.plan_number)} ngày "
            f"{md_text(agency.plan_date)} trong kỳ báo cáo, so với kỳ trước và cùng kỳ năm trước. "
            "Tỷ lệ thay đổi được tính bằng điểm phần trăm.")


def format_value(indicator: str, value: object, unit: object = None) -> str:
    """An indicator's value the Vietnamese way (:func:`cchc_lib.formatting.format_value`)."""
    return fmt.format_value(value, unit, indicator)


def format_change(indicator: str, change: object, unit: object = None) -> str:
    """A change against an earlier period (:func:`cchc_lib.formatting.format_change`)."""
    return fmt.format_change(change, unit, indicator)


def status_legend_html() -> str:
    """The key to the scorecard's status column: each status as the same coloured badge the
    table uses (an HTML block, because Markdown would empty inline spans), with what it means."""
    items = [(status, fmt.status_class(status), meaning) for status, meaning in fmt.STATUS_LEGEND]
    return render("status_legend.html.j2", items=items)


def scorecard_html(indicators: pd.DataFrame) -> str:
    """Every indicator of the period as an HTML table: value, target(s), status in colour,
    change against the previous period and the same period last year. All data text escaped."""
    rows = []
    for row in indicators.to_dict("records"):
        ind = str(row["indicator"])
        status = "" if row.get("status") is None or pd.isna(row.get("status")) else str(row["status"])
        source = row.get("target_source")
        target = fmt.target_text(row)
        num, den = row.get("numerator"), row.get("denominator")
        percent = fmt.value_unit(row.get("unit"), ind) == "rate"
        rows.append({
            "label": row.get("label_vi") or ind,
            "value": format_value(ind, row.get("value"), row.get("unit")),
            "value_notes": ([f"{fmt_number(num)}/{fmt_number(den)}"]
                            if percent and not pd.isna(num) and not pd.isna(den) else []),
            "target": target,
            # The engine's target text usually names its source already; add it only when not.
            "source": source if isinstance(source, str) and source.strip() and source not in target else "",
            "css": fmt.status_class(status), "status": status, "no_status": "—", "status_notes": [],
            "change_prev": format_change(ind, row.get("change_prev"), row.get("unit")),
            "change_yoy": format_change(ind, row.get("change_yoy"), row.get("unit")),
        })
    return render("scorecard.html.j2", rows=rows, changes=True)


def late_table_html(late: pd.DataFrame, top: int = 10) -> str:
    """The procedures with late dossiers as a table under the Pareto chart."""
    rows = [{"procedure": r["procedure"], "code": r["code"], "late": fmt_number(r["late"]),
             "share": fmt_percent(r["share"]), "cumulative_share": fmt_percent(r["cumulative_share"])}
            for r in late.head(top).to_dict("records")]
    return render("late_table.html.j2", rows=rows)


def form06_html(form06: pd.DataFrame, period: Period | None = None) -> str:
    """Biểu 06/VPCP/KSTT as HTML in the official layout: two-level headers, column numbers
    (1)-(13), rows by field and the total row (in bold). With ``period``, the form's period line
    (with its data window) above it; footnotes (empty (4)/(5)) below it."""
    names = [name for name, _, _ in FORM06_COLUMNS]
    rows = [{"stt": record["stt"] or "", "field": record["field"],
             "cells": ["" if pd.isna(record[n]) else fmt_number(record[n]) for n in names[2:]]}
            for record in form06.reindex(columns=names).to_dict("records")]
    return render(
        "form06.html.j2", rows=rows, numbers=[number for _, number, _ in FORM06_COLUMNS],
        period_line=period_line(period, form06.attrs.get("window")) if period is not None else "",
        notes=footnotes(form06),
    )


# -- a period report as of a date ---------------------------------------------------------------


def as_of_context(ctx: ReportContext, as_of: object) -> ReportContext:
    """A period report's context recomputed as of a date: the scorecard is the period to that
    date (a year: 2023-YTD, compared with last year at the same date), the charts, Biểu 06 and
    the index read the data as it stood then.

    That data (``ctx.data`` afterwards, which the notebook's later cells read: the national
    index, the other plan targets, the year-end outlook) is the day-level aggregate cut at the
    end of the date (:func:`cchc_lib.asof_daily.as_of_data`: no dossier read), or, where the
    aggregate cannot say (an instant inside a day, no aggregate, one written before its as-of
    columns, a received dossier without a receipt date), the view of the
    dossiers (:func:`as_of_context_from_dossiers`, the same numbers)."""
    at = as_of_instant(as_of)
    data = as_of_data(ctx.data, at)
    if data is None:
        return as_of_context_from_dossiers(ctx, as_of)
    return _as_of_tables(ctx, data, at)


def as_of_context_from_dossiers(ctx: ReportContext, as_of: object) -> ReportContext:
    """:func:`as_of_context` from the view of every dossier (``projection.as_of_view``): its
    fallback, and the reference the tests hold the aggregate's path equal to (the code as it
    was before the aggregate answered)."""
    at = as_of_instant(as_of)
    full, period, department = ctx.data, ctx.period, ctx.department
    view = as_of_view(full, at)
    start, end = ctx.window
    by_procedure = indicators_as_of(full, period, at, by="procedure", department=department)
    return replace(
        ctx, data=view,
        indicators=indicators_as_of(full, period, at, department=department),
        monthly=monthly_indicators(view, start, end, department=department),
        by_department=indicators_as_of(full, period, at, by="department"),
        late=late_procedures(by_procedure, _procedure_names(full)),
        form06=form06_table(view, period, department=department),
    )


def _as_of_tables(ctx: ReportContext, data: ProcessedData, at: pd.Timestamp) -> ReportContext:
    """The context's tables from ``data``, the whole data as it stood at ``at`` from the
    aggregate; the scorecard and the comparisons are the period to that date
    (``indicators_as_of``), the late table its late dossiers per procedure."""
    full, period, department = ctx.data, ctx.period, ctx.department
    start, end = ctx.window
    # The period to the date, or the whole period once it is over (indicators_as_of's rule);
    # to the date, ``data`` is the whole data cut there, already made.
    over = at >= period.end - pd.Timedelta(microseconds=1)
    to_date = full if over else data
    # Late dossiers per procedure: the engine's measures of the data at the date (its groups the
    # view's, as compute_indicators names them); once over, the period's own indicators.
    late = (indicators_as_of(full, period, at, by="procedure", department=department) if over
            else _late_by_procedure(data, period, department))
    late["group"] = late["group"].astype(object)
    return replace(
        ctx, data=data,
        indicators=indicators_as_of(to_date, period, at, department=department),
        monthly=monthly_indicators(data, start, end, department=department),
        by_department=indicators_as_of(to_date, period, at, by="department"),
        late=late_procedures(late, _procedure_names(full)),
        form06=form06_table(data, period, department=department),
    )


def as_of_note(period: Period, as_of: object) -> str:
    """The line under a report's header when it is judged before the period's end."""
    at = as_of_instant(as_of)
    if at >= period.end - pd.Timedelta(microseconds=1):
        return ""
    return (f"> **Số liệu tính đến hết ngày {fmt_date(at)}** ({period.label_vi} chưa kết thúc): "
            f"các chỉ tiêu tính từ {fmt_date(period.start)} đến hết ngày {fmt_date(at)}; hồ sơ "
            f"đang giải quyết và quá hạn tính tại ngày đó; so sánh cùng kỳ với cùng ngày năm trước.")


def as_of_paths(period: Period, out_dir: Path, department: str | None, as_of: object) -> tuple[Path, Path]:
    """``reports/2023/bao-cao-2023-den-2023-06-15.html`` (+ .ipynb): never the period's own."""
    html, nb = report_paths(period, out_dir, department)
    suffix = f"-den-{as_of_instant(as_of):%Y-%m-%d}"
    return html.with_name(html.stem + suffix + html.suffix), nb.with_name(nb.stem + suffix + nb.suffix)


def other_plan_targets(data: ProcessedData, period: Period, processed_dir: str | Path,
                       as_of: object = None) -> pd.DataFrame:
    """Every plan target beyond the dossier engine's, for a period report: the other plan
    targets (documents, work files, staff, petitions, tasks) and the targets above, for the
    whole Sở, with the engine's columns."""
    inputs = datacache.load_plan_inputs(processed_dir)  # read once per batch worker
    rows = plan.plan_indicators(data, period, inputs, as_of=as_of)
    extra = manual_figures.extra_indicators(period, data.procedures, inputs.staff,
                                            datacache.load_manual_figures(processed_dir))
    return pd.concat([rows, extra[COLUMNS]], ignore_index=True)
