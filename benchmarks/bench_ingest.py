"""Ingest benchmark: a 1,000,000-row dossier CSV, ingest vs a bare pyarrow read of the same file.

Each step runs in its own child process so that peak memory (ru_maxrss of that child) belongs
to the step alone. Target (issue 2): ingest within 3x the bare read, peak memory under 2 GB.
The same rows as a Windows-1258 CSV and as UTF-16 text are ingested streamed and, as before
issue 16's change, read whole (issue 16: the peak must not grow with the file in any encoding).
Run with `make bench` or `python -m benchmarks bench_ingest`.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROWS = int(os.environ.get("CCHC_BENCH_ROWS", "1000000").split(",")[0])  # bench_scale takes a list
ROOT = Path(__file__).resolve().parent.parent

FIELDS = {
    "Thành lập và hoạt động của doanh nghiệp": ("Phòng Đăng ký kinh doanh", 30),
    "Đầu tư tại Việt Nam": ("Phòng Kinh tế đối ngoại", 10),
    "Thành lập và hoạt động của hợp tác xã": ("Phòng Đăng ký kinh doanh", 6),
    "Đấu thầu": ("Phòng Đấu thầu, thẩm định và giám sát đầu tư", 5),
    "Hỗ trợ doanh nghiệp nhỏ và vừa": ("Phòng Doanh nghiệp, kinh tế tập thể và tư nhân", 4),
}
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Hữu", "Kim"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long", "Mai", "Nam"]
STATUSES = ["Đã trả kết quả", "Đã có kết quả", "Đang xử lý", "Chờ bổ sung", "Đã tiếp nhận"]
YES_NO = np.array(["Có", "Không", "x", "", "1", "0"], dtype=object)


def _fmt(ts: np.ndarray, with_time: bool) -> pa.Array:
    arr = pa.array(ts.astype("datetime64[s]"))
    return pc.strftime(arr, format="%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def _blank(mask: np.ndarray, arr: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), "", arr)


def generate(path: Path, rows: int = ROWS, seed: int = 7) -> Path:
    """A realistic dossier export: STT, every canonical column, personal-data columns."""
    rng = np.random.default_rng(seed)
    fields = list(FIELDS)
    field_idx = rng.choice(len(fields), rows, p=[0.5, 0.2, 0.12, 0.1, 0.08])
    proc_no = np.array([FIELDS[f][1] for f in fields])[field_idx]
    proc = rng.integers(0, 1000, rows) % proc_no + field_idx * 100
    received = np.datetime64("2022-01-03T07:30") + (
        rng.integers(0, 730, rows).astype("timedelta64[D]")
        + rng.integers(0, 600, rows).astype("timedelta64[m]")
    )
    due_days = rng.choice([3, 5, 10, 15], rows).astype("timedelta64[D]")
    due = received + due_days
    completed = received + (rng.uniform(0.1, 1.1, rows) * due_days.astype(float) * 1440).astype(
        "timedelta64[m]"
    )
    pending = rng.random(rows) < 0.05
    date_only_due = rng.random(rows) < 0.3
    cols: dict[str, pa.Array] = {
        "STT": pa.array(np.arange(1, rows + 1)).cast(pa.string()),
        "Mã hồ sơ": pc.binary_join_element_wise(
            "000.00.16.H60-", pa.array(np.arange(rows) + 10_000_000).cast(pa.string()), ""
        ),
        "Mã TTHC": pc.binary_join_element_wise("1.00", pa.array(proc + 1000).cast(pa.string()), ""),
        "Tên TTHC": pc.binary_join_element_wise(
            "Thủ tục số ", pa.array(proc).cast(pa.string()), " về đăng ký và cấp giấy chứng nhận", ""
        ),
        "Lĩnh vực": pa.array(np.array(fields, dtype=object)[field_idx]),
        "Phòng xử lý": pa.array(np.array([FIELDS[f][0] for f in fields], dtype=object)[field_idx]),
        "Kênh nộp": pa.array(
            np.array(["Trực tuyến", "Trực tiếp", "Bưu chính công ích"], dtype=object)[
                rng.choice(3, rows, p=[0.6, 0.35, 0.05])
            ]
        ),
        "Mức độ DVC": pa.array(
            np.array(["Toàn trình", "Một phần", ""], dtype=object)[rng.integers(0, 3, rows)]
        ),
        "Ngày tiếp nhận": _fmt(received, True),
        "Ngày hẹn trả": pc.if_else(pa.array(date_only_due), _fmt(due, False), _fmt(due, True)),
        "Ngày có kết quả": _blank(pending, _fmt(completed, True)),
        "Ngày trả kết quả": _blank(pending, _fmt(completed + np.timedelta64(2, "h"), True)),
        "Trạng thái": pa.array(
            np.where(pending, "Đang xử lý", np.array(STATUSES[:2], dtype=object)[rng.integers(0, 2, rows)])
        ),
    }
    for header in (
        "Có phí, lệ phí",
        "Thanh toán trực tuyến",
        "Số hóa hồ sơ",
        "Kết quả điện tử",
        "Đồng bộ DVCQG",
        "Phiếu xin lỗi",
    ):
        cols[header] = pa.array(YES_NO[rng.integers(0, len(YES_NO), rows)])
    rated = rng.random(rows) < 0.4
    cols["Đánh giá"] = _blank(
        ~rated,
        pa.array(
            np.array(["Rất hài lòng", "Hài lòng", "Không hài lòng"], dtype=object)[rng.integers(0, 3, rows)]
        ),
    )
    cols["Ngày đánh giá"] = _blank(~rated | pending, _fmt(completed + np.timedelta64(1, "D"), True))
    counter = pc.equal(cols["Kênh nộp"], "Trực tiếp")
    waits = pa.array(np.round(rng.gamma(3.0, 5.0, rows), 1)).cast(pa.string())
    cols["Thời gian chờ (phút)"] = pc.if_else(counter, waits, "")
    names = pc.binary_join_element_wise(
        pa.array(np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), rows)]),
        pa.array(np.array(MIDDLE, dtype=object)[rng.integers(0, len(MIDDLE), rows)]),
        pa.array(np.array(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), rows)]),
        " ",
    )
    cols["Chủ hồ sơ"] = names
    cols["Số CCCD/CMND"] = pa.array(rng.integers(10**11, 10**12 - 1, rows)).cast(pa.string())
    cols["Số điện thoại"] = pc.binary_join_element_wise(
        "09", pa.array(rng.integers(10**7, 10**8 - 1, rows)).cast(pa.string()), ""
    )
    cols["Email"] = _blank(
        rng.random(rows) < 0.6,
        pc.binary_join_element_wise("nguoinop", cols["Số CCCD/CMND"], "@example.invalid", ""),
    )
    cols["Địa chỉ"] = pc.binary_join_element_wise(
        "Số ",
        pa.array(rng.integers(1, 500, rows)).cast(pa.string()),
        ", phường Tân Quang, TP Tuyên Quang",
        "",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table(cols), path, pacsv.WriteOptions(quoting_style="needed"))
    return path


_CHILD_READ = """
import json, resource, sys, time
import pandas as pd
t = time.perf_counter()
frame = pd.read_csv(sys.argv[1], engine="pyarrow")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": len(frame),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_CHILD_INGEST = """
import json, resource, sys, time
from pathlib import Path
from cchc_lib.ingest.run import run_ingest
if sys.argv[3:] == ["whole"]:  # the path before streaming: every file read whole first
    import cchc_lib.ingest.read_batches
    cchc_lib.ingest.read_batches._open_stream = lambda *args: None
