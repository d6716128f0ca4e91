"""Reading what real one-stop systems write (conventions.md §1): HTML tables saved as .xls, BIFF
.xls, upper-case extensions, Excel "Unicode text", bare-CR CSV; every other file of an input
folder named as skipped; a password-protected workbook said so. Files are built here."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from cchc_lib.ingest.run import format_summary, run_ingest
from cchc_lib.mapping import load_mapping
from cchc_lib.processed import load_processed
from cchc_lib.readers import html_rows, read_input, read_workbook, sniff, survey
from cchc_lib.reading import IngestError, read_xlsx_file
from tests.ingest_helpers import DOSSIER_HEADERS, PROCEDURES_CSV, csv_text, dossier_rows, make_raw

MAPPING = load_mapping()

REAL_HEADERS = ["STT", "Số hiệu giấy tờ (Mã hồ sơ)", "Tên thủ tục hành chính", "Người nộp",
                "Số CCCD chủ hồ sơ", "Ngày nộp hồ sơ", "Ngày nhận", "Ngày hẹn trả", "Ngày kết thúc xử lý",
                "Đơn vị tiếp nhận", "Đơn vị giải quyết", "Phòng ban", "Trạng thái hồ sơ", "Loại tiếp nhận",
                "Cán bộ đang xử lý", "Nội dung hồ sơ", "Số điện thoại người nhận kết quả"]
REAL_ROWS = [
    ["1", "000.00.12.H56-230302-0001", "Đăng ký doanh nghiệp", "Nguyễn Văn Mẫu", "001099000111",
     "01/03/2023 20:15", "02/03/2023 08:30", "07/03/2023", "06/03/2023 10:00", "Sở KH&ĐT",
     "Sở KH&ĐT", "Phòng Đăng ký kinh doanh", "Đã trả kết quả", "Trực tuyến", "Trần Thị Cán Bộ",
     "Đăng ký cho bà Lê Thị Riêng", "0912345678"],
    ["2", "000.00.12.H56-230302-0002", "Đăng ký doanh nghiệp", "Phạm Văn Hai", "001099000222",
     "", "02/03/2023 09:00", "07/03/2023", "", "Sở KH&ĐT", "Sở KH&ĐT", "Phòng Đăng ký kinh doanh",
     "Chờ bổ sung", "Qua bưu chính công ích", "", "", ""],
    ["3", "000.00.12.H56-230303-0003", "Đăng ký doanh nghiệp", "Hoàng Thị Ba", "001099000333",
     "03/03/2023 07:00", "", "", "", "Sở KH&ĐT", "", "", "Mới đăng ký", "Trực tuyến", "", "", ""],
]
PERSONAL_VALUES = ["Nguyễn Văn Mẫu", "001099000111", "Trần Thị Cán Bộ", "Lê Thị Riêng", "0912345678",
                   "Phạm Văn Hai", "001099000222", "Hoàng Thị Ba", "001099000333"]


def real_html(headers=REAL_HEADERS, rows=REAL_ROWS, charset="utf-8") -> bytes:
    """A web page's "Xuất Excel": title rows spanning the columns, the header, the rows."""
    n = len(headers)
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    page = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head><body>'
        f'<table border="1"><tr><td colspan="{n}"><b>DANH SÁCH HỒ SƠ</b></td></tr>'
        f'<tr><td colspan="{n}">Từ ngày 01/03/2023<br>đến ngày 31/03/2023</td></tr>'
        f"<tr>{head}</tr>{body}</table></body></html>"
    )
    return page.encode(charset)


