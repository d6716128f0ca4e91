"""Scale benchmark (issue 16): 1M and 3M generated dossiers by default (``CCHC_BENCH_ROWS``, e.g.
``10000000`` or ``1000000,3000000,10000000``, for others), each step in its own child process so
that its peak RSS (ru_maxrss) is its own:

- ``cchc ingest`` cold (empty output folder) and again on the same raw files (incremental), and
  cold with everything in one process (``CCHC_INGEST_WORKERS=1``; the others use the default
  worker processes, whose memory is counted too: "all processes");
- DuckDB ``COPY (SELECT * FROM read_csv_auto(...)) TO ... (FORMAT parquet)`` of the same CSV;
- the floor of a bounded-memory ingest that keeps each file's result (issue 16's incremental
  ingest), in pyarrow: the CSV streamed as text columns into Arrow IPC (LZ4, what the cache
  holds), read back batch by batch and written as parquet; no validation, duplicates, aggregate,
  rejects or hash; and the same in DuckDB (the cache as parquet, all columns as text);
- the engine: every indicator for the 34 periods of 2022-2023 by department, from the day-level
  aggregate (what the engine reads) and, for comparison, from the dossiers;
- DuckDB computing the same additive measures from ``dossiers.parquet`` (the SQL of
  bench_indicators);
- one report's own computations: ``prepare_report`` + ``index_frames`` for 2023-Q1 (load included);
- a report kernel's data work: the same plus what the notebook computes besides (header, other
  plan targets, the year-end projection, methods), charts left out;
- the same for ``cchc report --period 2023-Q1 --as-of 2023-02-15``: the context as of the date
  from the day-level aggregate (``report.as_of_context``) and, for comparison, from the view of
  every dossier (``report.as_of_context_from_dossiers``, the code before and the fallback).

``CCHC_BENCH_STEPS`` (child names, e.g. ``report_as_of``) runs only those steps (after the
generator and the ingest they need).

The "x COPY" column is a cold ingest's (or the floor's) time over DuckDB's COPY at the same
size. The growth column is each time over the same step's time at the smallest size, beside the
ratio of rows: linear growth keeps them equal. Run with ``make bench`` or
``python -m benchmarks bench_scale``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(s) for s in os.environ.get("CCHC_BENCH_ROWS", "1000000,3000000").split(",") if s.strip()]
# CCHC_BENCH_STEPS=ingest,duckdb_copy runs only the listed children (the keys of CHILDREN).
STEPS = {s.strip() for s in os.environ.get("CCHC_BENCH_STEPS", "").split(",") if s.strip()}

# Peak RSS from VmHWM, which a new program starts afresh (ru_maxrss carries the parent's peak
# across fork and exec on Linux, which made every step look as large as the data generator).
_PRELUDE = """
import json, sys, time
from pathlib import Path
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def done(seconds, **extra):
    print(json.dumps({"seconds": seconds, **extra, "peak_mb": peak_mb()}))
"""

# The ingest's worker processes (cchc_lib/ingest/pool.py) have their own memory: a thread samples
# the proportional set size (PSS: pages shared between processes, such as the modules the
# workers' fork server imported once, counted once in all) of this process and all its
# descendants every 0.2 s (reading PSS costs; a batch lasts longer) and keeps the largest sum
# (what the step held at once, to within a sample); also each process's own largest PSS.
_TREE = """
import os, threading
def _descendants(root):
    kids = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out
def _pss_mb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
TREE = {"peak": 0.0, "each": {}, "stop": False}
def _sample():
    me = os.getpid()
    while not TREE["stop"]:
        pids = _descendants(me)
        sizes = {pid: _pss_mb(pid) for pid in pids}
        TREE["peak"] = max(TREE["peak"], sum(sizes.values()))
        for pid, mb in sizes.items():
            TREE["each"][pid] = max(TREE["each"].get(pid, 0.0), mb)
        threading.Event().wait(0.2)