t = time.perf_counter()
result = run_ingest(Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": result.report["total"]["rows_read"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PROCEDURES = "Mã TTHC,Tên TTHC,Lĩnh vực,Mức độ DVC,Năm\n" + "".join(
    f"1.00{p + 1000},Thủ tục số {p},Lĩnh vực,{level},{year}\n"
    for p in range(500)
    for level, year in (("Một phần", 2022), ("Toàn trình", 2023))
)


def _in_encoding(csv_path: Path, target: Path, encoding: str) -> Path:
    """The CSV as another export would write it: Windows-1258 with each tone mark a combining
    character (as Vietnamese systems write it), comma-separated; or Excel's "Unicode text",
    UTF-16 LE with a BOM and tabs."""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        names = next(csv.reader(fh))
    table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False,
        quoted_strings_can_be_null=False))
    tab = encoding.startswith("utf-16")
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed", delimiter="\t" if tab else ","))
    text = sink.getvalue().to_pybytes().decode("utf-8")
    del table, sink
    target.parent.mkdir(parents=True, exist_ok=True)
    if tab:
        target.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
        return target
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    spelled: dict[int, str] = {}
    for ch in set(text):
        try:
            ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            spelled[ord(ch)] = base + "".join(c for c in parts if c in tones)
    target.write_bytes(text.translate(spelled).encode("cp1258"))
    return target


