"""Property-based tests (hypothesis) over the raw-reading and validation path (issue 11).

Random dossier exports: the contract's columns in random order and subsets, valid values mixed
with random garbage (control and format characters, formula prefixes, absurd numbers, names),
random encodings, delimiters and line endings, rows with missing or extra cells, personal-data
columns holding planted values. Properties:

- ingest raises nothing but IngestError, and that only for a file whose header lacks a required
  column (never for one whose header has them all, whatever its rows hold);
- rows_read == accepted + rejected + merged, per file, per table and in total;
- no planted personal value appears in any output (files, summary, error message);
- re-running ingest gives byte-identical outputs;
- no text cell of rejects.csv starts like a formula; no processed text holds a control or
  format character.

The default run is short (``CCHC_HYPOTHESIS_EXAMPLES``, 20 examples, a few seconds);
``make test-long`` runs 2,000.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cchc_lib.ingest.run import COUNTS, IngestError, format_summary, run_ingest
from cchc_lib.safe_text import FORMULA_PREFIXES, INVISIBLE_RE
from tests.ingest_helpers import PROCEDURES_CSV, to_cp1258
from tests.test_ingest import _outputs

EXAMPLES = int(os.environ.get("CCHC_HYPOTHESIS_EXAMPLES", "20"))

VALID: dict[str, list[str]] = {
    "Mã hồ sơ": ["HS-1", "HS-2", "HS-3", "000.00.16.H60-230306-0001", "HS-\u200b1"],
    "Mã TTHC": ["1.001", "1.002"],
    "Tên TTHC": ["Đăng ký doanh nghiệp", "Thủ tục B"],
    "Lĩnh vực": ["Doanh nghiệp", "Đầu tư", "=HYPERLINK(\"http://x\")"],
    "Phòng xử lý": ["Phòng Đăng ký kinh doanh", "Phòng A"],
    "Kênh nộp": ["Trực tuyến", "Trực tiếp", "Bưu chính công ích"],
    "Mức độ DVC": ["Toàn trình", "Một phần", ""],
    "Ngày tiếp nhận": ["15/01/2023 08:00", "2023-01-16", "44942", "01/02/2023"],
    "Ngày hẹn trả": ["20/01/2023", "2023-02-20 17:00", "31/02/2023"],
    "Ngày có kết quả": ["", "18/01/2023 10:00", "14/01/2023", "2023-01-15"],
    "Ngày trả kết quả": ["", "19/01/2023", "10/01/2023"],
    "Trạng thái": ["Đang xử lý", "Đã trả kết quả", "Đã có kết quả"],
    "Số hóa hồ sơ": ["Có", "Không", "x", "", "1"],
    "Đánh giá": ["", "Hài lòng", "Rất hài lòng", "Không hài lòng"],
    "Ngày đánh giá": ["", "20/01/2023", "01/01/2023"],
    "Thời gian chờ (phút)": ["", "12", "1e308", "-5", "1440", "12,5", "nan", "inf"],
    "STT": ["1", "2", ""],
}
REQUIRED = ["Mã hồ sơ", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Phòng xử lý", "Kênh nộp", "Ngày tiếp nhận",
            "Ngày hẹn trả", "Trạng thái"]
OPTIONAL = [h for h in VALID if h not in REQUIRED]
PERSONAL = ["Chủ hồ sơ", "Số CCCD/CMND", "Số điện thoại", "Email", "Địa chỉ"]

GARBAGE = st.one_of(
    st.text(max_size=12),  # any code point: controls, format characters, surrogates excluded
    st.sampled_from(["=1+2", "+84", "-", "@SUM(A1)", "\t", "\r", "\x00", "\u200b", "\ufeff", ",", ";",
                     '"', "1e308", "99999", "Nguyễn Văn An", "0912345678"]),
)


@st.composite
def personal_values(draw) -> dict[str, str]:
    """Planted values, unique enough that finding one in an output is a leak, not chance."""
    tag = draw(st.text(alphabet="bcdfghklmnpqrstvx", min_size=6, max_size=6))
    digits = draw(st.text(alphabet="0123456789", min_size=8, max_size=8))
    return {
        "Chủ hồ sơ": f"Phạm Thị {tag.title()}",
        "Số CCCD/CMND": f"0791{digits}",
        "Số điện thoại": f"09{digits}",
        "Email": f"{tag}@example.invalid",
        "Địa chỉ": f"Số 7 ngõ {tag.title()}",
    }


@st.composite
def exports(draw):
    """(file bytes, planted personal values, whether its header has every required column) of
    one random dossier export."""
    planted = draw(personal_values())
    headers = list(REQUIRED)
    complete = draw(st.integers(0, 19)) != 0
    if not complete:  # now and then a required column is missing
        headers.remove(draw(st.sampled_from(REQUIRED)))
    headers += draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=len(OPTIONAL)))
    headers += draw(st.lists(st.sampled_from(PERSONAL), unique=True, min_size=1, max_size=len(PERSONAL)))
    headers = draw(st.permutations(headers))
    rows = [list(headers)]
    for _ in range(draw(st.integers(0, 8))):
        row = []
        for header in headers:
            if header in PERSONAL:
                row.append(planted[header])
            elif draw(st.integers(0, 4)) == 0:
                row.append(draw(GARBAGE))
            else:
                row.append(draw(st.sampled_from(VALID[header])))
        shape = draw(st.integers(0, 9))
        if shape == 0 and row:  # a missing cell: everything after it shifts left
            del row[draw(st.integers(0, len(row) - 1))]
        elif shape == 1:  # an extra cell
            row.insert(draw(st.integers(0, len(row))), draw(GARBAGE))
        elif shape == 2:
            row = [""] * len(row)  # an empty row
        rows.append(row)
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=newline).writerows(rows)
    text = buf.getvalue() + draw(st.sampled_from(["", newline, newline * 3]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]))
    try:
        data = to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data, planted, complete


def _ingest(raw: Path, out: Path):
    try:
        return run_ingest(raw, out), None
    except IngestError as exc:  # the only exception ingest may raise
        return None, str(exc)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(exports(), min_size=1, max_size=3))
def test_ingest_properties(files):
    root = Path(tempfile.mkdtemp(prefix="cchc-prop-"))
    try:
        raw = root / "raw"
        (raw / "dossiers").mkdir(parents=True)
        (raw / "procedures.csv").write_text(PROCEDURES_CSV, encoding="utf-8")
        planted: list[str] = []
        for i, (data, values, _complete) in enumerate(files):
            (raw / "dossiers" / f"xuat-{i}.csv").write_bytes(data)
            planted += values.values()

        result, error = _ingest(raw, root / "out")
        if result is None:
            event("refused with IngestError: " + error[:150])
            assert all(value not in error for value in planted), error
            # Every file is a CSV export: one whose header has every required column is read,
            # whatever its rows hold; only a missing column stops the run, and says which.
            assert not all(complete for _, _, complete in files), error
            assert "thiếu cột bắt buộc" in error, error
            return
        event(f"ingested, {'some' if len(result.rejects) else 'no'} rows rejected")
        # Accounting: every row read is accepted, rejected or merged into another.
        report = result.report
        for block in [*report["files"], *report["tables"].values(), report["total"]]:
            read, accepted, rejected, merged = (block[c] for c in COUNTS)
            assert read == accepted + rejected + merged, block

        # No personal data anywhere.
        texts = [format_summary(result)]
        for path in sorted((root / "out").rglob("*")):
            if path.is_file():
                texts.append(path.read_bytes().decode("utf-8", "replace"))
                if path.suffix == ".parquet":
                    texts.append(pd.read_parquet(path).to_csv())
        for value in planted:
            assert all(value not in text for text in texts), value

        # People's CSV: no formula; processed text: no control or format character.
        with open(root / "out" / "rejects.csv", encoding="utf-8-sig", newline="") as fh:
            for record in csv.reader(fh):
                assert not any(cell.startswith(FORMULA_PREFIXES) for cell in record), record
        for table, frame in result.tables.items():
            for column in frame.columns:
                if pd.api.types.is_string_dtype(frame[column].dtype):
                    bad = [v for v in frame[column].dropna() if INVISIBLE_RE.search(v) or "\t" in v]
                    assert not bad, (table, column, bad)

        # Re-running gives identical outputs, in the same folder and in a new one.
        before = _outputs(root / "out")
        again, _ = _ingest(raw, root / "out")
        assert again is not None and _outputs(root / "out") == before
        elsewhere, _ = _ingest(raw, root / "out2")
        assert _outputs(root / "out2") == before
    finally:
        shutil.rmtree(root, ignore_errors=True)