threading.Thread(target=_sample, daemon=True).start()
def tree():
    TREE["stop"] = True
    others = sorted((mb for pid, mb in TREE["each"].items() if pid != os.getpid()), reverse=True)
    return {"tree_peak_mb": TREE["peak"], "children_peak_mb": [round(mb) for mb in others if mb > 50]}
"""

CHILDREN = {
    "generate": _PRELUDE + """
from benchmarks.bench_ingest import PROCEDURES, generate
t = time.perf_counter()
generate(Path(sys.argv[1]), int(sys.argv[2]))
Path(sys.argv[3]).write_text(PROCEDURES, encoding="utf-8")
done(time.perf_counter() - t)
""",
    "ingest": _PRELUDE + _TREE + """
from cchc_lib.ingest.run import run_ingest
t = time.perf_counter()
result = run_ingest(Path(sys.argv[1]), Path(sys.argv[2]))
done(time.perf_counter() - t, rows=result.report["total"]["rows_read"], **tree())
""",
    # The same cold ingest with everything in one process, for comparison (same run, same data).
    "ingest_one": _PRELUDE + _TREE + """
import os
os.environ["CCHC_INGEST_WORKERS"] = "1"
from cchc_lib.ingest.run import run_ingest
t = time.perf_counter()
result = run_ingest(Path(sys.argv[1]), Path(sys.argv[2]))
done(time.perf_counter() - t, rows=result.report["total"]["rows_read"], **tree())
""",
    "duckdb_copy": _PRELUDE + """
import duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"COPY (SELECT * FROM read_csv_auto('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)")
done(time.perf_counter() - t)
""",
    "pyarrow_floor": _PRELUDE + """
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
t = time.perf_counter()
names = pc.open_csv(sys.argv[1]).schema.names
reader = pc.open_csv(sys.argv[1], read_options=pc.ReadOptions(block_size=16 << 20),
                     parse_options=pc.ParseOptions(newlines_in_values=True),
                     convert_options=pc.ConvertOptions(column_types={n: pa.string() for n in names},
                                                       strings_can_be_null=False))
options = pa.ipc.IpcWriteOptions(compression="lz4")
with pa.OSFile(sys.argv[2], "wb") as sink, pa.ipc.new_file(sink, reader.schema, options=options) as writer:
    for batch in reader:
        writer.write_batch(batch)
with pa.memory_map(sys.argv[2]) as source:
    cached = pa.ipc.open_file(source)
    with pq.ParquetWriter(sys.argv[3], cached.schema, compression="snappy") as parquet:
        for i in range(cached.num_record_batches):
            parquet.write_batch(cached.get_batch(i))
done(time.perf_counter() - t)
""",
    "duckdb_floor": _PRELUDE + """
import duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
text = f"read_csv_auto('{sys.argv[1]}', all_varchar = true)"
con.execute(f"COPY (SELECT * FROM {text}) TO '{sys.argv[2]}' (FORMAT parquet)")
con.execute(f"COPY (SELECT * FROM '{sys.argv[2]}') TO '{sys.argv[3]}' (FORMAT parquet)")
done(time.perf_counter() - t)
""",
    "engine": _PRELUDE + """
from dataclasses import replace
from benchmarks.bench_indicators import all_periods
from cchc_lib.indicators import compute_many
from cchc_lib.processed import load_processed
t = time.perf_counter()
data = load_processed(Path(sys.argv[1]))
loaded = time.perf_counter() - t
source = sys.argv[2]
if source == "dossiers":
    data = replace(data, daily=None, daily_of=None)
t = time.perf_counter()
compute_many(data, all_periods(), by="department", with_changes=False)
done(time.perf_counter() - t, load=loaded)
""",
    "duckdb_engine": _PRELUDE + """
import duckdb
import pandas as pd
from benchmarks.bench_indicators import all_periods, duckdb_reference
periods = all_periods()
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
folder = Path(sys.argv[1])
con.execute(f"CREATE VIEW dossiers AS SELECT * FROM read_parquet('{folder / 'dossiers.parquet'}')")
con.execute(f"CREATE VIEW procedures AS SELECT * FROM read_parquet('{folder / 'procedures.parquet'}')")
con.register("periods", pd.DataFrame({"code": [p.code for p in periods],
                                      "start_at": [p.start for p in periods],
                                      "end_at": [p.end for p in periods]}))
