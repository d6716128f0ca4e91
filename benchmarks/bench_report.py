"""Report benchmark: one quarterly report end to end and the whole 2023 batch (12 months,
4 quarters, the year; 2 worker processes), each next to a trivial notebook sent through the same
papermill + nbconvert path (the fixed cost of a kernel and an export), as ratios; the HTML size."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cchc_lib.periods import periods_in_year
from cchc_lib.reports import render_batch, render_report, resolve_kernel

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"


def _trivial_notebook(path: Path) -> Path:
    params = new_code_cell('period = "2023-Q1"\ndepartment = None\nprocessed_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(
        cells=[params, new_markdown_cell("# Báo cáo thử"), new_code_cell("print(period)")],
        metadata={"kernelspec": {"name": resolve_kernel(), "display_name": "Python 3",
                                 "language": "python"}},
    )
    nbformat.write(nb, path)
    return path


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def run() -> list[dict]:
    from cchc_lib.ingest import run_ingest

    with tempfile.TemporaryDirectory(prefix="cchc-bench-report-") as tmp:
        root = Path(tmp)
        processed = root / "processed"
        run_ingest(RAW, processed)
        trivial = _trivial_notebook(root / "trivial.ipynb")
        # Warm-up: first kernel start and imports from cold disk caches are not what we measure.
        render_report("2023-Q1", processed, root / "warm", notebook=trivial)

        quarter, q_s = _timed(lambda: render_report("2023-Q1", processed, root / "q"))
        _, t_s = _timed(lambda: render_report("2023-Q1", processed, root / "t", notebook=trivial))

        periods = periods_in_year(2023)
        batch, b_s = _timed(lambda: render_batch(periods, processed, root / "b", jobs=2, progress=False))
        _, tb_s = _timed(lambda: render_batch(periods, processed, root / "tb", jobs=2, progress=False,
                                              notebook=trivial))
        failed = [r.error for r in batch if not r.ok]
        if failed:
            raise RuntimeError(f"batch failures: {failed}")
        sizes = [r.size for r in batch]
        return [
            {
                "case": "quarterly report 2023-Q1",
                "reports": 1,
                "seconds": f"{q_s:.1f}",
                "trivial_notebook_s": f"{t_s:.1f}",
                "ratio": f"{q_s / t_s:.2f}",
                "html_MB": f"{quarter.size / 1_048_576:.2f}",
            },
            {
                "case": "2023 batch (12 months, 4 quarters, year), 2 processes",
                "reports": len(batch),
                "seconds": f"{b_s:.1f}",
                "trivial_notebook_s": f"{tb_s:.1f}",
                "ratio": f"{b_s / tb_s:.2f}",
                "html_MB": f"{min(sizes) / 1_048_576:.2f}-{max(sizes) / 1_048_576:.2f}",
            },
        ]