_CHILD_ENCODE = """
import sys
from pathlib import Path
from benchmarks.bench_ingest import _in_encoding
_in_encoding(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
"""


def _child(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        raw = Path(tmp) / "raw"
        csv_path = generate(raw / "dossiers" / "dossiers-1m.csv")
        (raw / "procedures.csv").write_text(PROCEDURES, encoding="utf-8")
        size_mb = csv_path.stat().st_size / 2**20
        read = _child(_CHILD_READ, str(csv_path))
        ingest = _child(_CHILD_INGEST, str(raw), str(Path(tmp) / "processed"))
        # Harmless quirks must stay on the fast path (issue 11: one trailing blank line once
        # sent the whole file to the slow reader, 54 s and 3.3 GB instead of 7 s and 1.3 GB).
        with csv_path.open("ab") as fh:
            fh.write(b"\r\n\r\n")
        trailing = _child(_CHILD_INGEST, str(raw), str(Path(tmp) / "processed-trailing"))
        # Windows-1258 and UTF-16 text of the same rows: streamed (issue 16) against the whole
        # read they had before, alternated.
        encoded = []
        for encoding, name in (("cp1258", "dossiers.csv"), ("utf-16", "dossiers.txt")):
            other = Path(tmp) / f"raw-{encoding}"
            path = other / "dossiers" / name
            # In a child: the parent's memory high-water mark is inherited by the ingest children
            # (Linux keeps ru_maxrss across fork and exec), and the conversion holds the whole text.
            subprocess.run([sys.executable, "-c", _CHILD_ENCODE, str(csv_path), str(path), encoding],
                           check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
            (other / "procedures.csv").write_text(PROCEDURES, encoding="utf-8")
            label = "Windows-1258" if encoding == "cp1258" else "UTF-16 text (tabs)"
            mb = path.stat().st_size / 2**20
            streamed = _child(_CHILD_INGEST, str(other), str(Path(tmp) / f"p-{encoding}-s"))
            whole = _child(_CHILD_INGEST, str(other), str(Path(tmp) / f"p-{encoding}-w"), "whole")
            encoded += [(f"cchc ingest, {label}, streamed", streamed, mb),
                        (f"cchc ingest, {label}, read whole (before)", whole, mb)]
            path.unlink()
    rows = []
    steps = (
        ("pandas.read_csv(engine='pyarrow')", read, size_mb),
        ("cchc ingest", ingest, size_mb),
        ("cchc ingest, trailing blank lines", trailing, size_mb),
        *encoded,
    )
    for step, m, mb in steps:
        rows.append(
            {
                "step": step,
                "rows": m["rows"],
                "file_mb": f"{mb:.0f}",
                "seconds": f"{m['seconds']:.2f}",
                "rows_per_s": f"{m['rows'] / m['seconds']:,.0f}",
                "peak_mb": f"{m['peak_mb']:.0f}",
                "ratio": f"{m['seconds'] / read['seconds']:.2f}x",
            }
        )
    return rows


if __name__ == "__main__":  # pragma: no cover
    from benchmarks.__main__ import print_table

    print_table("bench_ingest", run())
