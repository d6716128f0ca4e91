"""The output folder as a site: ``reports/index.html`` links every report found under it (of
every year, with this run's results and failures), with the profile's key numbers per period."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from cchc_lib import formatting as fmt
from cchc_lib.atomic import write_text_atomic
from cchc_lib.config import TEMPLATES_DIR, profile
from cchc_lib.conventions import as_conventions
from cchc_lib.formatting import fmt_datetime, fmt_number
from cchc_lib.indicators import compute_indicators
from cchc_lib.periods import Period
from cchc_lib.processed import load_processed
from cchc_lib.publish.export import TEMPLATE_NAME
from cchc_lib.publish.fragments import render
from cchc_lib.publish.jobs import plan_key, report_paths
from cchc_lib.publish.plan_report import plan_report_paths
from cchc_lib.publish.report import indicator_value
from cchc_lib.publish.runner import ReportResult

log = logging.getLogger("cchc.site")


def key_numbers(processed_dir: str | Path, periods: Iterable[Period], department: str | None = None,
                conventions: object = None) -> dict[str, dict[str, float | None]]:
    """Received dossiers and the profile's key rates of each period, for the index page (under
    the run's ``conventions``, as the reports it links)."""
    data = load_processed(Path(processed_dir), as_conventions(conventions))
    numbers: dict[str, dict[str, float | None]] = {}
    for period in periods:
        df = compute_indicators(data, period, by="overall", department=department)
        numbers[period.code] = {
            "received": indicator_value(df, "online_share", "denominator"),
            **{ind: indicator_value(df, ind) for ind, _ in profile().index_indicators},
        }
    return numbers



def plan_result_on_disk(out_dir: str | Path, year: int) -> ReportResult | None:
    """The plan report of ``year`` already published in ``out_dir`` (default as-of), if any."""
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



def index_html(results: Sequence[ReportResult], out_dir: Path, year: int | None = None,
               numbers: dict[str, dict[str, float | None]] | None = None,
               plan: ReportResult | None = None,
               plans: dict[int, ReportResult] | None = None) -> str:
    """The index page, in Vietnamese: one section per year, newest year first, each with the
    year's plan report (when there is one, from ``plans`` or ``plan`` for ``year``), then the
    reports grouped by year, quarter and month, with the profile's key numbers."""
    numbers = numbers or {}
    plans = dict(plans or {})
    if plan is not None and year is not None:
        plans[int(year)] = plan
    key = profile().index_indicators
    kinds = {"year": "Báo cáo năm", "quarter": "Báo cáo quý", "month": "Báo cáo tháng"}
    by_year: dict[int, dict[str, list[tuple[Period, ReportResult]]]] = {}
    for result in results:
        period = Period.parse(result.period)
        by_year.setdefault(period.year, {k: [] for k in kinds})[period.kind].append((period, result))
    years = sorted(set(by_year) | set(plans), reverse=True)
    sections = []
    for y in years:
        groups = []
        for kind, items in by_year.get(y, {}).items():
            rows = []
            for period, result in sorted(items, key=lambda item: item[0]):
                nums = numbers.get(period.code, {})
                rows.append({"label": period.label_vi, "link": _link(result, out_dir),
                             "received": fmt_number(nums.get("received")),
                             "key_values": [fmt.format_value(nums.get(i), None, i) for i, _ in key],
                             "size": _size(result)})
            if rows:
                groups.append({"title": kinds[kind], "rows": rows})
        plan_row = ({"link": _link(plans[y], out_dir), "size": _size(plans[y])} if y in plans else None)
        sections.append({"year": y, "plan": plan_row, "groups": groups})
    span = (f" năm {years[0]}" if len(years) == 1
            else f" các năm {years[-1]}–{years[0]}" if years else "")
    css = (TEMPLATES_DIR / TEMPLATE_NAME / "static" / "cchc.css").read_text(encoding="utf-8")
    return render("site_index.html.j2", years=sections, span=span, agency=profile().name,
                  generated=fmt_datetime(pd.Timestamp.now()), css=Markup(css),
                  key_headings=[heading for _, heading in key]) + "\n"



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
            log.warning("Cảnh báo: không tính được số liệu chính cho trang mục lục: %s", exc)
    path = out_dir / "index.html"
    write_text_atomic(path, index_html(ordered, out_dir, numbers=numbers, plans=plans))
    return path



def _size(result: ReportResult) -> str:
    return f"{fmt_number(result.size / 1_048_576, 1)} MB" if result.ok and result.html else "—"



def _link(result: ReportResult, out_dir: Path) -> str:
    """The report's address relative to the index page; empty for a failed report."""
    if not (result.ok and result.html):
        return ""
    return Path(os.path.relpath(result.html, out_dir)).as_posix()
