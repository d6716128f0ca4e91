"""Reports: what the report notebook shows, and running it (papermill) and publishing it (nbconvert).

Content helpers (``prepare_report``, ``header_markdown``, ``scorecard_html`` ...) are called by
``notebooks/report.ipynb``; they return Markdown/HTML strings with every piece of data text
escaped. ``render_batch`` and ``report_cli`` run that notebook through :mod:`cchc_lib.runner`
(papermill in one warm kernel per batch worker; the executed notebook is kept next to the HTML
as the record of the run) and :mod:`cchc_lib.export` publishes self-contained HTML (no code, no
prompts, no network; plotly.js added once, compressed).

Layout of the output folder (``--out``, default ``reports/``)::

    reports/index.html                      links to every report of a ``--year`` batch
    reports/2023-Q1/bao-cao-2023-Q1.html    the report
    reports/2023-Q1/bao-cao-2023-Q1.ipynb   the executed notebook (record of the run)

A report for one department adds the department's slug: ``bao-cao-2023-Q1-phong-dang-ky.html``.
"""

from __future__ import annotations

import html
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cchc_lib.atomic import write_text_atomic
from cchc_lib.conventions import as_conventions as _as_conventions
from cchc_lib.conventions import as_parameter as conventions_parameter  # noqa: F401 - the reports' API
from cchc_lib.conventions import conventions_line_vi
from cchc_lib.export import TEMPLATE_NAME, TEMPLATES_DIR, export_html, html_exporter  # noqa: F401
from cchc_lib.formatting import fmt_count, fmt_date, fmt_datetime, fmt_number, fmt_percent, fmt_points
from cchc_lib.periods import Period, periods_in_year

# The runner's names, here too for the callers that know them from this module.
from cchc_lib.runner import (  # noqa: F401
    AGENCY,
    EXECUTION_TIMEOUT,
    KERNEL_NAME,
    NOTEBOOKS_DIR,
    REPORT_NOTEBOOK,
    TITLE,
    ReportError,
    ReportResult,
    plan_key,
    render_report,
    report_job,
    report_paths,
    report_title,
    resolve_kernel,
    run_jobs,
    slug,
)

# How each indicator is written for people; anything else falls back on its ``unit``.
PERCENT_IDS = {
    "ontime_rate", "early_rate", "late_rate", "apology_rate", "online_resolved_share", "online_share",
    "payment_enabled_share", "online_payment_share", "satisfaction_rate", "synced_share",
    "digitized_share", "electronic_result_share", "full_online_coverage", "online_service_share",
    "national_integration_share", "published_share", "form_field_reduction",
}
UNIT_SUFFIX = {"avg_wait_minutes": " phút", "avg_processing_days": " ngày"}
PERCENT_UNITS = ("%", "rate", "percent", "ratio", "fraction")
COUNT_IDS = {"pending", "pending_overdue", "carried_over"}
STATUS_CLASS = {
    "Đạt": "st-met",
    "Chưa đạt": "st-missed",
    "Không phát sinh": "st-none",
    "Chưa có dữ liệu": "st-nodata",
}
KEY_INDICATORS = ("ontime_rate", "online_share", "satisfaction_rate")


# -- what the notebook shows ------------------------------------------------------------------


@dataclass
class ReportContext:
    """Everything one report shows, computed once by :func:`prepare_report`."""

    period: Period
    department: str | None
    data: object  # indicators.ProcessedData
    indicators: pd.DataFrame
    monthly: pd.DataFrame
    by_department: pd.DataFrame
    late: pd.DataFrame
    form06: pd.DataFrame
    window: tuple[Period, Period]
    generated_at: pd.Timestamp = field(default_factory=pd.Timestamp.now)


def chart_window(period: Period) -> tuple[Period, Period]:
    """The months the "by month" charts show: the 12 months ending with the period's last month.

    For a month that is the trailing year; for a quarter the year up to the quarter's end (an
    analyst reading Quý I wants the trend that led to it, never months after it); for a year its
    own 12 months."""
    last = period.months()[-1]
    return last.shift(-11), last


def prepare_report(
    period: str | Period, processed_dir: str | Path, department: str | None = None,
    conventions: object = None,
) -> ReportContext:
    """Load the processed data and compute every table and series the report shows, under
    ``conventions`` (a Conventions or the dict of :func:`conventions_parameter`; None: the
    packaged defaults)."""
    from cchc_lib.datacache import load_processed
    from cchc_lib.form06 import form06_table
    from cchc_lib.indicators import compute_indicators, monthly_indicators

    period = period if isinstance(period, Period) else Period.parse(period)
    department = department or None
    data = load_processed(Path(processed_dir), _as_conventions(conventions))  # read once per batch worker
    start, end = chart_window(period)
    return ReportContext(
        period=period,
        department=department,
        data=data,
        indicators=compute_indicators(data, period, by="overall", department=department),
        monthly=monthly_indicators(data, start, end, by="overall", department=department),
        by_department=compute_indicators(data, period, by="department"),
        late=late_procedures(compute_indicators(data, period, by="procedure", department=department),
                             _procedure_names(data)),
        form06=form06_table(data, period, department=department),
        window=(start, end),
    )


