"""Hostile input (issue 11): formulas in the workbooks and CSV people open, personal data in
reject reasons, invisible characters in codes, absurd numbers, and the smaller edges of the
contract. Every expected value is written out by hand for the small file of the case."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from cchc_lib.cli import main
from cchc_lib.form06 import form06_table, write_form06_xlsx
from cchc_lib.ingest.run import run_ingest
from cchc_lib.periods import Period
from cchc_lib.safe_text import neutralise_csv_cell, strip_invisible
from tests.ingest_helpers import DOSSIER_HEADERS, csv_text, dossier_rows, make_raw, stream_in_small_blocks
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


# -- 3. personal data in reject reasons ---------------------------------------------------------

NAME, CCCD, PHONE, EMAIL = "Trần Thị Bích", "079123456789", "0987654321", "bich.tran@example.vn"
PLANTED = (NAME, CCCD, PHONE, EMAIL, "Nguyễn Văn Mẫu", "001099000111", "0912345678", "Lê Văn Cường")


def _everything_written(out, result) -> str:
    from cchc_lib.ingest.run import format_summary

    texts = [format_summary(result)]
    for path in sorted(out.rglob("*")):
        if path.is_dir():
            continue
        data = path.read_bytes()
        texts.append(data.decode("utf-8", "replace"))
        if path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_csv())
    return "\n".join(texts)


def test_reasons_never_quote_personal_data(tmp_path):
    rows = dossier_rows(
        {"Đánh giá": f"{NAME} {PHONE}"},  # row 2: a name and a phone typed into a coded column
        {"Kênh nộp": PHONE},  # row 3
        {"Trạng thái": EMAIL},  # row 4
        {"Đánh giá": "Tạm được"},  # row 5: no personal data, quoted to help the fix
        {},  # row 6: made ragged below
        {},  # row 7: made ragged below
        {"Thời gian chờ (phút)": CCCD},  # row 8: an ID number typed into a number column
    )
    # Row 6 lacks its "Thời gian chờ" cell: the name would move into it, the CCCD into "Chủ hồ sơ".
    wait = DOSSIER_HEADERS.index("Thời gian chờ (phút)")
    del rows[5][wait]
    # Row 7 lacks "Đánh giá" and "Thời gian chờ": the name would land in Đánh giá.
    del rows[6][wait - 1 : wait + 1]
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)})
    (raw / "feedback").mkdir()
    (raw / "feedback" / "pakn.csv").write_text(
        "Mã PAKN,Ngày tiếp nhận,Hạn xử lý,Đối tượng,Đánh giá\n"
        "PA-1,02/01/2023,10/01/2023,Lê Văn Cường,\n"
        "PA-2,02/01/2023,10/01/2023,TTHC,Rất Hài Lòng\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_ingest(raw, out)
    written = _everything_written(out, result)
    for value in PLANTED:
        assert value not in written, value
    assert "Nguyễn" not in written and "Cường" not in written
    reasons = {(r["source_file"], r["source_row"]): r["reason"] for r in _rejects(out)}
    withheld = "(không trích giá trị vì có thể là dữ liệu cá nhân)"
    assert reasons == {
        ("dossiers/d.csv", "2"): f"Đánh giá: giá trị không hợp lệ {withheld}",
        ("dossiers/d.csv", "3"): f"Kênh nộp: giá trị không hợp lệ {withheld}",
        ("dossiers/d.csv", "4"): f"Trạng thái: giá trị không hợp lệ {withheld}",
        ("dossiers/d.csv", "5"): "Đánh giá: giá trị không hợp lệ 'Tạm được'",
        # A ragged row is rejected whole, whatever its shifted cells hold.
        ("dossiers/d.csv", "6"): "Dòng lệch cột: có 17 ô, dòng tiêu đề có 18 ô",
        ("dossiers/d.csv", "7"): "Dòng lệch cột: có 16 ô, dòng tiêu đề có 18 ô",
        ("dossiers/d.csv", "8"): f"Thời gian chờ (phút): lớn hơn mức hợp lý 1.440 {withheld}",
        ("feedback/pakn.csv", "2"): f"Đối tượng: giá trị không hợp lệ {withheld}",
    }
    # A mis-capitalised known spelling is no name: it is read (and would be quoted if wrong).
    assert result.tables["feedback"]["rating"].tolist() == ["very_satisfied"]


def test_may_be_personal_examples():
    from cchc_lib.reasons import may_be_personal

    personal = ["Nguyễn Văn An", "NGUYỄN VĂN AN", "0912 345 678", "+84912345678", "001099000111",
                "an.nguyen@gmail.com", "Số 5 ngõ 3 Lê Lợi"]
    harmless = ["Fax", "Tạm được", "Có lẽ", "abc", "31/02/2023 08:30", "2023-13-45 10:00:00", "1e308",
                "-5", "DVC BCCI", "@SUM(A1)", "44927.5"]
    assert [v for v in personal if not may_be_personal(v)] == []
    assert [v for v in harmless if may_be_personal(v)] == []


def test_phone_or_id_shaped_examples():
    from cchc_lib.reasons import may_be_personal, phone_or_id_shaped

    shaped = ["0967947121", "0912 345 678", "0912.345.678", "+84 912 345 678", "84912345678",
              "079167947121", "(0207) 3822 123", "012345678"]
    other = ["HS-1", "000.00.16.H60-230115-0001", "2301150001", "12345678", "0123456789012",
             "15/01/2023", "01.01.2023", "H60.22-0001", "1.001", ""]
    assert [v for v in shaped if not phone_or_id_shaped(v)] == []
    assert [v for v in other if phone_or_id_shaped(v)] == []
    # Record ids (digits=False): long digit strings pass, a phone's or ID number's shape does not.
    assert [v for v in shaped if not may_be_personal(v, digits=False)] == []
    assert [v for v in other if may_be_personal(v, digits=False)] == []


def test_a_row_shifted_right_does_not_put_a_phone_in_the_rejects(tmp_path):
    """A row with one empty cell too many at its start and a trailing delimiter is not ragged
    (its filled cells end with the header's), yet each value sits one column to the right: the
    phone number lands in "Mã hồ sơ". The row is rejected (its dates and codes are nonsense)
    and its id withheld, like a ragged row's; the file and row number lead to it."""
    header = ("Lĩnh vực,Phòng xử lý,Email,Tên TTHC,Mã TTHC,Ngày tiếp nhận,Kênh nộp,Mức độ DVC,"
              "Ngày hẹn trả,Trạng thái,Chủ hồ sơ,Ngày trả kết quả,Số CCCD/CMND,Số điện thoại,"
              "Mã hồ sơ,Địa chỉ,Ngày có kết quả")
    shifted = (",Doanh nghiệp,Phòng Đăng ký kinh doanh,lxmdkd@example.invalid,Đăng ký doanh nghiệp,"
               "1.001,15/01/2023 08:00,Trực tuyến,Toàn trình,20/01/2023,Đang xử lý,Phạm Thị Lxmdkd,,"
               "079167947121,0967947121,HS-1,Số 7 ngõ Lxmdkd,")
    assert len(shifted.split(",")) == len(header.split(",")) + 1
    raw = make_raw(tmp_path / "raw", {"d.csv": header + "\r\n" + shifted + "\r\n"})
    out = tmp_path / "out"
    result = run_ingest(raw, out)
    rejects = _rejects(out)
    assert [(r["source_row"], r["dossier_id"]) for r in rejects] == [("2", "")]
    assert result.report["total"]["rows_rejected"] == 1
    written = _everything_written(out, result)
    for value in ("0967947121", "079167947121", "Lxmdkd"):
        assert value not in written, value


# -- 7. absurd numbers ---------------------------------------------------------------------------


def test_numbers_beyond_plausible_bounds_are_rejected(tmp_path):
    rows = dossier_rows(
        {"Thời gian chờ (phút)": "1e308"},
        {"Thời gian chờ (phút)": "1441"},
        {"Thời gian chờ (phút)": "1440"},
        {"Thời gian chờ (phút)": "30"},
    )
    procedures = (
        "Mã TTHC,Tên TTHC,Lĩnh vực,Mức độ DVC,Số trường tờ khai trước,Số trường tờ khai sau,"
        "Thời hạn giải quyết (ngày làm việc),Năm\n"
        "1.001,Đăng ký doanh nghiệp,Doanh nghiệp,Toàn trình,20,12,3,2023\n"
        "1.002,Thủ tục B,Doanh nghiệp,Toàn trình,5000,12,3,2023\n"
        "1.003,Thủ tục C,Doanh nghiệp,Toàn trình,20,12,100000,2023\n"
        "1.004,Thủ tục D,Doanh nghiệp,Toàn trình,20,12,3,99999\n"
        "1.005,Thủ tục E,Doanh nghiệp,Toàn trình,20,12,3,23\n"
    )
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)}, procedures=procedures)
    result = run_ingest(raw, tmp_path / "out")
    reasons = {(r["table"], r["source_row"]): r["reason"] for r in _rejects(tmp_path / "out")}
    assert reasons == {
        ("dossiers", "2"): "Thời gian chờ (phút): lớn hơn mức hợp lý 1.440 '1e308'",
        ("dossiers", "3"): "Thời gian chờ (phút): lớn hơn mức hợp lý 1.440 '1441'",
        ("procedures", "3"): "Số trường tờ khai trước: lớn hơn mức hợp lý 1.000 '5000'",
        ("procedures", "4"): "Thời hạn giải quyết (ngày làm việc): lớn hơn mức hợp lý 365 '100000'",
        ("procedures", "5"): "Năm: lớn hơn mức hợp lý 2099 '99999'",
        ("procedures", "6"): "Năm: nhỏ hơn 1950 '23'",
    }
    d = result.tables["dossiers"]
    assert d["wait_minutes"].tolist() == [1440, 30]
    assert d["wait_minutes"].mean() == 735


