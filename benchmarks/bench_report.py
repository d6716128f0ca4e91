"""Report benchmark: one quarterly report (as `cchc report` in a fresh process, and in process)
and the whole 2023 batch (12 months, 4 quarters, the year; 2 worker processes, one kernel each),
each next to a trivial notebook sent through exactly the same path (process, kernel, papermill,
export: the fixed cost), as ratios; for the batch also the CPU seconds of all its processes
(workers and kernels), steadier than wall time on a shared machine; the sizes of a report, of its
executed notebook and of the e-mail of a month and its quarter.

And the path's floor for this report: the same batch of a notebook whose code cells only
re-display the outputs a real run recorded (the 2023-Q2 report's charts, tables and prose; no
computation), once with the report's cells and once with every output in one code cell. What
such a batch costs over the trivial batch is what papermill, the kernel's messages and nbconvert
take for a report of this size and shape before any number is computed."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cchc_lib.periods import Period, periods_in_year
from cchc_lib.publish.batch import render_batch
from cchc_lib.publish.jobs import render_report
from cchc_lib.publish.runner import resolve_kernel

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
ROUNDS = int(os.environ.get("CCHC_BENCH_ROUNDS", "2"))


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


def _replay_notebook(executed: Path, path: Path, one_cell: bool = False) -> Path:
    """A notebook with ``executed``'s cells whose code only re-displays the outputs recorded in
    it (no computation); with ``one_cell``, every output from one code cell after the
    parameters, the prose after it. Papermill's injected parameters are left out: the batch
    injects its own."""
    recorded = nbformat.read(executed, as_version=4)
    prose, code = [], []
    for cell in recorded.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            continue
        if cell.cell_type != "code" or "parameters" in tags:
            kept = nbformat.from_dict(cell)
            if kept.cell_type == "code":
                kept.outputs, kept.execution_count = [], None
            prose.append(kept)
            continue
        lines = ["from IPython.display import display"]
        for output in cell.outputs:
            if output.output_type in ("display_data", "execute_result"):
                lines.append(f"display({dict(output.data)!r}, raw=True)")
            elif output.output_type == "stream":
                lines.append(f"print({output.text!r}, end='')")
        replay = new_code_cell("\n".join(lines))
        code.append(replay)
        if not one_cell:
            prose.append(replay)
    cells = [prose[0], new_code_cell("\n".join(c.source for c in code)), *prose[1:]] if one_cell else prose
    nbformat.write(new_notebook(cells=cells, metadata=recorded.metadata), path)
    return path


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (a batch's worker processes
    and, through them, their kernels; the kernel of an in-process report; `cchc` processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def _timed_cpu(fn):
    """(value, wall seconds, CPU seconds): on a shared machine the CPU a run took moves less
    with the neighbours' load than its wall time."""
    cpu = _cpu()
    value, seconds = _timed(fn)
    return value, seconds, _cpu() - cpu