def _procedure_names(data: object) -> dict[str, str]:
    """Procedure code -> name, from the dossiers (latest name wins) then the catalogue."""
    names: dict[str, str] = {}
    for frame_name in ("procedures", "dossiers"):
        frame = getattr(data, frame_name, None)
        if frame is None or not len(frame) or "procedure_name" not in frame.columns:
            continue
        pairs = frame[["procedure_code", "procedure_name"]].dropna().drop_duplicates("procedure_code",
                                                                                    keep="last")
        names.update(zip(pairs["procedure_code"].astype(str), pairs["procedure_name"].astype(str),
                         strict=True))
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


def esc(value: object) -> str:
    """HTML-escape data text (``None``/NA as an em dash)."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return html.escape(str(value))


def _md_text(value: object) -> str:
    """Data text for Markdown: HTML-escaped and with Markdown's own markup characters neutralised."""
    return re.sub(r"([\\`*_\[\]#|])", r"\\\1", esc(value))


def coverage(data: object) -> dict:
    """Dossiers in the processed data, their received-date range and the rows rejected at ingest
    (never-received registrations are not dossiers the agency handled: left out here too)."""
    dossiers = data.dossiers
    if len(dossiers) and "status" in dossiers.columns:
        dossiers = dossiers[(dossiers["status"] != "not_received").to_numpy(dtype=bool, na_value=True)]
    received = dossiers["received_at"] if len(dossiers) else pd.Series(dtype="datetime64[ns]")
    report = getattr(data, "ingest_report", None) or {}
    return {
        "dossiers": int(len(dossiers)),
        "first_received": received.min() if len(received) else None,
        "last_received": received.max() if len(received) else None,
        "rows_rejected": _rejected(report),
    }


def _rejected(report: dict) -> int | None:
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
    unit = f"**Đơn vị:** {_md_text(ctx.department)}" if ctx.department else "**Phạm vi:** toàn Sở"
    rejected = (
        f"; {fmt_number(cov['rows_rejected'])} dòng bị loại khi nhập dữ liệu (chi tiết trong rejects.csv)"
        if cov["rows_rejected"] is not None else ""
    )
    start, end = ctx.window
    own = ""
    if ctx.department:
        # The coverage (and the rejects) are the whole Sở's; say how much of it is the unit's.
        dossiers = ctx.data.dossiers
        count = int((dossiers["department"] == ctx.department).sum()) if len(dossiers) else 0
        own = f" của toàn Sở, trong đó {fmt_count(count)} do {_md_text(ctx.department)} xử lý"
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
        f"# {_md_text(report_title(ctx.period))}",
        f"{unit} · **Kỳ báo cáo:** {ctx.period.label_vi} "
        f"({'số liệu từ ' if window != 'calendar' else ''}{fmt_date(shown.start)} – "
        f"{fmt_date(shown.last_day)})",
        f"**Dữ liệu:** {fmt_count(cov['dossiers'])}{own}, tiếp nhận từ {fmt_date(cov['first_received'])} "
        f"đến {fmt_date(cov['last_received'])}{rejected}.{outside}",
        f"**Ngày lập báo cáo:** {fmt_datetime(ctx.generated_at)}. Các biểu đồ theo tháng trình bày "
        f"12 tháng từ {start.label_vi} đến {end.label_vi}.",
        *([_md_text(conventions_line_vi(conventions))] if conventions is not None else []),
    ])


def _value(frame: pd.DataFrame, indicator: str, column: str = "value") -> float | None:
    rows = frame[(frame["indicator"] == indicator)]
    if not len(rows) or column not in rows.columns:
        return None
    value = pd.to_numeric(rows[column], errors="coerce").iloc[0]
    return None if pd.isna(value) else float(value)


def summary_markdown(ctx: ReportContext) -> str:
    """A few sentences on the period: dossiers received and resolved, targets met."""
    df = ctx.indicators
    received = _value(df, "online_share", "denominator")
    resolved = _value(df, "ontime_rate", "denominator")
    statuses = df["status"].fillna("").astype(str)
    met, missed = int((statuses == "Đạt").sum()), int((statuses == "Chưa đạt").sum())
    parts = [
        f"Trong {ctx.period.label_vi.lower() if ctx.period.kind != 'quarter' else ctx.period.label_vi}, "
        f"{_md_text(ctx.department or 'Sở')} đã tiếp nhận {fmt_count(received or 0)} và giải quyết "
        f"{fmt_count(resolved or 0)}; "
        f"tỷ lệ giải quyết đúng hạn {fmt_percent(_value(df, 'ontime_rate'))}, "
        f"giải quyết theo dịch vụ công trực tuyến {fmt_percent(_value(df, 'online_resolved_share'))}, "
        f"mức độ hài lòng {fmt_percent(_value(df, 'satisfaction_rate'))}.",
        f"Có **{met}** chỉ tiêu đạt và **{missed}** chỉ tiêu chưa đạt so với Kế hoạch 122/KH-SKH.",
    ]
    if missed:
        names = df.loc[statuses == "Chưa đạt", "label_vi"].astype(str).tolist()
        parts.append("Chỉ tiêu chưa đạt: " + "; ".join(_md_text(n) for n in names) + ".")
    return " ".join(parts)


