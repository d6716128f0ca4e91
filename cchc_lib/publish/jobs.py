"""What the runner runs: the job of one period report (its notebook, parameters, output paths
and title), and the names of the output folder::

    reports/2023-Q1/bao-cao-2023-Q1.html    the report
    reports/2023-Q1/bao-cao-2023-Q1.ipynb   the executed notebook (record of the run)

A report for one department adds the department's slug: ``bao-cao-2023-Q1-phong-dang-ky.html``.
The plan report's job is :func:`cchc_lib.publish.plan_report.plan_job`.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from cchc_lib.config import REPORT_NOTEBOOK, profile
from cchc_lib.periods import Period
from cchc_lib.publish.runner import EXECUTION_TIMEOUT, ReportJob, ReportResult, run_one

TITLE = "Báo cáo kết quả giải quyết thủ tục hành chính và công tác cải cách hành chính"


def report_title(period: Period) -> str:
    return f"{TITLE} — {period.label_vi} — {profile().name}"


def slug(text: str) -> str:
    """``Phòng Đăng ký kinh doanh`` -> ``phong-dang-ky-kinh-doanh``."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "don-vi"


def report_paths(period: Period, out_dir: Path, department: str | None = None) -> tuple[Path, Path]:
    """(html, ipynb) for a report."""
    name = f"bao-cao-{period.code}" + (f"-{slug(department)}" if department else "")
    folder = Path(out_dir) / period.code
    return folder / f"{name}.html", folder / f"{name}.ipynb"


def plan_key(year: int) -> str:
    """How a batch names the plan report of ``year`` among its results (never a period code)."""
    return f"ke-hoach-{int(year)}"


def report_job(
    period: str | Period,
    processed_dir: str | Path,
    out_dir: str | Path,
    department: str | None = None,
    *,
    notebook: str | Path = REPORT_NOTEBOOK,
    timeout: int = EXECUTION_TIMEOUT,
    retries: int = 1,
    extra_parameters: dict[str, object] | None = None,
    paths: tuple[Path, Path] | None = None,
    title: str | None = None,
    key: str | None = None,
) -> ReportJob:
    """The job of one period report (or, with ``extra_parameters``, ``paths`` and ``title``,
    of another notebook going through the same runner, e.g. the plan report)."""
    period = period if isinstance(period, Period) else Period.parse(str(period))
    html_path, nb_path = paths or report_paths(period, Path(out_dir), department)
    return ReportJob(
        key=key or period.code,
        period=period.code,
        notebook=Path(notebook).resolve(),
        parameters={
            "period": period.code,
            "department": department or None,
            "processed_dir": str(Path(processed_dir).resolve()),
            **(extra_parameters or {}),
        },
        html=Path(html_path),
        ipynb=Path(nb_path),
        title=title or report_title(period),
        timeout=timeout,
        retries=retries,
    )


def render_report(
    period: str | Period,
    processed_dir: str | Path,
    out_dir: str | Path,
    department: str | None = None,
    *,
    notebook: str | Path = REPORT_NOTEBOOK,
    kernel_name: str | None = None,
    timeout: int = EXECUTION_TIMEOUT,
    retries: int = 1,
    extra_parameters: dict[str, object] | None = None,
    paths: tuple[Path, Path] | None = None,
    title: str | None = None,
) -> ReportResult:
    """Execute the report notebook for one period in a kernel of its own and publish it.
    Raises ReportError. ``extra_parameters``, ``paths`` (html, ipynb) and ``title`` let another
    notebook (the plan report) go through the same runner."""
    job = report_job(period, processed_dir, out_dir, department, notebook=notebook, timeout=timeout,
                     retries=retries, extra_parameters=extra_parameters, paths=paths, title=title)
    return run_one(job, kernel_name)
