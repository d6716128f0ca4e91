"""Reading rules: encodings, NFC, header detection, title rows, row numbers, dates, yes/no."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from cchc_lib.mapping import load_mapping, norm_key
from cchc_lib.reading import IngestError, read_file
from cchc_lib.validation import parse_datetimes, validate
from tests.ingest_helpers import DOSSIER_HEADERS, csv_text, dossier_rows, to_cp1258

EXAMPLE = Path("/work/shared/spec/examples/dossiers-example.csv")
MAPPING = load_mapping()


def _read(path: Path, table: str = "dossiers"):
    raw = read_file(path, path.parent, table, MAPPING)
    rows = raw.rows.tolist()
    return raw, rows


def test_norm_key_folds_case_whitespace_and_composition():
    decomposed = unicodedata.normalize("NFD", "Hài lòng")
    assert decomposed != "Hài lòng"
    assert norm_key(decomposed) == norm_key("  HÀI   lòng ")


def test_example_file_drops_personal_columns_and_numbers_rows():
    raw, rows = _read(EXAMPLE)
    assert rows == [2, 3, 4]
    assert "dossier_id" in raw.present
    for personal in ("Chủ hồ sơ", "Số CCCD/CMND", "Số điện thoại", "Email", "Địa chỉ"):
        assert personal not in raw.present
    text = " ".join(str(v) for col in raw.data.columns for v in col.to_pylist())
    assert "Nguyễn Văn Ví Dụ" not in text and "000000000001" not in text


ROW = {"Tên TTHC": "Thủ tục Đặng ký", "Đánh giá": "Rất hài lòng", "Mã hồ sơ": "HS-9"}


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("utf-16", "\t"), ("cp1258", ","), ("utf-8", ";")],
)
def test_encodings_and_delimiters(tmp_path, encoding, delimiter):
    text = csv_text(dossier_rows(ROW), delimiter)
    data = to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    raw, rows = _read(path)
    frame, rejects = validate(raw, MAPPING)
    assert rejects.empty
    assert rows == [2]
    assert frame.loc[0, "procedure_name"] == "Thủ tục Đặng ký"  # composed (NFC)
    assert frame.loc[0, "rating"] == "very_satisfied"
    assert frame.loc[0, "dossier_id"] == "HS-9"


def test_decomposed_headers_and_values_equal_composed(tmp_path):
    text = unicodedata.normalize("NFD", csv_text(dossier_rows(ROW)))
    path = tmp_path / "nfd.csv"
    path.write_text(text, encoding="utf-8")
    frame, rejects = validate(_read(path)[0], MAPPING)
    assert rejects.empty
    assert frame.loc[0, "procedure_name"] == "Thủ tục Đặng ký"
    assert frame.loc[0, "field"] == "Thành lập và hoạt động của doanh nghiệp"
    assert frame.loc[0, "rating"] == "very_satisfied"


def test_headers_match_case_insensitively_with_extra_spaces(tmp_path):
    headers = [f"  {h.upper()}  " if h == "Mã hồ sơ" else h.replace(" ", "  ") for h in DOSSIER_HEADERS]
    path = tmp_path / "h.csv"
    rows = dossier_rows({})
    rows[0] = headers
    path.write_text(csv_text(rows), encoding="utf-8")
    frame, _ = validate(_read(path)[0], MAPPING)
    assert frame.loc[0, "dossier_id"] == "HS-1"


def test_csv_title_rows_and_blank_lines_keep_spreadsheet_row_numbers(tmp_path):
    body = csv_text(dossier_rows({}, {}, {}))
    lines = body.split("\r\n")
    # Two title rows, then the header (row 3); a blank line after the first data row (row 5).
    text = "BÁO CÁO DANH SÁCH HỒ SƠ\r\nTừ 01/01/2023 đến 31/01/2023\r\n" + "\r\n".join(
        [lines[0], lines[1], "", lines[2], lines[3]]
    )
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    raw, rows = _read(path)
    assert rows == [4, 6, 7]
    # Without the blank line: plain arrow path, title rows counted.
    path.write_text("BÁO CÁO\r\n" + body, encoding="utf-8")
    assert _read(path)[1] == [3, 4, 5]


def test_missing_required_column_names_file_and_columns(tmp_path):
    # The channel is optional since real exports may lack it (conventions.md §1); a procedure
    # is required as a code or a name.
    headers = [h for h in DOSSIER_HEADERS if h not in ("Ngày hẹn trả", "Trạng thái", "Mã TTHC", "Tên TTHC")]
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(dossier_rows({}, headers=headers)), encoding="utf-8")
    with pytest.raises(IngestError) as err:
        _read(path)
    assert "bad.csv" in str(err.value)
    assert "Trạng thái" in str(err.value) and "Ngày hẹn trả" in str(err.value)
    assert "Mã TTHC hoặc Tên TTHC" in str(err.value)


def test_xlsx_title_rows_excel_dates_serials_and_booleans(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO DANH SÁCH HỒ SƠ TTHC"])
    ws.append([])
    header = [
        "Mã hồ sơ",
        "Mã TTHC",
        "Tên TTHC",
        "Lĩnh vực",
        "Phòng xử lý",
        "Kênh nộp",
        "Ngày tiếp nhận",
        "Ngày hẹn trả",
        "Ngày có kết quả",
        "Trạng thái",
        "Số hóa hồ sơ",
        "Phiếu xin lỗi",
        "Chủ hồ sơ",
    ]
    ws.append(header)  # row 3
    common = ["1.001", "Thủ tục", "Lĩnh vực", "Phòng A", "Trực tiếp"]
    # Row 4: Excel datetime cells, a midnight (date-only) due date, an Excel boolean.
    ws.append(
        [
            "HS-A",
            *common,
            datetime(2023, 1, 15, 8, 30),
            datetime(2023, 1, 18),
            None,
            "Đang xử lý",
            True,
            False,
            "Trần Thị Bí Mật",
        ]
    )
    ws.append([None] * len(header))  # row 5: empty, skipped
    # Row 6: Excel serial numbers (44941 = 15/01/2023; .75 = 18:00), integer serial due date.
    ws.append(["HS-B", *common, 44941.75, 44944, 44942.5, "Đã có kết quả", "x", None, "Lê Văn Bí Mật"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    raw, rows = _read(path)
    assert rows == [4, 6]
    frame, rejects = validate(raw, MAPPING)
    assert rejects.empty
    eod = pd.Timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)
    assert frame["received_at"].tolist() == [
        pd.Timestamp("2023-01-15 08:30"),
        pd.Timestamp("2023-01-15 18:00"),
    ]
    assert frame["due_at"].tolist() == [pd.Timestamp("2023-01-18") + eod, pd.Timestamp("2023-01-18") + eod]
    assert frame["completed_at"].isna().tolist() == [True, False]
    assert frame.loc[1, "completed_at"] == pd.Timestamp("2023-01-16 12:00")
    assert frame["digitized"].tolist() == [True, True]
    assert frame["apology_issued"].tolist() == [False, False]  # Excel FALSE and an empty cell
    assert frame["paid_online"].isna().all()  # column absent from the file: unknown


def test_date_forms():
    values = pa.array(
        [
            "15/01/2023",
            "15/01/2023 08:30",
            "15/01/2023 08:30:15",
            "5/1/2023",
            "2023-01-15",
            "2023-01-15T08:30:00",
            "2023-01-15 08:30",
            "44941",
            "44941.5",
            "2023-01-15T08:30:00+07:00",
            "2023-01-15T01:30:00Z",
            "2023-01-15T08:30:00.250",
            "",
            "32/01/2023",
            "15/01/23",
            "hôm qua",
            "31/02/2022 08:15",  # no such day: must not roll over to 03/03/2022
            "2023-02-30",
        ]
    )
    got, date_only, invalid = parse_datetimes(values)
    ts = pd.to_datetime(got)
    expected = [
        "2023-01-15",
        "2023-01-15 08:30",
        "2023-01-15 08:30:15",
        "2023-01-05",
        "2023-01-15",
        "2023-01-15 08:30",
        "2023-01-15 08:30",
        "2023-01-15",
        "2023-01-15 12:00",
        "2023-01-15 08:30",
        "2023-01-15 08:30",
        "2023-01-15 08:30:00.250",
    ]
    assert list(ts[:12]) == [pd.Timestamp(e) for e in expected]
    assert ts[12:].isna().all()
    assert date_only.tolist()[:12] == [
        True,
        False,
        False,
        True,
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert invalid.tolist() == [False] * 13 + [True] * 5
    assert got.dtype == np.dtype("datetime64[ns]")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Có", True),
        ("có", True),
        ("x", True),
        ("X", True),
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Không", False),
        ("0", False),
        ("false", False),
        ("", False),
        ("  ", False),
    ],
)
def test_yes_no_forms(tmp_path, value, expected):
    path = tmp_path / "yn.csv"
    path.write_text(csv_text(dossier_rows({"Số hóa hồ sơ": value})), encoding="utf-8")
    frame, rejects = validate(_read(path)[0], MAPPING)
    assert rejects.empty
    assert frame.loc[0, "digitized"] is np.bool_(expected) or bool(frame.loc[0, "digitized"]) is expected