def format_value(indicator: str, value: object, unit: object = None) -> str:
    """An indicator's value the Vietnamese way: 95,3%; 12,4 phút; 1.234."""
    if value is None or pd.isna(value):
        return "—"
    if indicator in UNIT_SUFFIX:
        return fmt_number(float(value), 1) + UNIT_SUFFIX[indicator]
    if indicator in COUNT_IDS:
        return fmt_number(float(value))
    if indicator in PERCENT_IDS or str(unit or "").strip().lower() in PERCENT_UNITS:
        return fmt_percent(float(value))
    return fmt_number(float(value), 1)


def format_change(indicator: str, change: object, unit: object = None) -> str:
    """A change: percentage points for rates, plain signed numbers otherwise."""
    if change is None or pd.isna(change):
        return "—"
    if indicator in PERCENT_IDS:
        return fmt_points(float(change))
    value = float(change)
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    decimals = 0 if indicator in COUNT_IDS else 1
    return f"{sign}{fmt_number(abs(value), decimals)}{UNIT_SUFFIX.get(indicator, '')}"


def _target_text(row: pd.Series) -> str:
    text = row.get("target_text_vi")
    if isinstance(text, str) and text.strip():
        return text
    target = row.get("target")
    if target is None or pd.isna(target):
        return "—"
    op = {">=": "≥ ", "<=": "≤ ", "==": ""}.get(str(row.get("target_op") or ""), "")
    return op + format_value(str(row["indicator"]), target, row.get("unit"))


STATUS_LEGEND = (
    ("Đạt", "đạt chỉ tiêu kế hoạch"),
    ("Chưa đạt", "chưa đạt chỉ tiêu"),
    ("Không phát sinh", "không có hồ sơ để tính"),
    ("Chưa có dữ liệu", "thiếu dữ liệu đầu vào"),
)


def status_legend_html() -> str:
    """The key to the scorecard's status column: each status as the same coloured badge the
    table uses (an HTML block, because Markdown would empty inline spans), with what it means."""
    items = "".join(
        f"<li><span class='status {STATUS_CLASS[status]}'>{esc(status)}</span> {esc(meaning)}</li>"
        for status, meaning in STATUS_LEGEND
    )
    return f"<ul class='status-legend'><li class='lead'>Đánh giá:</li>{items}</ul>"


def scorecard_html(indicators: pd.DataFrame) -> str:
    """Every indicator of the period as an HTML table: value, target(s), status in colour,
    change against the previous period and the same period last year. All data text escaped."""
    head = (
        "<thead><tr><th>Chỉ tiêu</th><th class='num'>Kết quả</th><th>Chỉ tiêu kế hoạch</th>"
        "<th>Đánh giá</th><th class='num'>So với kỳ trước</th>"
        "<th class='num'>So với cùng kỳ năm trước</th></tr></thead>"
    )
    body = []
    for row in indicators.to_dict("records"):
        row = pd.Series(row)
        ind = str(row["indicator"])
        status = "" if row.get("status") is None or pd.isna(row.get("status")) else str(row["status"])
        css = STATUS_CLASS.get(status, "st-plain")
        source = row.get("target_source")
        target_text = _target_text(row)
        # The engine's target text usually names its source already; add it only when not.
        source_html = (f"<div class='src'>{esc(source)}</div>"
                       if isinstance(source, str) and source.strip() and source not in target_text else "")
        counts = ""
        num, den = row.get("numerator"), row.get("denominator")
        if ind in PERCENT_IDS and not pd.isna(num) and not pd.isna(den):
            counts = f"<div class='src'>{fmt_number(num)}/{fmt_number(den)}</div>"
        body.append(
            f"<tr><td>{esc(row.get('label_vi') or ind)}</td>"
            f"<td class='num'>{esc(format_value(ind, row.get('value'), row.get('unit')))}{counts}</td>"
            f"<td>{esc(target_text)}{source_html}</td>"
            f"<td><span class='status {css}'>{esc(status) if status else '—'}</span></td>"
            f"<td class='num'>{esc(format_change(ind, row.get('change_prev'), row.get('unit')))}</td>"
            f"<td class='num'>{esc(format_change(ind, row.get('change_yoy'), row.get('unit')))}</td></tr>"
        )
    return f"<table class='cchc-table scorecard'>{head}<tbody>{''.join(body)}</tbody></table>"