def test_a_number_beyond_int64_in_a_whole_number_column_is_rejected_without_a_warning(tmp_path):
    procedures = (
        "Mã TTHC,Tên TTHC,Lĩnh vực,Mức độ DVC,Thời hạn giải quyết (ngày làm việc),Năm\n"
        "1.001,Đăng ký doanh nghiệp,Doanh nghiệp,Toàn trình,3,2023\n"
        "1.002,Thủ tục B,Doanh nghiệp,Toàn trình,1e19,2023\n"
        "1.003,Thủ tục C,Doanh nghiệp,Toàn trình,3,-1e308\n"
    )
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(dossier_rows({}))}, procedures=procedures)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" among them
        result = run_ingest(raw, tmp_path / "out")
    reasons = {(r["table"], r["source_row"]): r["reason"] for r in _rejects(tmp_path / "out")}
    assert reasons == {
        ("procedures", "3"): "Thời hạn giải quyết (ngày làm việc): lớn hơn mức hợp lý 365 '1e19'",
        ("procedures", "4"): "Năm: nhỏ hơn 1950 '-1e308'",
    }
    assert result.tables["procedures"]["procedure_code"].tolist() == ["1.001"]


def test_every_numeric_column_has_a_finite_bound():
    from cchc_lib import schema
    from cchc_lib.bounds import BOUNDS

    numeric = {s.name for specs in schema.TABLES.values() for s in specs
               if s.dtype in (schema.FLOAT, schema.INT) and s.name != "source_row"}
    assert numeric <= set(BOUNDS), numeric - set(BOUNDS)