def test_real_html_xls_ingests_every_row_without_personal_data(tmp_path):
    raw = make_raw(tmp_path / "raw", {"DS-HO-SO-T3.XLS": real_html()})
    result = run_ingest(raw, tmp_path / "out")
    data = load_processed(tmp_path / "out")
    d = data.dossiers.set_index("dossier_id")
    assert len(d) == 3 and result.rejects.empty  # every row accounted for: 3 read, 3 kept
    first = d.loc["000.00.12.H56-230302-0001"]
    # the code and the field from the catalogue (receipt year 2023), "Phòng ban" wins over the
    # "Đơn vị" columns, the completion from "Ngày kết thúc xử lý", the submission kept apart
    assert (first["procedure_code"], first["field"]) == ("1.001", "Thành lập và hoạt động của doanh nghiệp")
    assert first["department"] == "Phòng Đăng ký kinh doanh"
    assert first["completed_at"] == pd.Timestamp("2023-03-06 10:00")
    assert first["submitted_at"] == pd.Timestamp("2023-03-01 20:15")
    assert first["received_at"] == pd.Timestamp("2023-03-02 08:30")
    assert first["due_at"] == pd.Timestamp("2023-03-07 23:59:59.999999")
    assert (first["status"], first["channel"]) == ("returned", "online")
    second = d.loc["000.00.12.H56-230302-0002"]
    assert (second["status"], second["channel"]) == ("awaiting_supplement", "postal")
    third = d.loc["000.00.12.H56-230303-0003"]
    assert third["status"] == "not_received" and pd.isna(third["received_at"])
    # rows numbered as Excel shows the page: two title rows, the header on row 3
    assert d["source_row"].tolist() == [4, 5, 6]
    text = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in (tmp_path / "out").iterdir()
                     if p.suffix in (".csv", ".json"))
    text += data.dossiers.astype(str).to_csv()
    for value in PERSONAL_VALUES:
        assert value not in text, value


def test_html_spans_keep_columns_aligned():
    page = (b"<table><tr><th rowspan='2'>STT</th><th colspan='2'>Ng\xc3\xa0y</th></tr>"
            b"<tr><th>A</th><th>B</th></tr><tr><td>1</td><td>x</td><td>y</td></tr></table>")
    assert html_rows(page) == [["STT", "Ngày", ""], ["", "A", "B"], ["1", "x", "y"]]


def test_html_in_windows_1258_without_charset(tmp_path):
    from tests.ingest_helpers import to_cp1258

    page = real_html().decode("utf-8").replace('<meta http-equiv="Content-Type" '
                                                'content="text/html; charset=utf-8">', "")
    raw = make_raw(tmp_path / "raw", {"a.xls": to_cp1258(page)})
    run_ingest(raw, tmp_path / "out")
    d = load_processed(tmp_path / "out").dossiers
    assert d["department"].iloc[0] == "Phòng Đăng ký kinh doanh"