def late_table_html(late: pd.DataFrame, top: int = 10) -> str:
    """The procedures with late dossiers as a table under the Pareto chart."""
    if not len(late):
        return "<p class='note'>Không có hồ sơ quá hạn trong kỳ.</p>"
    rows = "".join(
        f"<tr><td class='num'>{i}</td><td>{esc(r['procedure'])}</td><td>{esc(r['code'])}</td>"
        f"<td class='num'>{fmt_number(r['late'])}</td><td class='num'>{fmt_percent(r['share'])}</td>"
        f"<td class='num'>{fmt_percent(r['cumulative_share'])}</td></tr>"
        for i, r in enumerate(late.head(top).to_dict("records"), start=1)
    )
    return (
        "<table class='cchc-table late'><thead><tr><th class='num'>STT</th><th>Thủ tục hành chính</th>"
        "<th>Mã TTHC</th><th class='num'>Hồ sơ quá hạn</th><th class='num'>Tỷ trọng</th>"
        f"<th class='num'>Cộng dồn</th></tr></thead><tbody>{rows}</tbody></table>"
    )


FORM06_HEAD = (
    "<tr><th rowspan='3'>STT</th><th rowspan='3'>Lĩnh vực</th>"
    "<th colspan='4'>Số hồ sơ nhận giải quyết</th><th colspan='4'>Số hồ sơ đã giải quyết</th>"
    "<th colspan='3'>Số hồ sơ đang giải quyết</th></tr>"
    "<tr><th rowspan='2'>Tổng số</th><th colspan='2'>Trong kỳ</th><th rowspan='2'>Từ kỳ trước</th>"
    "<th rowspan='2'>Tổng số</th><th rowspan='2'>Trước hạn</th><th rowspan='2'>Đúng hạn</th>"
    "<th rowspan='2'>Quá hạn</th><th rowspan='2'>Tổng số</th><th rowspan='2'>Trong hạn</th>"
    "<th rowspan='2'>Quá hạn</th></tr>"
    "<tr><th>Trực tuyến</th><th>Trực tiếp, dịch vụ bưu chính</th></tr>"
)


def form06_html(form06: pd.DataFrame, period: Period | None = None) -> str:
    """Biểu 06/VPCP/KSTT as HTML in the official layout: two-level headers, column numbers
    (1)-(13), rows by field and the total row (in bold). With ``period``, the form's period line
    (with its data window) above it; footnotes (empty (4)/(5)) below it."""
    from cchc_lib.form06 import FORM06_COLUMNS, footnotes, period_line

    names = [name for name, _, _ in FORM06_COLUMNS]
    numbers = "".join(f"<th class='colno'>{esc(number)}</th>" for _, number, _ in FORM06_COLUMNS)
    rows = []
    for record in form06.reindex(columns=names).to_dict("records"):
        cells = [f"<td class='num'>{esc(record['stt'] or '')}</td>", f"<td>{esc(record['field'])}</td>"]
        cells += [f"<td class='num'>{'' if pd.isna(record[n]) else fmt_number(record[n])}</td>"
                  for n in names[2:]]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    line = (f"<p class='form06-period'>{esc(period_line(period, form06.attrs.get('window')))}</p>"
            if period is not None else "")
    notes = "".join(f"<p class='form06-note'>{esc(n)}</p>" for n in footnotes(form06))
    return (
        f"{line}<table class='cchc-table form06'><thead>{FORM06_HEAD}<tr>{numbers}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{notes}"
    )


# -- the national service index (Quyết định 766/QĐ-TTg) ----------------------------------------

INDEX_TITLE = "Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg)"


def index_frames(data: object, period: Period, department: str | None = None) -> dict[str, pd.DataFrame]:
    """The frames of the report's national-index section (``scores``, ``summary``, ``trend``,
    ``departments``, ``levers``; see :func:`cchc_lib.index766.index_section_frames`), for the
    whole department or, with ``department``, for that one phòng: its own scores, monthly trend
    and levers, while ``departments`` still compares every phòng. A phòng with no dossier in a
    period has no rows for it."""
    from cchc_lib import index766 as ix
    from cchc_lib.datacache import derived

    if not department:
        return ix.index_section_frames(data, period)
    group_rows = [g.code for g in ix.GROUPS] + [ix.TOTAL]

    def own(counts: pd.DataFrame) -> pd.DataFrame:
        return counts[counts["unit"] == department].reset_index(drop=True)

    by_dept = ix.counts_from_data(data, period, "department")
    counts = own(by_dept)
    scores = ix.score_from_counts(counts)
    trend = []
    for month in Period("year", period.year).months()[: period.first_month + period.n_months - 1]:
        month_counts = derived(data, ("index766-counts", month.code, "department"),
                               lambda month=month: ix.counts_from_data(data, month, "department"))
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
    from cchc_lib.index766 import NOT_AVAILABLE_VI, fmt_score

    if score is None or pd.isna(score):
        return NOT_AVAILABLE_VI
    return f"{fmt_score(score)}/{fmt_score(max_score)}"


def _index_label(metric: str, estimate: bool = False) -> str:
    """Vietnamese name of a group, component or the total; the estimated group already says
    "(ước tính)" in its name, the total says it when the estimate is part of it."""
    from cchc_lib import index766 as ix

    if metric == ix.TOTAL:
        return "Tổng điểm" + (f" ({ix.ESTIMATE_VI})" if estimate else "")
    if metric in ix.GROUP_BY_CODE:
        return ix.GROUP_BY_CODE[metric].label_vi
    return ix.COMPONENT_BY_CODE[metric].label_vi