# -- 9. harmless quirks stay on the fast path ----------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
@pytest.mark.parametrize("tail", ["\r\n", "\r\n\r\n\r\n", "\n\n"])
def test_trailing_blank_lines_keep_the_fast_reader(tmp_path, monkeypatch, encoding, tail):
    from cchc_lib import reading
    from cchc_lib.mapping import load_mapping

    def slow(*args, **kwargs):
        raise AssertionError("the slow reader was used")

    monkeypatch.setattr(reading, "_slow_read", slow)
    path = tmp_path / "d.csv"
    path.write_bytes((csv_text(dossier_rows({}, {}, {})) + tail).encode(encoding))
    raw = reading.read_file(path, tmp_path, "dossiers", load_mapping())
    assert raw.rows.tolist() == [2, 3, 4]
    assert raw.data.column("dossier_id").to_pylist() == ["HS-1", "HS-2", "HS-3"]


def test_a_blank_line_inside_still_keeps_row_numbers(tmp_path):
    from cchc_lib import reading
    from cchc_lib.mapping import load_mapping

    lines = csv_text(dossier_rows({}, {})).split("\r\n")
    path = tmp_path / "d.csv"
    path.write_text("\r\n".join([*lines[:2], "", *lines[2:]]) + "\r\n", encoding="utf-8")
    raw = reading.read_file(path, tmp_path, "dossiers", load_mapping())
    assert raw.rows.tolist() == [2, 4]