con.register("period_months", pd.DataFrame(
    [(p.code, m.start) for p in periods for m in p.months()], columns=["code", "month"]))
duckdb_reference(con, "department")
done(time.perf_counter() - t)
""",
    "report": _PRELUDE + """
from cchc_lib.periods import Period
from cchc_lib.publish.index766_section import index_frames
from cchc_lib.publish.report import prepare_report
t = time.perf_counter()
ctx = prepare_report("2023-Q1", Path(sys.argv[1]))
index_frames(ctx.data, Period.parse("2023-Q1"))
done(time.perf_counter() - t)
""",
    # What the report notebook computes besides: its header, the other plan targets, the
    # year-end projection (an as-of view of the dossiers) and the methods; charts left out.
    "report_kernel": _PRELUDE + """
import pandas as pd
from cchc_lib import projection
from cchc_lib.publish import methods, report
from cchc_lib.publish.index766_section import index_frames
t = time.perf_counter()
ctx = report.prepare_report("2023-Q1", Path(sys.argv[1]))
report.header_markdown(ctx)
report.summary_markdown(ctx)
others = report.other_plan_targets(ctx.data, ctx.period, Path(sys.argv[1]), None)
index_frames(ctx.data, ctx.period)
projection.year_end(ctx.data, ctx.period.year, projection.period_as_of(ctx.period))
methods.methods_markdown(pd.concat([ctx.indicators, others]), ctx.period, conventions=ctx.data.conventions)
done(time.perf_counter() - t)
""",
    # The same kernel for `--as-of 2023-02-15` (the notebook's as_of cell and its later cells):
    # argv[2] "aggregate" (as_of_context) or "dossiers" (the view of every dossier).
    "report_as_of": _PRELUDE + """