def index_summary_markdown(frames: dict[str, pd.DataFrame], period: Period,
                           department: str | None = None) -> str:
    """The headline: the total for the period, the weakest group and the lever that gains most."""
    from cchc_lib import index766 as ix

    summary = frames["summary"]
    unit = _md_text(department) if department else "toàn Sở"
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
        gain = ix.fmt_score(first["points_gained"])
        note, action = (f", {ix.ESTIMATE_VI}" if first["estimate"] else ""), str(first["action"])
        # "(tăng 4,65 điểm)" joins an action's own parentheses instead of a second pair.
        action = f"{action[:-1]}; " if action.endswith(")") else f"{action} ("
        parts.append(f"Giải pháp tăng điểm nhiều nhất: {_md_text(f'{action}tăng {gain} điểm{note})')}.")
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
    from cchc_lib import index766 as ix

    head = ("<thead><tr><th>Nhóm tiêu chí / thành phần</th><th class='num'>Điểm</th>"
            "<th class='num'>Tỷ lệ</th><th class='num'>Số liệu (đạt/tổng)</th>"
            "<th>Ghi chú</th></tr></thead>")
    rows = []
    for rec in scores.to_dict("records"):
        metric = str(rec["metric"])
        kind = "total" if metric == ix.TOTAL else ("grp" if metric in ix.GROUP_BY_CODE else "comp")
        label = _index_label(metric, bool(rec["estimate"]))
        notes = []
        if kind != "comp" and rec["available"] and not rec["complete"]:
            notes.append("chưa tính các thành phần không có dữ liệu")
        if kind == "comp" and rec["estimate"]:
            notes.append(f"công thức {ix.ESTIMATE_VI}")
        comp = kind == "comp" and rec["available"]
        counts = f"{fmt_number(rec['numerator'])}/{fmt_number(rec['denominator'])}" if comp else ""
        rows.append(
            f"<tr class='{kind}'><td>{esc(label)}</td>"
            f"<td class='num'>{esc(_score_text(rec['score'], rec['max_score']))}</td>"
            f"<td class='num'>{fmt_percent(rec['ratio']) if comp else ''}</td>"
            f"<td class='num'>{counts}</td><td>{esc('; '.join(notes))}</td></tr>"
        )
    return f"<table class='cchc-table index766'>{head}<tbody>{''.join(rows)}</tbody></table>"


def index_levers_html(levers: pd.DataFrame) -> str:
    """For each component, points missing against its maximum, the points the group can still
    gain and what closes the gap in the unit's own terms, most points first; components without
    input last."""
    from cchc_lib import index766 as ix

    head = ("<thead><tr><th class='num'>TT</th><th>Thành phần (nhóm tiêu chí)</th>"
            "<th class='num'>Điểm hiện tại</th><th class='num'>Điểm còn thiếu</th>"
            "<th class='num'>Điểm tăng được</th><th>Hiện trạng</th><th>Việc cần làm</th>"
            "</tr></thead>")
    rows = []
    for i, rec in enumerate(levers.to_dict("records"), start=1):
        available = bool(rec["available"])
        gained = rec["points_gained"]
        lever = available and gained > 0
        if available:
            current = (f"{fmt_number(rec['numerator'])}/{fmt_number(rec['denominator'])}"
                       f" ({fmt_percent(rec['numerator'] / rec['denominator'])})"
                       if rec["denominator"] else "0/0")
            target = (f"<div class='src'>đủ điểm khi đạt {fmt_percent(rec['target_ratio'])}</div>"
                      if lever and not pd.isna(rec["target_ratio"]) else "")
        else:
            current, target = ix.NOT_AVAILABLE_VI, ""
        estimate = f" ({ix.ESTIMATE_VI})" if rec["estimate"] and lever else ""
        css = " class='lever'" if lever else ""
        rows.append(
            f"<tr{css}><td class='num'>{i}</td>"
            f"<td>{esc(rec['label'])}<div class='src'>{esc(_index_label(str(rec['group'])))}</div></td>"
            f"<td class='num'>{esc(_score_text(rec['score'], rec['max_score']))}</td>"
            f"<td class='num'>{esc(ix.fmt_score(rec['points_missing']) if available else '—')}</td>"
            f"<td class='num'>{esc(ix.fmt_score(gained) + estimate if available else '—')}</td>"
            f"<td class='num'>{esc(current)}{target}</td><td>{esc(rec['action'])}</td></tr>"
        )
    return f"<table class='cchc-table levers'>{head}<tbody>{''.join(rows)}</tbody></table>"


# -- running a batch --------------------------------------------------------------------------


