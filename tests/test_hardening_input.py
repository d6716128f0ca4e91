"""Hostile input (issue 11): formulas in the workbooks and CSV people open, personal data in
reject reasons, invisible characters in codes, absurd numbers, and the smaller edges of the
contract. Every expected value is written out by hand for the small file of the case."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
from openpyxl import load_workbook

from cchc_lib.cli import main
from cchc_lib.form06 import form06_table, write_form06_xlsx
from cchc_lib.ingest import run_ingest
from cchc_lib.periods import Period
from cchc_lib.safe_text import neutralise_csv_cell, strip_invisible
from tests.ingest_helpers import DOSSIER_HEADERS, csv_text, dossier_rows, make_raw
from tests.test_indicators import dossier, make_data

Q1 = Period.parse("2023-Q1")
HYPERLINK = '=HYPERLINK("http://example.invalid/x","bấm vào đây")'
DDE = "=cmd|' /C calc'!A0"


def _rejects(out) -> list[dict[str, str]]:
    text = (out / "rejects.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# -- 1. formula injection into Biểu 06 ----------------------------------------------------------


def test_form06_field_names_stay_text(tmp_path):
    data = make_data([
        dossier(1, "2023-01-05 08:00", "2023-01-10", field=HYPERLINK),
        dossier(2, "2023-01-06 08:00", "2023-01-10", field=DDE),
        dossier(3, "2023-01-07 08:00", "2023-01-10", field="+1-2"),
        dossier(4, "2023-01-08 08:00", "2023-01-10", field="@SUM(A1:A9)"),
    ])
    out = write_form06_xlsx(form06_table(data, Q1), Q1, tmp_path / "bieu06.xlsx")
    # No formula anywhere in the sheet's XML: a formula cell is an <f> element.
    with zipfile.ZipFile(out) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet
    ws = load_workbook(out).active  # formulas, if any, would come back as "=..." with type "f"
    fields = {ws.cell(row=r, column=2).value: ws.cell(row=r, column=2).data_type for r in range(13, 18)}
    assert fields == {
        "+1-2": "s", "=cmd|' /C calc'!A0": "s", HYPERLINK: "s", "@SUM(A1:A9)": "s", "Tổng cộng": "s"
    }


def test_form06_survives_control_characters_in_processed_data(tmp_path):
    """Processed data written by an older ingest may still hold a NUL: the form is written."""
    data = make_data([dossier(1, "2023-01-05 08:00", "2023-01-10", field="Đầu\x00 tư\x07")])
    out = write_form06_xlsx(form06_table(data, Q1), Q1, tmp_path / "b.xlsx")
    assert load_workbook(out).active.cell(row=13, column=2).value == "Đầu tư"


# -- 2. formula injection into rejects.csv ------------------------------------------------------


def test_rejects_csv_text_cells_are_neutralised(tmp_path):
    ids = ["=1+2", "+84912", "-3", "@SUM(A1)", "HS-ok"]
    rows = dossier_rows(*({"Mã hồ sơ": i, "Kênh nộp": "Fax"} for i in ids))
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)})
    result = run_ingest(raw, tmp_path / "out")
    got = [r["dossier_id"] for r in _rejects(tmp_path / "out")]
    assert got == ["'=1+2", "'+84912", "'-3", "'@SUM(A1)", "HS-ok"]
    # The in-memory rejects (what the library hands on) keep the exact values.
    assert result.rejects["dossier_id"].tolist() == ids


def test_neutralise_csv_cell_prefixes():
    assert [neutralise_csv_cell(v) for v in ["=a", "+a", "-a", "@a", "\ta", "\ra", "a=b", "", 5]] == [
        "'=a", "'+a", "'-a", "'@a", "'\ta", "'\ra", "a=b", "", 5
    ]


def test_machine_csv_on_stdout_keeps_exact_values(tmp_path, capsys):
    rows = dossier_rows({"Lĩnh vực": "=Đầu tư"}, {"Lĩnh vực": "-Khác"})
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)})
    run_ingest(raw, tmp_path / "out")
    capsys.readouterr()
    assert main(["indicators", "--period", "2023-01", "--by", "field", "--processed",
                 str(tmp_path / "out"), "--format", "csv"]) == 0
    groups = {r["group"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert {"=Đầu tư", "-Khác"} <= groups


# -- 4. invisible characters ----------------------------------------------------------------------


def test_strip_invisible():
    assert strip_invisible("HS\u200b-\ufeff1\u00ad\u2060") == "HS-1"
    assert strip_invisible("a\x00b\x1fc\x7fd\x85e") == "abcde"
    assert strip_invisible("dòng 1\ndòng 2\ttab") == "dòng 1 dòng 2 tab"
    assert strip_invisible("Đầu tư") == "Đầu tư"


def test_codes_differing_by_format_characters_are_one_dossier(tmp_path):
    rows = dossier_rows(
        {"Mã hồ sơ": "HS-7", "Trạng thái": "Đang xử lý"},
        {"Mã hồ sơ": "HS-\u200b7"},
        {"Mã hồ sơ": "\ufeffHS-7"},
        {"Mã hồ sơ": "HS-\u00ad7", "Trạng thái": "Đã trả kết quả", "Ngày có kết quả": "16/01/2023 09:00"},
        {"Mã hồ sơ": "HS-8", "Kênh nộp": "Trực\u200b tuyến", "Lĩnh vực": "Đầu\x00 tư\u200b",
         "Mã TTHC": "1.001\x00"},
    )
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)})
    result = run_ingest(raw, tmp_path / "out")
    d = pd.read_parquet(tmp_path / "out" / "dossiers.parquet")
    assert d["dossier_id"].tolist() == ["HS-7", "HS-8"]
    assert result.report["total"]["duplicates_merged"] == 3
    assert d.loc[0, "status"] == "returned"  # the last occurrence ("Đã trả kết quả") wins
    assert d.loc[1, "channel"] == "online" and d.loc[1, "field"] == "Đầu tư"
    assert d.loc[1, "procedure_code"] == "1.001"
    # ... and the form is written from them without an illegal-character error.
    assert main(["form06", "--period", "2023-01", "--processed", str(tmp_path / "out"),
                 "--out", str(tmp_path / "b.xlsx")]) == 0


def test_header_with_zero_width_space_is_recognised(tmp_path):
    rows = dossier_rows({})
    rows[0] = ["Mã hồ sơ\u200b" if h == "Mã hồ sơ" else "\ufeff" + h for h in DOSSIER_HEADERS]
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)})
    result = run_ingest(raw, tmp_path / "out")
    assert result.report["tables"]["dossiers"]["rows_accepted"] == 1
    assert result.tables["dossiers"]["dossier_id"].tolist() == ["HS-1"]
