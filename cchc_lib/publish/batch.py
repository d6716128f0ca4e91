"""A batch of reports: every period of a request (one period, or a year's 12 months, 4 quarters
and the year, plus that year's plan report) rendered by the runner's worker processes; and the
departments a report can be asked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cchc_lib.config import REPORT_NOTEBOOK, profile
from cchc_lib.conventions import as_parameter as conventions_parameter
from cchc_lib.form06 import vietnamese_sort_key
from cchc_lib.mapping import norm_key
from cchc_lib.periods import Period
from cchc_lib.plan import shipped_plan_tasks
from cchc_lib.publish.batch_frames import batch_environment, batch_lanes
from cchc_lib.publish.jobs import plan_key, report_job, slug
from cchc_lib.publish.plan_report import plan_job
from cchc_lib.publish.runner import EXECUTION_TIMEOUT, ReportResult, run_jobs


@dataclass
class Batch:
    """What a batch produced: the period reports in the order asked, and the plan report."""

    reports: list[ReportResult]
    plan: ReportResult | None = None

    @property
    def failed(self) -> list[ReportResult]:
        return [r for r in [*self.reports, *([self.plan] if self.plan else [])] if not r.ok]


def run_batch(
    periods: Sequence[Period | str],
    processed_dir: str | Path,
    out_dir: str | Path,
    department: str | None = None,
    *,
    jobs: int = 2,
    kernel_name: str | None = None,
    timeout: int = EXECUTION_TIMEOUT,
    on_done: Callable[[], None] | None = None,
    notebook: str | Path = REPORT_NOTEBOOK,
    plan_year: int | None = None,
    conventions: object = None,
) -> Batch:
    """Render many reports in ``jobs`` worker processes, each with one kernel for all its
    reports (:mod:`cchc_lib.publish.runner`); ``on_done`` after each (a progress bar). With
    ``plan_year``, that year's plan report is rendered in the same pool."""
    extra: dict[str, object] | None = (
        {"conventions": conventions_parameter(conventions)} if conventions is not None else None)
    work = [report_job(p, processed_dir, out_dir, department, notebook=notebook, timeout=timeout,
                       extra_parameters=extra) for p in periods]
    # Each worker renders a set of periods fixed up front (those that share work together) and
    # its kernel learns them, so that it computes their frames together
    # (cchc_lib.publish.batch_frames) and only theirs; the notebooks and parameters stay as they are.
    workers = max(1, int(jobs))
    lanes = batch_lanes(periods, workers)
    for lane in set(lanes):
        shared = batch_environment([p for p, n in zip(periods, lanes, strict=True) if n == lane])
        for job, n in zip(work, lanes, strict=True):
            if n == lane:
                job.environment = dict(shared)
    if plan_year is not None:
        # Started first, so that it does not run alone at the end of the batch, by the worker
        # with fewest reports; as_of None: the end of the plan year, or today while the year is running.
        work.insert(0, plan_job(plan_year, None, processed_dir, out_dir, conventions=conventions))
        lanes.insert(0, min(set(lanes), key=lanes.count) if lanes else 0)
    results = run_jobs(work, workers=workers, kernel_name=kernel_name, on_done=on_done, lanes=lanes)
    plan_name = plan_key(plan_year) if plan_year is not None else None
    return Batch([r for r in results if r.period != plan_name],
                 next((r for r in results if r.period == plan_name), None))


def render_batch(
    periods: Sequence[Period | str],
    processed_dir: str | Path,
    out_dir: str | Path,
    department: str | None = None,
    **options: Any,
) -> list[ReportResult]:
    """The period reports of :func:`run_batch` (no plan report), in the order of ``periods``."""
    return run_batch(periods, processed_dir, out_dir, department, **options).reports


def has_plan(year: int) -> bool:
    """Whether the plan's own task table is shipped for ``year`` (the plan report has content)."""
    try:
        return bool(len(shipped_plan_tasks(int(year))))
    except FileNotFoundError:
        return False



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
    return sorted(names, key=vietnamese_sort_key)



def resolve_department(name: str, known: Sequence[str]) -> str:
    """The canonical spelling of the department ``name`` among ``known``: the same name ignoring
    case, extra spaces and how the diacritics were typed (composed or decomposed); failing that,
    the one department whose name matches it written without diacritics. Raises
    :class:`UnknownDepartmentError` with a Vietnamese message listing the known departments."""

    by_key = {norm_key(k): k for k in known}
    if norm_key(name) in by_key:
        return by_key[norm_key(name)]
    # Typed without diacritics ("Phong Dang ky kinh doanh"): accepted only when unambiguous.
    loose = [k for k in known if slug(k) == slug(name)]
    if len(loose) == 1:
        return loose[0]
    listing = "; ".join(known) if known else "(chưa có dữ liệu hồ sơ đã nhập)"
    typed = " ".join(str(name).split())
    agency = profile()
    unit = next((u for u in agency.units if norm_key(u) == norm_key(name) or slug(u) == slug(name)), None)
    if unit is not None:
        # One of the agency's own units (its profile lists it) that handled nothing yet.
        raise UnknownDepartmentError(
            f"{unit} ({agency.name}) chưa có hồ sơ nào trong dữ liệu đã nhập: chưa lập được báo cáo "
            f"riêng cho phòng. Các phòng có trong dữ liệu: {listing}."
        )
    raise UnknownDepartmentError(
        f"Không có phòng «{typed}» trong dữ liệu đã nhập. Các phòng có trong dữ liệu: {listing}."
    )