def test_ragged_rows_are_rejected_whole_and_harmless_trailing_cells_are_not(tmp_path):
    rows = dossier_rows({}, {}, {}, {}, {})
    # Row 3: an extra filled cell shifts everything after "Tên TTHC" one column right.
    rows[2].insert(3, "Nguyễn Văn Mẫu")
    # Row 4: cut short: the personal columns are missing, the rest would shift nothing, but the
    # row cannot be told from a shifted one.
    rows[3] = rows[3][:5]
    rows[4].append("")  # row 5: a trailing delimiter is harmless
    # Row 6: a name typed into a free-text column shifted in from a missing "Mã TTHC" cell.
    del rows[5][DOSSIER_HEADERS.index("Mã TTHC")]
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(rows)})
    result = run_ingest(raw, tmp_path / "out")
    assert result.rejects[["source_row", "column", "reason"]].values.tolist() == [
        [3, "row", "Dòng lệch cột: có 19 ô, dòng tiêu đề có 18 ô"],
        [4, "row", "Dòng lệch cột: có 5 ô, dòng tiêu đề có 18 ô"],
        [6, "row", "Dòng lệch cột: có 17 ô, dòng tiêu đề có 18 ô"],
    ]
    assert result.tables["dossiers"]["source_row"].tolist() == [2, 5]
    # A shifted row's id may be another column's value (an ID number): left out.
    assert result.rejects["dossier_id"].tolist() == ["", "", ""]


def test_no_formulas_in_a_workbook_built_with_append(tmp_path):
    """Any workbook we write (e.g. table exports built with ws.append) goes through no_formulas."""
    from openpyxl import Workbook

    from cchc_lib.safe_text import no_formulas

    book = Workbook()
    book.active.append(["Phòng", HYPERLINK, DDE, 3, "Đầu tư"])
    no_formulas(book)
    book.save(tmp_path / "t.xlsx")
    with zipfile.ZipFile(tmp_path / "t.xlsx") as zf:
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    row = [(c.value, c.data_type) for c in load_workbook(tmp_path / "t.xlsx").active[1]]
    assert row == [("Phòng", "s"), (HYPERLINK, "s"), (DDE, "s"), (3, "n"), ("Đầu tư", "s")]


@pytest.mark.parametrize("streamed", [False, True], ids=["read", "streamed in small blocks"])
def test_a_carriage_return_inside_an_unquoted_cell_does_not_hide_the_header(tmp_path, monkeypatch,
                                                                             streamed):
    """A stray carriage return in an unquoted cell of a row (line ends LF; an exporter that did
    not quote it) ends a record for every CSV reader. It used to make the header search fail
    with the true delimiter, and the file was refused as lacking every required column, its
    header intact. Now the row's two pieces are rejected as ragged rows, the rest is read."""
    whole_reads = stream_in_small_blocks(monkeypatch) if streamed else []
    # Enough rows after it for several 1 KB blocks when streamed.
    rows = dossier_rows({}, {"Tên TTHC": "Đăng ký\rdoanh nghiệp"}, *[{}] * 60)
    text = "".join(",".join(row) + "\n" for row in rows)
    assert len(text.encode("utf-8")) > 3 * 4096  # beyond the streamed head and several blocks
    raw = make_raw(tmp_path / "raw", {"d.csv": text})
    result = run_ingest(raw, tmp_path / "out")
    cut = DOSSIER_HEADERS.index("Tên TTHC")  # the cell holding the carriage return
    header = len(DOSSIER_HEADERS)
    assert result.rejects[["source_row", "column", "reason"]].values.tolist() == [
        [3, "row", f"Dòng lệch cột: có {cut + 1} ô, dòng tiêu đề có {header} ô"],
        [4, "row", f"Dòng lệch cột: có {header - cut} ô, dòng tiêu đề có {header} ô"],
    ]
    kept = ["HS-1", *(f"HS-{i}" for i in range(3, 63))]  # the rows after it keep their numbers + 1
    assert result.tables["dossiers"]["dossier_id"].tolist() == kept
    assert result.tables["dossiers"]["source_row"].tolist() == [2, *range(5, 65)]
    counts = result.report["tables"]["dossiers"]
    assert [counts[c] for c in ("rows_read", "rows_accepted", "rows_rejected")] == [63, 61, 2]
    assert whole_reads == []  # streamed to the end, not read again whole