def render_batch(
    periods: Sequence[Period | str],
    processed_dir: str | Path,
    out_dir: str | Path,
    department: str | None = None,
    *,
    jobs: int = 2,
    kernel_name: str | None = None,
    timeout: int = EXECUTION_TIMEOUT,
    progress: bool = True,
    notebook: str | Path = REPORT_NOTEBOOK,
    plan_year: int | None = None,
    conventions: object = None,
) -> list[ReportResult]:
    """Render many reports in ``jobs`` worker processes, each with one kernel for all its
    reports (:mod:`cchc_lib.runner`), with a progress bar; results in the order of ``periods``.
    With ``plan_year``, that year's plan report is rendered in the same pool and its result
    comes last (``period`` is :func:`plan_key`)."""
    from tqdm import tqdm

    extra = {"conventions": conventions_parameter(conventions)} if conventions is not None else None
    work = [report_job(p, processed_dir, out_dir, department, notebook=notebook, timeout=timeout,
                       extra_parameters=extra) for p in periods]
    if plan_year is not None:
        from cchc_lib.plan_report import plan_job

        # Started first, so that it does not run alone at the end of the batch; as_of None:
        # the end of the plan year, or today while the year is running.
        work.insert(0, plan_job(plan_year, None, processed_dir, out_dir, conventions=conventions))
    bar = tqdm(total=len(work), desc="Lập báo cáo", unit=" báo cáo", disable=not progress,
               file=sys.stderr)
    ordered = run_jobs(work, workers=max(1, int(jobs)), kernel_name=kernel_name, on_done=bar.update)
    bar.close()
    return ordered[1:] + ordered[:1] if plan_year is not None else ordered


# -- the index of a batch ---------------------------------------------------------------------


def key_numbers(processed_dir: str | Path, periods: Iterable[Period], department: str | None = None,
                conventions: object = None) -> dict[str, dict[str, float | None]]:
    """Received dossiers and the key rates of each period, for the index page (under the
    run's ``conventions``, as the reports it links)."""
    from cchc_lib.indicators import compute_indicators, load_processed

    data = load_processed(Path(processed_dir), _as_conventions(conventions))
    numbers: dict[str, dict[str, float | None]] = {}
    for period in periods:
        df = compute_indicators(data, period, by="overall", department=department)
        numbers[period.code] = {
            "received": _value(df, "online_share", "denominator"),
            **{ind: _value(df, ind) for ind in KEY_INDICATORS},
        }
    return numbers


def has_plan(year: int) -> bool:
    """Whether the plan's own task table is shipped for ``year`` (the plan report has content)."""
    from cchc_lib.plan import shipped_plan_tasks

    try:
        return bool(len(shipped_plan_tasks(int(year))))
    except FileNotFoundError:
        return False


def plan_result_on_disk(out_dir: str | Path, year: int) -> ReportResult | None:
    """The plan report of ``year`` already published in ``out_dir`` (default as-of), if any."""
    from cchc_lib.plan_report import plan_report_paths

    html, notebook = plan_report_paths(int(year), Path(out_dir))
    if not html.is_file():
        return None
    return ReportResult(plan_key(year), html=html, notebook=notebook if notebook.is_file() else None,
                        size=html.stat().st_size)


def reports_on_disk(out_dir: str | Path) -> tuple[list[ReportResult], dict[int, ReportResult]]:
    """Every whole-Sở period report and every plan report (default as-of) already published
    under ``out_dir``, of any year: (period reports, {year: plan report})."""
    out_dir = Path(out_dir)
    found: list[ReportResult] = []
    plans: dict[int, ReportResult] = {}
    if not out_dir.is_dir():
        return found, plans
    for folder in sorted(p for p in out_dir.iterdir() if p.is_dir()):
        plan_year = re.fullmatch(r"ke-hoach-(\d{4})", folder.name)
        if plan_year:
            plan = plan_result_on_disk(out_dir, int(plan_year.group(1)))
            if plan is not None:
                plans[int(plan_year.group(1))] = plan
            continue
        try:
            period = Period.parse(folder.name)
        except ValueError:
            continue
        if period.code != folder.name:
            continue
        html, notebook = report_paths(period, out_dir)
        if html.is_file():
            found.append(ReportResult(period.code, html=html,
                                      notebook=notebook if notebook.is_file() else None,
                                      size=html.stat().st_size))
    return found, plans


def _plan_section(plan: ReportResult, out_dir: Path, year: int) -> str:
    """The index's group for the plan report: one row, a link or the failure."""
    if plan.ok and plan.html:
        link = Path(os.path.relpath(plan.html, out_dir)).as_posix()
        name = (f"<a href='{esc(link)}'>Tình hình thực hiện Kế hoạch cải cách hành chính năm {year}</a>")
        size = f"{fmt_number(plan.size / 1_048_576, 1)} MB"
    else:
        name = (f"Tình hình thực hiện Kế hoạch cải cách hành chính năm {year} "
                "<span class='status st-missed'>Lỗi</span>")
        size = "—"
    return (
        f"<h3>Kế hoạch CCHC năm {year}</h3><table class='cchc-table plan'><thead><tr>"
        "<th>Báo cáo</th><th>Nội dung</th><th class='num'>Dung lượng</th></tr></thead><tbody>"
        f"<tr><td>{name}</td><td>Chỉ tiêu và nhiệm vụ của Kế hoạch theo bảy lĩnh vực: đạt, chưa đạt, "
        f"quá hạn, chưa đến hạn</td><td class='num'>{size}</td></tr></tbody></table>"
    )