def biff_workbook(path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Danh sach")
    ws.write(0, 0, "DANH SÁCH HỒ SƠ TTHC")
    stamp = xlwt.easyxf(num_format_str="DD/MM/YYYY HH:MM")
    day = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for c, h in enumerate(DOSSIER_HEADERS):
        ws.write(2, c, h)
    values = dossier_rows({})[1]
    for c, h in enumerate(DOSSIER_HEADERS):
        if h == "Ngày tiếp nhận":
            ws.write(3, c, dt.datetime(2023, 1, 15, 8, 0), stamp)
        elif h == "Ngày hẹn trả":
            ws.write(3, c, dt.datetime(2023, 1, 18), day)  # a date-only due
        elif h == "STT":
            ws.write(3, c, 1)
        else:
            ws.write(3, c, values[c])
    wb.save(str(path))


def test_biff_xls_built_and_read_back(tmp_path):
    raw = make_raw(tmp_path / "raw", {})
    biff_workbook(raw / "dossiers" / "cu-2003.XLS")
    assert sniff(raw / "dossiers" / "cu-2003.XLS") == "xls"
    result = run_ingest(raw, tmp_path / "out")
    d = load_processed(tmp_path / "out").dossiers
    assert result.rejects.empty and len(d) == 1
    assert d["received_at"].iloc[0] == pd.Timestamp("2023-01-15 08:00")
    assert d["due_at"].iloc[0] == pd.Timestamp("2023-01-18 23:59:59.999999")  # date-only: end of day
    assert d["source_row"].iloc[0] == 4
    assert "Nguyễn Văn Mẫu" not in d.astype(str).to_csv()


def xlsx_bytes(rows: list[list[object]], title_rows: int = 2) -> bytes:
    wb = Workbook()
    ws = wb.active
    for _ in range(title_rows):
        ws.append(["Báo cáo"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_calamine_and_openpyxl_read_the_same(tmp_path):
    rows = dossier_rows({}, {"Ngày hẹn trả": "20/01/2023", "Thời gian chờ (phút)": "12,5"}, {})
    rows[2][DOSSIER_HEADERS.index("STT")] = 2  # a number cell
    path = tmp_path / "a.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    fast, fast_rows = read_workbook(path, "a.xlsx", "dossiers", MAPPING)
    slow, slow_rows = read_xlsx_file(path, "a.xlsx", "dossiers", MAPPING)
    assert fast.to_pylist() == slow.to_pylist()
    assert np.array_equal(fast_rows, slow_rows) and fast_rows.tolist() == [4, 5, 6]


def test_upper_case_extensions_and_unicode_text(tmp_path):
    rows = dossier_rows({"Mã hồ sơ": "A"}, {"Mã hồ sơ": "B"})
    text = csv_text(rows, delimiter="\t")
    files = {
        "a.CSV": csv_text(dossier_rows({"Mã hồ sơ": "C"})),
        "b.XLSX": xlsx_bytes(dossier_rows({"Mã hồ sơ": "D"})),
        # Excel "Unicode text": UTF-16 little endian with a BOM, tabs
        "c.TXT": b"\xff\xfe" + text.encode("utf-16-le"),
    }
    raw = make_raw(tmp_path / "raw", files)
    result = run_ingest(raw, tmp_path / "out")
    d = load_processed(tmp_path / "out").dossiers
    assert sorted(d["dossier_id"]) == ["A", "B", "C", "D"]
    assert [f["file"] for f in result.report["files"] if f["table"] == "dossiers"] == [
        "dossiers/a.CSV", "dossiers/b.XLSX", "dossiers/c.TXT"]
    assert result.report["skipped"] == []


def test_bare_cr_line_endings(tmp_path):
    text = csv_text(dossier_rows({"Mã hồ sơ": "A"}, {"Mã hồ sơ": "B"})).replace("\r\n", "\r")
    raw = make_raw(tmp_path / "raw", {"mac.csv": "BÁO CÁO\r" + text})
    run_ingest(raw, tmp_path / "out")
    d = load_processed(tmp_path / "out").dossiers
    assert d["dossier_id"].tolist() == ["A", "B"] and d["source_row"].tolist() == [3, 4]


def test_every_other_file_is_named_as_skipped(tmp_path):
    raw = make_raw(tmp_path / "raw", {
        "a.csv": csv_text(dossier_rows({})),
        "rong.csv": b"",
        "~$a.xlsx": b"lock",
        ".DS_Store": b"\x00\x01",
        "huong-dan.pdf": b"%PDF-1.4",
        "ghi-chu.docx": b"PK\x03\x04",
    })
    (raw / "README.md").write_text("Dữ liệu mẫu", encoding="utf-8")
    (raw / "cu").mkdir()
    found, skipped = survey(raw)
    assert [p.name for p in found["dossiers"]] == ["a.csv"]
    reasons = {s.file: s.reason for s in skipped}
    assert set(reasons) == {"dossiers/rong.csv", "dossiers/~$a.xlsx", "dossiers/.DS_Store",
                            "dossiers/huong-dan.pdf", "dossiers/ghi-chu.docx", "README.md", "cu"}
    assert reasons["dossiers/rong.csv"] == "tệp rỗng (0 byte)"
    assert "tệp khóa tạm của Excel" in reasons["dossiers/~$a.xlsx"]
    assert "phần mở rộng .pdf" in reasons["dossiers/huong-dan.pdf"]
    result = run_ingest(raw, tmp_path / "out")
    summary = format_summary(result)
    assert "Tệp bỏ qua, không đọc (7):" in summary
    assert "dossiers/rong.csv: tệp rỗng (0 byte)" in summary
    assert {s["file"] for s in result.report["skipped"]} == set(reasons)


def test_only_an_empty_export_says_so(tmp_path):
    raw = make_raw(tmp_path / "raw", {"rong.csv": b""})
    with pytest.raises(IngestError, match="rong.csv: tệp rỗng"):
        run_ingest(raw, tmp_path / "out")


def test_password_protected_workbook_says_so(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(xlsx_bytes(dossier_rows({})))
    encrypted = io.BytesIO()
    OOXMLFile(plain).encrypt("mat-khau", encrypted)
    raw = make_raw(tmp_path / "raw", {"bao-mat.xlsx": encrypted.getvalue()})
    assert sniff(raw / "dossiers" / "bao-mat.xlsx") == "encrypted"
    with pytest.raises(IngestError) as info:
        run_ingest(raw, tmp_path / "out")
    message = str(info.value)
    assert "bao-mat.xlsx" in message and "mật khẩu" in message and "zip" not in message
    assert not (tmp_path / "out" / "dossiers.parquet").exists()


def test_a_non_table_with_a_data_extension_stops_the_run(tmp_path):
    raw = make_raw(tmp_path / "raw", {"a.xlsx": b"%PDF-1.4 \x00\x01\x02\x03\x04\x05\x06\x07" * 50})
    with pytest.raises(IngestError, match="a.xlsx không phải CSV"):
        read_input(raw / "dossiers" / "a.xlsx", raw, "dossiers", MAPPING)


def test_procedures_by_any_extension_case(tmp_path):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    (raw / "procedures.csv").unlink()
    (raw / "Procedures.CSV").write_text(PROCEDURES_CSV, encoding="utf-8")
    result = run_ingest(raw, tmp_path / "out")
    assert result.report["tables"]["procedures"]["rows_read"] == 2


def test_two_level_header(tmp_path):
    """A group heading spanning two dates, the other headings merged down (rowspan)."""
    page = (
        "<table><tr><td colspan='7'>DANH SÁCH HỒ SƠ</td></tr>"
        "<tr><th rowspan='2'>STT</th><th rowspan='2'>Mã hồ sơ</th><th rowspan='2'>Tên TTHC</th>"
        "<th colspan='2'>Thời gian</th><th rowspan='2'>Trạng thái</th><th rowspan='2'>Người nộp</th></tr>"
        "<tr><th>Ngày nhận</th><th>Ngày hẹn trả</th></tr>"
        "<tr><td>1</td><td>H-1</td><td>Đăng ký doanh nghiệp</td><td>02/03/2023 08:00</td>"
        "<td>07/03/2023</td><td>Đang xử lý</td><td>Nguyễn Văn Mẫu</td></tr></table>"
    )
    raw = make_raw(tmp_path / "raw", {"a.xls": page.encode("utf-8")})
    result = run_ingest(raw, tmp_path / "out")
    d = load_processed(tmp_path / "out").dossiers
    assert result.rejects.empty and d["dossier_id"].tolist() == ["H-1"]
    assert d["received_at"].iloc[0] == pd.Timestamp("2023-03-02 08:00")
    assert d["procedure_code"].iloc[0] == "1.001" and d["source_row"].iloc[0] == 4
    assert "Nguyễn Văn Mẫu" not in d.astype(str).to_csv()


def test_a_small_export_with_control_characters_is_read_not_refused(tmp_path):
    """A few control characters in the cells of a small export (a name pasted from another
    program) are more than 1 % of its bytes, so the file looks binary; its header is found, so
    it is read like any other, the cells that hold them dropped with the personal columns.
    A file without the table's header is still refused as not a table, and a header short of a
    column says which (not "not a CSV")."""
    rows = dossier_rows({"Chủ hồ sơ": "Nguyễn\x13\x13Văn\x14\x14An\x15\x15"},
                        {"Chủ hồ sơ": "Lê\x16\x16Thị\x17\x17Bình\x18\x18"}, {})
    raw = make_raw(tmp_path / "raw", {"nho.csv": csv_text(rows)})
    path = raw / "dossiers" / "nho.csv"
    assert sniff(path) == "binary"  # the premise: 12 control characters in under 1,200 bytes
    assert len(path.read_bytes()) < 1200
    result = run_ingest(raw, tmp_path / "out")
    assert result.tables["dossiers"]["dossier_id"].tolist() == ["HS-1", "HS-2", "HS-3"]
    assert len(result.rejects) == 0

    short = [[cell for i, cell in enumerate(row) if i != DOSSIER_HEADERS.index("Mã hồ sơ")] for row in rows]
    raw = make_raw(tmp_path / "raw2", {"thieu.csv": csv_text(short)})
    assert sniff(raw / "dossiers" / "thieu.csv") == "binary"
    with pytest.raises(IngestError, match=r"thieu\.csv thiếu cột bắt buộc: Mã hồ sơ$"):
        run_ingest(raw, tmp_path / "out2")

    raw = make_raw(tmp_path / "raw3", {"khong.csv": "Báo cáo\x01\x02\x03\x04 tháng 1\n"})
    with pytest.raises(IngestError, match=r"khong\.csv không phải CSV"):
        run_ingest(raw, tmp_path / "out3")


def test_a_broken_link_among_the_exports_is_listed_as_skipped(tmp_path):
    """A link to an export on a share that is not mounted was passed over without a word; the
    month's dossiers would be missing from the reports with nothing said."""
    import os

    from cchc_lib.readers import BROKEN_LINK

    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    os.symlink(tmp_path / "o-mang" / "ho-so-2023-03.csv", raw / "dossiers" / "ho-so-2023-03.csv")
    os.symlink(tmp_path / "o-mang" / "staff.csv", raw / "staff.csv")
    found, skipped = survey(raw)
    assert [p.name for p in found["dossiers"]] == ["a.csv"]
    assert [(s.file, s.reason) for s in skipped] == [
        ("dossiers/ho-so-2023-03.csv", BROKEN_LINK), ("staff.csv", BROKEN_LINK)]
    result = run_ingest(raw, tmp_path / "out")
    assert "dossiers/ho-so-2023-03.csv: " + BROKEN_LINK in format_summary(result)


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\n\n\n", b"\xef\xbb\xbf\r\n  \r\n"])
def test_a_file_of_blank_lines_says_it_has_no_data(tmp_path, content):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({})), "trong.csv": content})
    with pytest.raises(IngestError) as info:
        run_ingest(raw, tmp_path / "out")
    assert str(info.value) == ("tệp dossiers/trong.csv không có dữ liệu (chỉ có dòng trống, "
                               "không có dòng tiêu đề)")


def test_a_workbook_with_data_on_more_sheets_than_one_says_which_were_not_read(tmp_path):
    """One sheet is read (the first with the table's header); further sheets with the header and
    rows below it (a month per sheet) were passed over without a word."""
    def workbook(sheets: dict[str, list[list[str]]]) -> bytes:
        book = Workbook()
        book.remove(book.active)
        for name, rows in sheets.items():
            sheet = book.create_sheet(name)
            for row in rows:
                sheet.append(row)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    header_only = [list(DOSSIER_HEADERS)]
    data = workbook({"Bìa": [["BÁO CÁO THÁNG 3/2023"]], "T1": dossier_rows({}, {}),
                     "Mẫu": header_only, "T2": dossier_rows({"Mã hồ sơ": "HS-8"})})
    raw = make_raw(tmp_path / "raw", {"so.xlsx": data})
    result = run_ingest(raw, tmp_path / "out")
    assert result.tables["dossiers"]["dossier_id"].tolist() == ["HS-1", "HS-2"]
    summary = format_summary(result)
    assert ("tệp dossiers/so.xlsx: chỉ đọc trang tính 'T1'; trang 'T2' cũng có dữ liệu của bảng mà "
            "không được đọc: hãy lưu mỗi trang thành một tệp riêng") in summary
    assert "'Mẫu'" not in summary  # a header with nothing below it is not data

    one = workbook({"T1": dossier_rows({}, {}), "Mẫu": header_only})
    raw = make_raw(tmp_path / "raw2", {"mot.xlsx": one})
    assert "trang tính" not in format_summary(run_ingest(raw, tmp_path / "out2"))
