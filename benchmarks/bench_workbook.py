"""Workbook readers: calamine (python-calamine) against openpyxl on the same .xlsx, plus calamine on
a BIFF .xls and lxml on an HTML-table .xls, all holding the same generated dossier export.

Each read runs in its own child process (peak memory = ru_maxrss of that child) through the very
functions ingest uses (``readers.read_workbook``, ``readers.read_html_table``) or used before
(``reading.read_xlsx_file``, openpyxl read-only), so the ratio is what ingest gains. Rows:
``CCHC_BENCH_XLSX_ROWS`` (default 100,000; a BIFF .xls holds at most 65,535, so it gets 60,000).
Run with ``make bench`` or ``python -m benchmarks bench_workbook``.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

import pyarrow.csv as pacsv

from benchmarks.bench_ingest import _child, generate

ROWS = int(os.environ.get("CCHC_BENCH_XLSX_ROWS", "100000"))
BIFF_ROWS = min(ROWS, 60_000)

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from cchc_lib.mapping import load_mapping
from cchc_lib import readers, reading
how, path = sys.argv[1], Path(sys.argv[2])
mapping = load_mapping()
read = {"calamine": readers.read_workbook, "openpyxl": reading.read_xlsx_file,
        "lxml": readers.read_html_table}[how]
t = time.perf_counter()
data, rows = read(path, path.name, "dossiers", mapping)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": data.num_rows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _write_xlsx(rows: list[list[str]], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    ws.append(["DANH SÁCH HỒ SƠ"])
    ws.append([])
    for r in rows:
        ws.append(r)
    wb.save(path)


def _write_biff(rows: list[list[str]], path: Path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Danh sach")
    ws.write(0, 0, "DANH SÁCH HỒ SƠ")
    for i, r in enumerate(rows, start=2):
        for j, value in enumerate(r):
            if value:
                ws.write(i, j, value)
    wb.save(str(path))


def _write_html(rows: list[list[str]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<html><head><meta charset="utf-8"></head><body><table border="1">'
                 f'<tr><td colspan="{len(rows[0])}">DANH SÁCH HỒ SƠ</td></tr>')
        for r in rows:
            fh.write("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>\n")
        fh.write("</table></body></html>")


def write_files(tmp_dir: Path) -> tuple[Path, Path, Path]:
    """The same generated export as .xlsx, BIFF .xls and HTML-table .xls under tmp_dir."""
    table = pacsv.read_csv(generate(tmp_dir / "src.csv", rows=ROWS))
    header = table.column_names
    columns = [c.to_pylist() for c in table.columns]
    rows = [header, *([str(col[i] or "") for col in columns] for i in range(table.num_rows))]
    xlsx, xls, htm = tmp_dir / "a.xlsx", tmp_dir / "b.xls", tmp_dir / "c.xls"
    _write_xlsx(rows, xlsx)
    _write_biff(rows[: BIFF_ROWS + 1], xls)
    _write_html(rows, htm)
    return xlsx, xls, htm


_CHILD_WRITE = """
import json, sys
from pathlib import Path
from benchmarks.bench_workbook import write_files
print(json.dumps([str(p) for p in write_files(Path(sys.argv[1]))]))
"""


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="cchc-bench-wb-") as tmp:
        # Written in a child process: a reader's child must not inherit this one's peak memory.
        xlsx, xls, htm = (Path(p) for p in _child(_CHILD_WRITE, tmp))
        cases = [
            ("openpyxl (read-only), .xlsx", "openpyxl", xlsx),
            ("calamine, .xlsx", "calamine", xlsx),
            ("calamine, BIFF .xls", "calamine", xls),
            ("lxml, HTML-table .xls", "lxml", htm),
        ]
        results = [(label, path, _child(_CHILD, how, str(path))) for label, how, path in cases]
    base = results[0][2]
    out = []
    per_row = base["seconds"] / base["rows"]
    for label, _path, m in results:
        out.append({
            "reader": label,
            "rows": f"{m['rows']:,}",
            "seconds": f"{m['seconds']:.2f}",
            "rows_per_s": f"{m['rows'] / m['seconds']:,.0f}",
            "peak_mb": f"{m['peak_mb']:.0f}",
            "time per row vs openpyxl": f"{m['seconds'] / m['rows'] / per_row:.2f}x",
        })
    return out


if __name__ == "__main__":  # pragma: no cover
    from benchmarks.__main__ import print_table

    print_table("bench_workbook", run())