def _period_group(title: str, items: list[tuple[Period, ReportResult]], out_dir: Path,
                  numbers: dict[str, dict[str, float | None]]) -> str:
    rows = []
    for period, result in sorted(items, key=lambda item: item[0]):
        nums = numbers.get(period.code, {})
        if result.ok and result.html:
            link = Path(os.path.relpath(result.html, out_dir)).as_posix()
            name = f"<a href='{esc(link)}'>{esc(period.label_vi)}</a>"
            size = f"{fmt_number(result.size / 1_048_576, 1)} MB"
        else:
            name = f"{esc(period.label_vi)} <span class='status st-missed'>Lỗi</span>"
            size = "—"
        rows.append(
            f"<tr><td>{name}</td><td class='num'>{fmt_number(nums.get('received'))}</td>"
            + "".join(f"<td class='num'>{fmt_percent(nums.get(k))}</td>" for k in KEY_INDICATORS)
            + f"<td class='num'>{size}</td></tr>"
        )
    return (
        f"<h3>{esc(title)}</h3><table class='cchc-table'><thead><tr><th>Kỳ báo cáo</th>"
        "<th class='num'>Hồ sơ tiếp nhận</th><th class='num'>Đúng hạn</th>"
        "<th class='num'>Nộp trực tuyến</th><th class='num'>Hài lòng</th>"
        f"<th class='num'>Dung lượng</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def index_html(results: Sequence[ReportResult], out_dir: Path, year: int | None = None,
               numbers: dict[str, dict[str, float | None]] | None = None,
               plan: ReportResult | None = None,
               plans: dict[int, ReportResult] | None = None) -> str:
    """The index page, in Vietnamese: one section per year, newest year first, each with the
    year's plan report (when there is one, from ``plans`` or ``plan`` for ``year``), then the
    reports grouped by year, quarter and month."""
    numbers = numbers or {}
    plans = dict(plans or {})
    if plan is not None and year is not None:
        plans[int(year)] = plan
    kinds = {"year": "Báo cáo năm", "quarter": "Báo cáo quý", "month": "Báo cáo tháng"}
    by_year: dict[int, dict[str, list[tuple[Period, ReportResult]]]] = {}
    for result in results:
        period = Period.parse(result.period)
        by_year.setdefault(period.year, {k: [] for k in kinds})[period.kind].append((period, result))
    years = sorted(set(by_year) | set(plans), reverse=True)
    sections = []
    for y in years:
        sections.append(f"<h2>Năm {y}</h2>")
        if y in plans:
            sections.append(_plan_section(plans[y], out_dir, y))
        for kind, items in by_year.get(y, {}).items():
            if items:
                sections.append(_period_group(kinds[kind], items, out_dir, numbers))
    if not sections:
        sections.append("<p class='note'>Chưa có báo cáo nào.</p>")
    span = (f" năm {years[0]}" if len(years) == 1
            else f" các năm {years[-1]}–{years[0]}" if years else "")
    css = (TEMPLATES_DIR / TEMPLATE_NAME / "static" / "cchc.css").read_text(encoding="utf-8")
    generated = fmt_datetime(pd.Timestamp.now())
    return (
        "<!DOCTYPE html>\n<html lang='vi'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Báo cáo CCHC{span} — {esc(AGENCY)}</title><style>{css}</style></head>"
        f"<body class='cchc-index'><main><h1>Báo cáo kết quả giải quyết TTHC và công tác CCHC{span}"
        f"</h1><p>{esc(AGENCY)} · Lập ngày {generated}. Mỗi báo cáo là một tệp HTML mở được khi "
        "không có mạng, có thể gửi kèm thư điện tử.</p>"
        f"{''.join(sections)}</main></body></html>\n"
    )


def write_index(results: Sequence[ReportResult], out_dir: str | Path, year: int | None = None,
                processed_dir: str | Path | None = None, department: str | None = None,
                plan: ReportResult | None = None, conventions: object = None) -> Path:
    """Write ``out_dir/index.html`` atomically, linking every report under ``out_dir`` of every
    year (found on disk) together with this run's ``results`` (which win over what is on disk,
    and show this run's failures) and this run's ``plan`` report of ``year``; key numbers when
    the data can be read."""
    out_dir = Path(out_dir)
    on_disk, plans = reports_on_disk(out_dir)
    merged = {r.period: r for r in on_disk}
    merged.update({str(r.period): r for r in results})
    if plan is not None and year is not None:
        plans[int(year)] = plan
    ordered = list(merged.values())
    numbers = None
    if processed_dir is not None:
        try:
            numbers = key_numbers(processed_dir, [Period.parse(r.period) for r in ordered], department,
                                  conventions)
        except Exception as exc:  # noqa: BLE001 - the index still links the reports
            print(f"Cảnh báo: không tính được số liệu chính cho trang mục lục: {exc}", file=sys.stderr)
    path = out_dir / "index.html"
    write_text_atomic(path, index_html(ordered, out_dir, numbers=numbers, plans=plans))
    return path


# -- command line -----------------------------------------------------------------------------


class UnknownDepartmentError(ValueError):
    """``--department`` names no department of the processed data; the message lists them."""