import pandas as pd
from cchc_lib import projection
from cchc_lib.publish import methods, report
from cchc_lib.publish.index766_section import index_frames
as_of = "2023-02-15"
t = time.perf_counter()
ctx = report.prepare_report("2023-Q1", Path(sys.argv[1]))
report.header_markdown(ctx)
cut = report.as_of_context if sys.argv[2] == "aggregate" else report.as_of_context_from_dossiers
ctx = cut(ctx, as_of)
report.summary_markdown(ctx)
others = report.other_plan_targets(ctx.data, ctx.period, Path(sys.argv[1]), as_of)
index_frames(ctx.data, ctx.period)
projection.year_end(ctx.data, ctx.period.year, as_of)
methods.methods_markdown(pd.concat([ctx.indicators, others]), ctx.period, conventions=ctx.data.conventions)
done(time.perf_counter() - t)
""",
}
CHILDREN["report_as_of_dossiers"] = CHILDREN["report_as_of"]  # selectable alone (CCHC_BENCH_STEPS)
# Steps that read no processed data; any other step selected needs the ingest before it.
_ON_RAW = {"duckdb_copy", "ingest_one", "pyarrow_floor", "duckdb_floor"}


def _child(name: str, *args: str) -> dict:
    needed = name == "generate" or (name == "ingest" and bool(STEPS - _ON_RAW))
    if STEPS and name not in STEPS and not needed:
        return {"skipped": True}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILDREN[name], *args], capture_output=True,
                         text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1][:120]}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def measure(rows: int, tmp: Path) -> dict[str, dict]:
    raw = tmp / f"raw-{rows}"
    csv_path = raw / "dossiers" / "dossiers.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    # Generated in a child too: this process stays small, so it disturbs no step.
    made = _child("generate", str(csv_path), str(rows), str(raw / "procedures.csv"))
    if "error" in made:
        raise RuntimeError(f"generating {rows} rows failed: {made['error']}")
    processed = tmp / f"processed-{rows}"
    steps = {
        "cchc ingest (cold)": _child("ingest", str(raw), str(processed)),
        "cchc ingest (again, nothing changed)": _child("ingest", str(raw), str(processed)),
        "cchc ingest (cold, one process: CCHC_INGEST_WORKERS=1)": _child(
            "ingest_one", str(raw), str(tmp / f"processed-one-{rows}")),
        "DuckDB COPY csv -> parquet": _child("duckdb_copy", str(csv_path), str(tmp / "copy.parquet")),
        "floor, pyarrow: csv -> Arrow IPC (the cache) -> parquet": _child(
            "pyarrow_floor", str(csv_path), str(tmp / "floor.arrow"), str(tmp / "floor.parquet")),
        "floor, DuckDB: csv -> parquet (the cache) -> parquet": _child(
            "duckdb_floor", str(csv_path), str(tmp / "floor-cache.parquet"), str(tmp / "floor.parquet")),
        "engine, 34 periods by department (aggregate)": _child("engine", str(processed), "aggregate"),
        "engine, 34 periods by department (dossiers)": _child("engine", str(processed), "dossiers"),
        "DuckDB, same measures from dossiers.parquet": _child("duckdb_engine", str(processed)),
        "one report's computations (2023-Q1)": _child("report", str(processed)),
        "a report kernel's data work (2023-Q1: + header, projection...)": _child("report_kernel",
                                                                                 str(processed)),
        "a report kernel's data work as of a date (2023-Q1 to 15/02/2023), aggregate":
            _child("report_as_of", str(processed), "aggregate"),
        "the same from the view of every dossier (before; the fallback)":
            _child("report_as_of_dossiers", str(processed), "dossiers"),
    }
    daily = processed / "daily.parquet"
    steps["_sizes"] = {
        "csv_mb": csv_path.stat().st_size / 2**20,
        "dossiers_mb": (processed / "dossiers.parquet").stat().st_size / 2**20
        if (processed / "dossiers.parquet").exists() else float("nan"),
        "daily_mb": daily.stat().st_size / 2**20 if daily.exists() else float("nan"),
    }
    csv_path.unlink()
    for name in ("floor.arrow", "floor-cache.parquet", "floor.parquet"):
        (tmp / name).unlink(missing_ok=True)
    shutil.rmtree(tmp / f"processed-one-{rows}", ignore_errors=True)
    return steps


def run() -> list[dict]:
    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="cchc-scale-") as tmp:
        for rows in SIZES:
            results[rows] = measure(rows, Path(tmp))
    base = SIZES[0]
    table = []
    for rows in SIZES:
        sizes = results[rows]["_sizes"]
        for step, m in results[rows].items():
            if step == "_sizes" or m.get("skipped"):
                continue
            if "error" in m:
                table.append({"rows": f"{rows:,}", "step": step, "seconds": "failed: " + m["error"]})
                continue
            first = results[base].get(step, {})
            growth = (f"{m['seconds'] / first['seconds']:.1f}x for {rows / base:.1f}x rows"
                      if rows != base and "seconds" in first else "")
            copy = results[rows].get("DuckDB COPY csv -> parquet", {})
            over_copy = (f"{m['seconds'] / copy['seconds']:.2f}"
                         if "seconds" in copy and (step.startswith(("cchc ingest (cold", "floor"))) else "")
            table.append({
                "rows": f"{rows:,}",
                "step": step,
                "seconds": f"{m['seconds']:.2f}",
                "peak RSS MB": f"{m['peak_mb']:.0f}",
                # With the ingest's workers: the largest sum over this process and its workers
                # at one time, and each worker's own peak.
                "all processes MB": (f"{m['tree_peak_mb']:.0f} (workers {m['children_peak_mb']})"
                                     if "tree_peak_mb" in m else ""),
                "x COPY": over_copy,
                "growth": growth,
            })
        table.append({"rows": f"{rows:,}", "step": (
            f"(sizes: CSV {sizes['csv_mb']:.0f} MB, dossiers.parquet {sizes['dossiers_mb']:.0f} MB, "
            f"daily.parquet {sizes['daily_mb']:.1f} MB)")})
    return table


if __name__ == "__main__":  # pragma: no cover
    from benchmarks.__main__ import print_table

    print_table("bench_scale", run())