def _cli(*args: str) -> float:
    """Seconds for one `cchc` command in a fresh process, the way a user or cron runs it."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cchc_lib", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _email_bytes(month: Path, quarter: Path, processed: Path) -> int:
    """Bytes on the wire of the e-mail `cchc send` builds for a month and its quarter."""
    from cchc_lib.publish.mail import build_message, load_summaries, message_size

    summaries = load_summaries([Period.parse(code) for code in ("2023-03", "2023-Q1")], processed)
    return message_size(build_message([month, quarter], summaries, to=["lanhdao@example.vn"]))


def run() -> list[dict]:
    from cchc_lib.ingest.run import run_ingest

    with tempfile.TemporaryDirectory(prefix="cchc-bench-report-") as tmp:
        root = Path(tmp)
        processed = root / "processed"
        run_ingest(RAW, processed)
        trivial = _trivial_notebook(root / "trivial.ipynb")
        # Warm-up: first kernel start and imports from cold disk caches are not what we measure.
        render_report("2023-Q1", processed, root / "warm", notebook=trivial)

        # Each case and its trivial twin alternate, best of ROUNDS each: the machine is shared,
        # and a neighbour's burst should not land on one side of a ratio only.
        base = ["report", "--period", "2023-Q1", "--processed", str(processed)]
        cli_s, cli_t, q_s, t_s, b_s, tb_s = [], [], [], [], [], []
        b_cpu, tb_cpu = [], []
        periods = periods_in_year(2023)
        recorded = render_batch([Period.parse("2023-Q2")], processed, root / "recorded")[0].notebook
        replay = _replay_notebook(recorded, root / "replay.ipynb")
        replay_one = _replay_notebook(recorded, root / "replay-one-cell.ipynb", one_cell=True)
        r_s, r1_s, r_cpu, r1_cpu = [], [], [], []
        for i in range(ROUNDS):
            # One report, `cchc report` end to end in a fresh process (imports, kernel, export, exit).
            cli_s.append(_cli(*base, "--out", str(root / f"c{i}")))
            cli_t.append(_cli(*base, "--out", str(root / f"ct{i}"), "--notebook", str(trivial)))
            quarter, seconds = _timed(lambda i=i: render_report("2023-Q1", processed, root / f"q{i}"))
            q_s.append(seconds)
            t_s.append(_timed(lambda i=i: render_report("2023-Q1", processed, root / f"t{i}",
                                                         notebook=trivial))[1])
            batch, seconds, cpu = _timed_cpu(lambda i=i: render_batch(periods, processed, root / f"b{i}",
                                                                      jobs=2))
            b_s.append(seconds)
            b_cpu.append(cpu)
            _, seconds, cpu = _timed_cpu(lambda i=i: render_batch(periods, processed, root / f"tb{i}",
                                                                  jobs=2, notebook=trivial))
            tb_s.append(seconds)
            tb_cpu.append(cpu)
            for notebook, times, cpus, name in ((replay, r_s, r_cpu, "r"), (replay_one, r1_s, r1_cpu, "r1")):
                _, seconds, cpu = _timed_cpu(lambda i=i, notebook=notebook, name=name: render_batch(
                    periods, processed, root / f"{name}{i}", jobs=2, notebook=notebook))
                times.append(seconds)
                cpus.append(cpu)
        cli_s, cli_t, q_s, t_s, b_s, tb_s = (min(x) for x in (cli_s, cli_t, q_s, t_s, b_s, tb_s))
        b_cpu_s, tb_cpu_s = min(b_cpu), min(tb_cpu)
        r_s, r1_s, r_cpu_s, r1_cpu_s = min(r_s), min(r1_s), min(r_cpu), min(r1_cpu)
        failed = [r.error for r in batch if not r.ok]
        if failed:
            raise RuntimeError(f"batch failures: {failed}")
        sizes = [r.size for r in batch]
        by_code = {r.period: r for r in batch}
        mail = _email_bytes(by_code["2023-03"].html, by_code["2023-Q1"].html, processed)
        record = quarter.notebook.stat().st_size
        mb = 1_048_576
        return [
            {
                "case": "`cchc report --period 2023-Q1` (fresh process, end to end)",
                "reports": 1,
                "seconds": f"{cli_s:.1f}",
                "trivial_notebook_s": f"{cli_t:.1f}",
                "ratio": f"{cli_s / cli_t:.2f}",
                "size": f"HTML {quarter.size / mb:.2f} MB",
                "cpu_s": "",
                "trivial_cpu_s": "",
                "cpu_ratio": "",
            },
            {
                "case": "quarterly report 2023-Q1 (render_report, in process)",
                "reports": 1,
                "seconds": f"{q_s:.1f}",
                "trivial_notebook_s": f"{t_s:.1f}",
                "ratio": f"{q_s / t_s:.2f}",
                "size": f"executed notebook {record / mb:.2f} MB",
                "cpu_s": "",
                "trivial_cpu_s": "",
                "cpu_ratio": "",
            },
            {
                "case": "2023 batch (12 months, 4 quarters, year), 2 processes",
                "reports": len(batch),
                "seconds": f"{b_s:.1f}",
                "trivial_notebook_s": f"{tb_s:.1f}",
                "ratio": f"{b_s / tb_s:.2f}",
                "size": f"HTML {min(sizes) / mb:.2f}-{max(sizes) / mb:.2f} MB each",
                "cpu_s": f"{b_cpu_s:.1f}",
                "trivial_cpu_s": f"{tb_cpu_s:.1f}",
                "cpu_ratio": f"{b_cpu_s / tb_cpu_s:.2f}",
            },
            {
                "case": "floor: the same batch re-displaying the 2023-Q2 report's recorded outputs",
                "reports": len(batch),
                "seconds": f"{r_s:.1f}",
                "trivial_notebook_s": f"{tb_s:.1f}",
                "ratio": f"{r_s / tb_s:.2f}",
                "size": "",
                "cpu_s": f"{r_cpu_s:.1f}",
                "trivial_cpu_s": f"{tb_cpu_s:.1f}",
                "cpu_ratio": f"{r_cpu_s / tb_cpu_s:.2f}",
            },
            {
                "case": "floor: the same, every output from one code cell",
                "reports": len(batch),
                "seconds": f"{r1_s:.1f}",
                "trivial_notebook_s": f"{tb_s:.1f}",
                "ratio": f"{r1_s / tb_s:.2f}",
                "size": "",
                "cpu_s": f"{r1_cpu_s:.1f}",
                "trivial_cpu_s": f"{tb_cpu_s:.1f}",
                "cpu_ratio": f"{r1_cpu_s / tb_cpu_s:.2f}",
            },
            {
                "case": "e-mail of the month 2023-03 + quarter 2023-Q1 (`cchc send`)",
                "reports": 2,
                "seconds": "",
                "trivial_notebook_s": "",
                "ratio": "",
                "size": f"message {mail / mb:.2f} MB",
                "cpu_s": "",
                "trivial_cpu_s": "",
                "cpu_ratio": "",
            },
        ]