def known_departments(processed_dir: str | Path) -> list[str]:
    """The departments (phòng) that handled dossiers in the processed data, sorted."""
    path = Path(processed_dir) / "dossiers.parquet"
    if not path.is_file():
        return []
    import pyarrow.parquet as pq

    columns = [c for c in ("department", "status") if c in pq.read_schema(path).names]
    frame = pd.read_parquet(path, columns=columns)
    if "status" in frame.columns:
        # A registration never received handled nothing: its department (often the agency) is not one.
        frame = frame[(frame["status"] != "not_received").to_numpy(dtype=bool, na_value=True)]
    names = frame["department"].dropna().astype(str).unique()
    from cchc_lib.form06 import vietnamese_sort_key

    return sorted(names, key=vietnamese_sort_key)


def resolve_department(name: str, known: Sequence[str]) -> str:
    """The canonical spelling of the department ``name`` among ``known``: the same name ignoring
    case, extra spaces and how the diacritics were typed (composed or decomposed); failing that,
    the one department whose name matches it written without diacritics. Raises
    :class:`UnknownDepartmentError` with a Vietnamese message listing the known departments."""
    from cchc_lib.mapping import norm_key

    by_key = {norm_key(k): k for k in known}
    if norm_key(name) in by_key:
        return by_key[norm_key(name)]
    # Typed without diacritics ("Phong Dang ky kinh doanh"): accepted only when unambiguous.
    loose = [k for k in known if slug(k) == slug(name)]
    if len(loose) == 1:
        return loose[0]
    listing = "; ".join(known) if known else "(chưa có dữ liệu hồ sơ đã nhập)"
    raise UnknownDepartmentError(
        f"Không có phòng «{' '.join(str(name).split())}» trong dữ liệu đã nhập. "
        f"Các phòng có trong dữ liệu: {listing}."
    )



def report_cli(args) -> int:
    """``cchc report``: optional ingest, then one period or a whole year, then the index."""
    from cchc_lib.guards import OutputError, check_writable_dir, no_data_message, period_has_data

    processed = Path(args.processed)
    out = Path(args.out)
    try:
        check_writable_dir(out)
    except OutputError as exc:
        print(exc, file=sys.stderr)
        return 6  # monthly.EXIT_OUTPUT
    if getattr(args, "raw", None):
        from cchc_lib.ingest import IngestError, run_ingest

        try:
            run_ingest(Path(args.raw), processed)
        except IngestError as exc:
            print(f"Lỗi nhập dữ liệu: {exc}", file=sys.stderr)
            return 1
        print(f"Đã nhập dữ liệu từ {args.raw} vào {processed}")
    if args.department:
        try:
            args.department = resolve_department(args.department, known_departments(processed))
        except UnknownDepartmentError as exc:
            print(f"Lỗi: {exc}", file=sys.stderr)
            return 2
    if args.year is not None:
        periods = periods_in_year(int(args.year))
    else:
        periods = [args.period if isinstance(args.period, Period) else Period.parse(str(args.period))]
    # A period with no dossier at all gets a message and exit 3, not an empty report.
    empty = [p for p in periods if not period_has_data(processed, p, args.department)]
    for period in empty:
        print(no_data_message(period, args.department), file=sys.stderr)
    periods = [p for p in periods if p not in empty]
    if not periods:
        return 3  # monthly.EXIT_RENDER
    # A year batch for the whole Sở also renders that year's plan report (it has no department
    # view), judged as of the end of the year or today, whichever is earlier.
    plan_year = (int(args.year) if args.year is not None and not args.department
                 and has_plan(int(args.year)) else None)
    notebook = getattr(args, "notebook", None) or REPORT_NOTEBOOK
    results = render_batch(periods, processed, out, args.department, jobs=max(1, int(args.jobs or 1)),
                           plan_year=plan_year, notebook=notebook,
                           conventions=getattr(args, "conventions_obj", None))
    plan = results.pop() if plan_year is not None else None
    failed = [r for r in [*results, *([plan] if plan else [])] if not r.ok]
    for result in failed:
        print(result.error, file=sys.stderr)
    done = [r for r in results if r.ok]
    if args.year is not None:
        index = write_index(results, out, int(args.year), processed, args.department, plan=plan,
                            conventions=getattr(args, "conventions_obj", None))
        # The plan report is one of the batch's reports: a failed one shows in the count.
        batch = [*results, *([plan] if plan is not None else [])]
        print(f"Đã lập {sum(r.ok for r in batch)}/{len(batch)} báo cáo năm {args.year}; "
              f"mục lục: {index.resolve()}")
        if plan is not None and plan.ok:
            print(f"Báo cáo Kế hoạch CCHC năm {args.year}: {plan.html.resolve()} "
                  f"({fmt_number(plan.size / 1_048_576, 1)} MB)")
    else:
        for result in done:
            print(f"Đã lập báo cáo {result.period}: {result.html.resolve()} "
                  f"({fmt_number(result.size / 1_048_576, 1)} MB)")
    return 1 if failed else (3 if empty else 0)

