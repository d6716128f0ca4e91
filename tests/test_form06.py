"""Biểu 06/VPCP/KSTT: exact cells on hand-built data, the identities on every month of the
sample, and the xlsx re-opened."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest
from openpyxl import load_workbook

from cchc_lib.form06 import FORM06_COLUMNS, NUMBER_COLUMNS, TITLE, form06_table, write_form06_xlsx
from cchc_lib.indicators import compute_indicators
from cchc_lib.periods import Period
from tests.test_indicators import dossier, make_data

Q1 = Period.parse("2023-Q1")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.fixture
def form_data():
    inv, biz = {"field": "Đầu tư"}, {"field": "Doanh nghiệp"}
    return make_data([
        # Đầu tư
        dossier(1, "2022-12-20 08:00", "2023-01-10", **inv),                      # (6), pending overdue
        dossier(2, "2022-12-28 08:00", "2023-01-06", "2023-01-05 08:00", **inv),  # (6), early
        dossier(3, "2023-02-01 08:00", "2023-02-10", "2023-02-10 20:00", channel="online",
                **inv),                                                           # (4), on the day
        dossier(4, "2023-03-31 23:30", "2023-04-10", **inv),                      # (5), pending in time
        dossier(5, "2022-11-01 08:00", "2022-11-20", "2022-12-01 08:00", **inv),  # not in Q1 at all
        # Doanh nghiệp
        dossier(6, "2023-01-10 08:00", "2023-01-19", "2023-01-20 08:00", channel="postal",
                **biz),                                                           # (5), late
        dossier(7, "2023-03-01 08:00", "2023-03-20", "2023-04-01 00:10", channel="online",
                **biz),                                                           # (4), pending overdue
        dossier(8, "2023-02-02 08:00", "2023-02-05", "2023-02-03 08:00", status="refused",
                **biz),                                                           # (5), early
    ])


# Worked out by hand from the comments above, columns (3) .. (13):
EXPECTED = {
    "Doanh nghiệp": [3, 1, 2, 0, 2, 1, 0, 1, 1, 0, 1],
    "Đầu tư": [4, 1, 1, 2, 2, 1, 1, 0, 2, 1, 1],
    "Tổng cộng": [7, 2, 3, 2, 4, 2, 1, 1, 3, 1, 2],
}


def test_exact_cells(form_data):
    # The hand-worked cells are for the calendar quarter (the official default is nd09).
    t = form06_table(form_data, Q1, window="calendar")
    assert list(t.columns) == [name for name, _, _ in FORM06_COLUMNS]
    assert list(t["field"]) == ["Doanh nghiệp", "Đầu tư", "Tổng cộng"]
    assert list(t["stt"]) == ["1", "2", ""]
    for _, r in t.iterrows():
        assert [int(r[c]) for c in NUMBER_COLUMNS] == EXPECTED[r["field"]], r["field"]


def assert_identities(t: pd.DataFrame) -> None:
    c = {num: t[name] for name, num, _ in FORM06_COLUMNS[2:]}
    assert (c["(3)"] == c["(4)"] + c["(5)"] + c["(6)"]).all()
    assert (c["(7)"] == c["(8)"] + c["(9)"] + c["(10)"]).all()
    assert (c["(11)"] == c["(12)"] + c["(13)"]).all()
    assert (c["(3)"] == c["(7)"] + c["(11)"]).all()
    body = t[t["field"] != "Tổng cộng"]
    total = t[t["field"] == "Tổng cộng"].iloc[0]
    for name in NUMBER_COLUMNS:
        assert body[name].sum() == total[name]
    assert (t[NUMBER_COLUMNS] >= 0).all().all()


def test_identities_hand_built(form_data):
    for code in ("2022-12", "2023-01", "2023-02", "2023-03", "2023-Q1", "2023-04", "2023"):
        for window in ("calendar", "nd09"):
            assert_identities(form06_table(form_data, Period.parse(code), window=window))


def test_consistent_with_indicators(form_data):
    t = form06_table(form_data, Q1, window="calendar").set_index("field")
    ind = compute_indicators(form_data, Q1).set_index("indicator")
    assert t.loc["Tổng cộng", "resolved_total"] == ind.loc["ontime_rate", "denominator"]
    assert t.loc["Tổng cộng", "pending_total"] == ind.loc["pending", "value"]
    assert t.loc["Tổng cộng", "pending_overdue"] == ind.loc["pending_overdue", "value"]
    assert t.loc["Tổng cộng", "carried_over"] == ind.loc["carried_over", "value"]


def test_department_filter(form_data):
    t = form06_table(form_data, Q1, department="Phòng khác")
    assert list(t["field"]) == ["Tổng cộng"]
    assert t[NUMBER_COLUMNS].sum().sum() == 0


def test_identities_every_month_of_sample(sample_processed):
    data = sample_processed
    received = data.dossiers["received_at"]
    month = Period("month", received.min().year, received.min().month)
    last = Period("month", received.max().year, received.max().month)
    checked = 0
    while month <= last:
        t = form06_table(data, month, window="calendar")
        assert_identities(t)
        ind = compute_indicators(data, month).set_index("indicator")
        total = t[t["field"] == "Tổng cộng"].iloc[0]
        assert total["received_online"] + total["received_direct"] == ind.loc["online_share", "denominator"]
        checked += 1
        month = month.shift(1)
    assert checked >= 12


def test_xlsx_layout(form_data, tmp_path):
    out = tmp_path / "bieu06.xlsx"
    table = form06_table(form_data, Q1, window="calendar")
    write_form06_xlsx(table, Q1, out)
    assert [p.name for p in tmp_path.iterdir()] == ["bieu06.xlsx"]  # no temporary file left
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()  # readable like any new file
    ws = load_workbook(out).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    # "Trong đó" over the parts of each total, as Thông tư 01/2020/TT-VPCP's form writes it
    for rng in ("A9:A11", "B9:B11", "C9:F9", "C10:C11", "D10:F10", "G9:J9", "G10:G11", "H10:J10",
                "K9:M9", "K10:K11", "L10:M10", "A4:M4"):
        assert rng in merged, rng
    assert ws["A2"].value == "Ban hành kèm theo Thông tư số 01/2020/TT-VPCP ngày 21/10/2020"
    assert ws["A4"].value == TITLE
    assert ws["A5"].value == "Kỳ báo cáo: Quý I/2023 (từ ngày 01/01/2023 đến ngày 31/03/2023)"
    assert "Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang" in ws["A6"].value
    assert (ws["C9"].value, ws["D10"].value, ws["D11"].value, ws["E11"].value, ws["F11"].value) == (
        "Số hồ sơ nhận giải quyết", "Trong đó", "Số mới tiếp nhận trực tuyến",
        "Số mới tiếp nhận trực tiếp, dịch vụ bưu chính", "Số hồ sơ kỳ trước chuyển sang")
    assert (ws["G9"].value, ws["H10"].value, ws["H11"].value, ws["I11"].value, ws["J11"].value) == (
        "Số hồ sơ đã giải quyết", "Trong đó", "Trước hạn", "Đúng hạn", "Quá hạn")
    assert (ws["K9"].value, ws["L10"].value, ws["L11"].value, ws["M11"].value) == (
        "Số hồ sơ đang giải quyết", "Trong đó", "Trong hạn", "Quá hạn")
    signature = [c.value for row in ws.iter_rows(min_row=16) for c in row if c.value]
    assert "Tuyên Quang, ngày ..... tháng ..... năm ....." in signature
    assert [ws.cell(12, c).value for c in range(1, 14)] == [f"({i})" for i in range(1, 14)]
    assert [ws.cell(13, c).value for c in range(1, 14)] == ["1", "Doanh nghiệp", *EXPECTED["Doanh nghiệp"]]
    assert [ws.cell(15, c).value for c in range(2, 14)] == ["Tổng cộng", *EXPECTED["Tổng cộng"]]
    assert ws.cell(15, 3).font.bold
    assert ws.cell(15, 13).border.right.style == "thin"
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == "9"  # A4
