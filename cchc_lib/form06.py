"""The official form Biểu 06/VPCP/KSTT (Thông tư 01/2020/TT-VPCP): "Tình hình, kết quả giải quyết
TTHC tại cơ quan, đơn vị trực tiếp giải quyết TTHC", rows by field (lĩnh vực) plus a total row.

Definitions (chosen so that the form's identities hold exactly: 3 = 4+5+6, 7 = 8+9+10,
11 = 12+13, 3 = 7+11), all from the indicator engine's month grid:
- (4)/(5): received during the period online / in person or by post;
- (6): carried over = received before the start and not completed before the start;
- (3) = (4)+(5)+(6): every dossier that was open at some point in the period;
- (7): completed during the period (all of them belong to (3)); (8)/(9)/(10) early / on the day
  / late per the timeliness classes;
- (11): pending at the end = received before the end and not completed before the end;
  (13) those whose due instant is before the end, (12) = the rest (still within time).

Conventions (conventions.md): the period covers the ``official_window`` of the data's
conventions (default ``nd09``: Quý I/2023 = 15/12/2022-14/03/2023), printed in the period line;
never-received registrations are left out, clock-stopped dossiers are pending within time, and
timeliness and withdrawn dossiers follow the conventions. With no channel column in any export,
(4) and (5) are left empty with a footnote, (3) still the total.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cchc_lib.atomic import atomic_path
from cchc_lib.config import profile
from cchc_lib.formatting import fmt_date, fmt_number, render_table
from cchc_lib.indicators import availability, dossier_measures
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData
from cchc_lib.safe_text import set_text_cell

TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC"
FORM_CODE = "Biểu số 06/VPCP/KSTT"
TOTAL_LABEL = "Tổng cộng"

# (column name in the DataFrame, column number on the form, short Vietnamese header)
FORM06_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("stt", "(1)", "STT"),
    ("field", "(2)", "Lĩnh vực"),
    ("received_total", "(3)", "Nhận: tổng số"),
    ("received_online", "(4)", "Trong đó: mới tiếp nhận trực tuyến"),
    ("received_direct", "(5)", "Trong đó: mới tiếp nhận trực tiếp, BCCI"),
    ("carried_over", "(6)", "Số hồ sơ kỳ trước chuyển sang"),
    ("resolved_total", "(7)", "Đã giải quyết: tổng số"),
    ("resolved_early", "(8)", "Trước hạn"),
    ("resolved_on_time", "(9)", "Đúng hạn"),
    ("resolved_late", "(10)", "Quá hạn"),
    ("pending_total", "(11)", "Đang giải quyết: tổng số"),
    ("pending_within", "(12)", "Trong hạn"),
    ("pending_overdue", "(13)", "Quá hạn"),
)
NUMBER_COLUMNS = [name for name, _, _ in FORM06_COLUMNS[2:]]
CHANNEL_COLUMNS = ["received_online", "received_direct"]
NO_CHANNEL_NOTE = (
    "Cột (4) và (5) để trống: dữ liệu xuất từ hệ thống không có cột kênh nộp hồ sơ (trực tuyến, "
    "trực tiếp, bưu chính); cột (3) vẫn là tổng số hồ sơ nhận giải quyết."
)


def channel_known(data: ProcessedData) -> bool:
    """Whether any export had a channel column (else (4) and (5) are left empty)."""
    return bool(availability(data)["channel"])


def form06_table(data: ProcessedData, period: Period, department: str | None = None,
                 window: str | None = None) -> pd.DataFrame:
    """Biểu 06 as a DataFrame: one row per field with activity in the period, then "Tổng cộng".

    The period covers ``window`` (default: the conventions' ``official_window``). Without any
    channel column, (4) and (5) are <NA> (nullable Int64) and (3) is still the total."""
    window = window or data.conventions.official_window
    m = dossier_measures(data, [period], by="field", department=department, window=window)
    table = pd.DataFrame({
        "field": m["group"].astype(str),
        "received_online": m["online"],
        "received_direct": m["received"] - m["online"],
        "carried_over": m["carried_over"],
        "resolved_early": m["early"],
        "resolved_on_time": m["on_day"],
        "resolved_late": m["late"],
        "pending_overdue": m["pending_overdue"],
        "pending_total": m["pending"],
    })
    table["received_total"] = table["received_online"] + table["received_direct"] + table["carried_over"]
    table["resolved_total"] = table["resolved_early"] + table["resolved_on_time"] + table["resolved_late"]
    table["pending_within"] = table["pending_total"] - table["pending_overdue"]
    table = table[table["received_total"] > 0]
    table = table.sort_values("field", key=lambda s: s.map(vietnamese_sort_key)).reset_index(drop=True)
    total = table[NUMBER_COLUMNS].sum()
    table.insert(0, "stt", [str(i) for i in range(1, len(table) + 1)])
    table = pd.concat(
        [table, pd.DataFrame([{"stt": "", "field": TOTAL_LABEL, **total.to_dict()}])],
        ignore_index=True,
    )
    table[NUMBER_COLUMNS] = table[NUMBER_COLUMNS].round().astype("int64")
    if not channel_known(data):
        for column in CHANNEL_COLUMNS:
            table[column] = pd.array([pd.NA] * len(table), dtype="Int64")
    table.attrs["window"] = window
    return table[[name for name, _, _ in FORM06_COLUMNS]]


def vietnamese_sort_key(text: str) -> tuple[str, str]:
    """Alphabetical order the Vietnamese way: đ right after d (not after z), tones second."""
    import unicodedata

    lowered = str(text).casefold().replace("đ", "d\U0010ffff")
    base = "".join(ch for ch in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(ch))
    return base, lowered


def period_line(period: Period, window: str | None = None) -> str:
    """``Kỳ báo cáo: Quý I/2023 (từ ngày 01/01/2023 đến ngày 31/03/2023)``; under the nd09
    window ``Kỳ báo cáo: Quý I/2023 (số liệu từ ngày 15/12/2022 đến ngày 14/03/2023, theo Nghị
    định số 09/2019/NĐ-CP)``."""
    period = period.with_window(window or period.window)
    if period.window == "nd09":
        return (f"Kỳ báo cáo: {period.label_vi} (số liệu từ ngày {fmt_date(period.start)} "
                f"đến ngày {fmt_date(period.last_day)}, theo Nghị định số 09/2019/NĐ-CP)")
    return (f"Kỳ báo cáo: {period.label_vi} (từ ngày {fmt_date(period.start)} "
            f"đến ngày {fmt_date(period.last_day)})")


def _cell(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else fmt_number(value)


def footnotes(table: pd.DataFrame) -> list[str]:
    """Notes under the form: why (4) and (5) are empty, when they are."""
    if len(table) and "received_online" in table and table["received_online"].isna().all():
        return [f"Ghi chú: {NO_CHANNEL_NOTE}"]
    return []


def format_form06(table: pd.DataFrame, period: Period, window: str | None = None) -> str:
    """The form as a terminal table."""
    window = window or table.attrs.get("window")
    headers = ["STT", "Lĩnh vực", *(num for _, num, _ in FORM06_COLUMNS[2:])]
    rows = [[str(r["stt"]), str(r["field"]), *(_cell(r[c]) for c in NUMBER_COLUMNS)]
            for _, r in table.iterrows()]
    legend = [
        "(3) Số hồ sơ nhận giải quyết = (4) trong kỳ trực tuyến + (5) trong kỳ trực tiếp, dịch vụ "
        "bưu chính + (6) từ kỳ trước",
        "(7) Số hồ sơ đã giải quyết = (8) trước hạn + (9) đúng hạn + (10) quá hạn",
        "(11) Số hồ sơ đang giải quyết = (12) trong hạn + (13) quá hạn",
    ]
    return "\n".join([FORM_CODE, TITLE, period_line(period, window), f"Đơn vị báo cáo: {profile().name}", "",
                      render_table(rows, headers), "", *legend, *footnotes(table)])


def write_form06_xlsx(table: pd.DataFrame, period: Period, out: Path, window: str | None = None) -> Path:
    """Write the form in the official layout; atomic (temporary file, then rename)."""
    window = window or table.attrs.get("window")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Biểu 06"
    bold = Font(name="Times New Roman", bold=True, size=12)
    normal = Font(name="Times New Roman", size=12)
    italic = Font(name="Times New Roman", italic=True, size=12)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)

    def put(cell_range: str, value: str, font: Font = normal, align: Alignment = center) -> None:
        first = cell_range.split(":")[0]
        if ":" in cell_range:
            ws.merge_cells(cell_range)
        set_text_cell(ws[first], value)
        ws[first].font = font
        ws[first].alignment = align

    put("A1:E1", FORM_CODE, bold, left)
    put("H1:M1", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold)
    put("A2:E2", "Ban hành kèm theo Thông tư số 01/2020/TT-VPCP ngày 21/10/2020", italic, left)
    put("H2:M2", "Độc lập - Tự do - Hạnh phúc", Font(name="Times New Roman", bold=True, underline="single"))
    put("A4:M4", TITLE, Font(name="Times New Roman", bold=True, size=14))
    put("A5:M5", period_line(period, window), italic)
    put("A6:M6", f"Đơn vị báo cáo: {profile().name}", normal)
    put("A7:M7", f"Đơn vị nhận báo cáo: {profile().superior}", normal)
    put("K8:M8", "Đơn vị tính: Số hồ sơ TTHC", italic, Alignment(horizontal="right"))

    # Three header rows (9-11) as on the official form, then the column numbers (row 12).
    put("A9:A11", "STT", bold)
    put("B9:B11", "Lĩnh vực, công việc giải quyết theo cấp", bold)
    put("C9:F9", "Số hồ sơ nhận giải quyết", bold)
    put("C10:C11", "Tổng số", bold)
    # "Trong đó" over the parts of each total, as the official form writes it.
    put("D10:F10", "Trong đó", bold)
    put("D11", "Số mới tiếp nhận trực tuyến", bold)
    put("E11", "Số mới tiếp nhận trực tiếp, dịch vụ bưu chính", bold)
    put("F11", "Số hồ sơ kỳ trước chuyển sang", bold)
    put("G9:J9", "Số hồ sơ đã giải quyết", bold)
    put("G10:G11", "Tổng số", bold)
    put("H10:J10", "Trong đó", bold)
    put("H11", "Trước hạn", bold)
    put("I11", "Đúng hạn", bold)
    put("J11", "Quá hạn", bold)
    put("K9:M9", "Số hồ sơ đang giải quyết", bold)
    put("K10:K11", "Tổng số", bold)
    put("L10:M10", "Trong đó", bold)
    put("L11", "Trong hạn", bold)
    put("M11", "Quá hạn", bold)
    for i, (_, number, _) in enumerate(FORM06_COLUMNS, start=1):
        put(f"{get_column_letter(i)}12", number, italic)

    first_data = 13
    for r, row in enumerate(table.itertuples(index=False), start=first_data):
        is_total = row.field == TOTAL_LABEL
        values = [row.stt, row.field,
                  *(None if pd.isna(getattr(row, c)) else int(getattr(row, c)) for c in NUMBER_COLUMNS)]
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            set_text_cell(cell, value)  # a field named "=HYPERLINK(...)" stays text
            cell.font = bold if is_total else normal
            cell.alignment = left if c == 2 else center
            if c > 2:
                cell.number_format = "#,##0"
    last = first_data + len(table) - 1
    for row_cells in ws.iter_rows(min_row=9, max_row=last, min_col=1, max_col=13):
        for cell in row_cells:
            cell.border = box

    notes = footnotes(table)
    for i, note in enumerate(notes):
        put(f"A{last + 1 + i}:M{last + 1 + i}", note, italic, left)
    sign = last + 2 + len(notes)
    put(f"H{sign}:M{sign}", f"{profile().province}, ngày ..... tháng ..... năm .....", italic)
    put(f"A{sign + 1}:E{sign + 1}", "NGƯỜI LẬP BIỂU", bold)
    put(f"H{sign + 1}:M{sign + 1}", "THỦ TRƯỞNG CƠ QUAN", bold)
    put(f"A{sign + 2}:E{sign + 2}", "(Ký, ghi rõ họ tên)", italic)
    put(f"H{sign + 2}:M{sign + 2}", "(Ký, ghi rõ họ tên, đóng dấu)", italic)

    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 38
    for i in range(3, 14):
        ws.column_dimensions[get_column_letter(i)].width = 11
    ws.row_dimensions[4].height = 36
    ws.row_dimensions[11].height = 48
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "9:12"
    ws.print_options.horizontalCentered = True

    out = Path(out)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out
