"""How the sample's exports are written, as the one-stop system writes them: Vietnamese date and
yes/no texts, CSV in UTF-8 (with or without BOM) or the legacy CP1258 encoding, XLSX with the
system's title rows; byte for byte the same for the same seed."""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from cchc_lib.sample.department import (
    _FIXED_DOC_TIME,
    _FIXED_ZIP_TIME,
    CHANNEL_TEXT,
    DOSSIER_HEADERS,
    LEGACY_LEVEL_TEXT,
    LEVEL_TEXT,
    PROCEDURES,
    RATING_TEXT,
    STATUS_TEXT,
    _level_codes,
)


def _fmt_dt(s: pd.Series, date_only: pd.Series | None = None) -> pd.Series:
    text = s.dt.strftime("%d/%m/%Y %H:%M").fillna("")
    if date_only is not None:
        text = text.where(~date_only, s.dt.strftime("%d/%m/%Y").fillna(""))
    return text.astype(object)



def _fmt_yes_no(values: pd.Series, style: str, column: int) -> pd.Series:
    if style == "mixed":
        style = ("cokhong", "x", "10")[column % 3]
    yes, no = {"cokhong": ("Có", "Không"), "x": ("x", ""), "10": ("1", "0")}[style]
    return pd.Series(np.where(values.to_numpy(dtype=bool), yes, no), index=values.index, dtype=object)



def to_export_text(frame: pd.DataFrame, fmt: dict) -> pd.DataFrame:
    """The export's cells as text, Vietnamese headers in the contract's order."""
    procs = [PROCEDURES[i] for i in frame["proc"]]
    level_map = LEGACY_LEVEL_TEXT if fmt["legacy"] else LEVEL_TEXT
    levels = _level_codes(frame["year_idx"].to_numpy())[np.arange(len(frame)), frame["proc"].to_numpy()]
    out = pd.DataFrame(index=frame.index)
    out["STT"] = [str(i) for i in range(1, len(frame) + 1)]
    out["Mã hồ sơ"] = frame["dossier_id"].astype(object)
    out["Mã TTHC"] = [p.code for p in procs]
    out["Tên TTHC"] = [p.name for p in procs]
    out["Lĩnh vực"] = [p.field for p in procs]
    out["Phòng xử lý"] = [p.department for p in procs]
    out["Kênh nộp"] = frame["channel"].map(CHANNEL_TEXT).astype(object)
    out["Mức độ DVC"] = [level_map[c] for c in levels]
    out["Ngày tiếp nhận"] = _fmt_dt(frame["received_at"])
    out["Ngày hẹn trả"] = _fmt_dt(frame["due_at"], frame["due_date_only"])
    out["Ngày có kết quả"] = _fmt_dt(frame["completed_at"])
    out["Ngày trả kết quả"] = _fmt_dt(frame["returned_at"])
    out["Trạng thái"] = frame["status"].map(STATUS_TEXT).astype(object)
    for j, (header, col) in enumerate((
        ("Có phí, lệ phí", "fee_required"), ("Thanh toán trực tuyến", "paid_online"),
        ("Số hóa hồ sơ", "digitized"), ("Kết quả điện tử", "electronic_result"),
        ("Đồng bộ DVCQG", "synced_national"), ("Phiếu xin lỗi", "apology_issued"),
    )):
        out[header] = _fmt_yes_no(frame[col], fmt["yn"], j)
    out["Đánh giá"] = frame["rating"].map(lambda r: RATING_TEXT.get(r, "")).astype(object)
    out["Ngày đánh giá"] = _fmt_dt(frame["rated_at"])
    out["Thời gian chờ (phút)"] = frame["wait_minutes"].map(
        lambda w: "" if pd.isna(w) else str(int(w))).astype(object)
    for j, (header, col) in enumerate((
        ("Tái sử dụng dữ liệu số hóa", "reused_digitized_data"),
        ("Kết nối dữ liệu dân cư", "citizen_data_connected"),
        ("Lấy từ kho DVCQG", "from_national_storage"),
    )):
        out[header] = _fmt_yes_no(frame[col], fmt["yn"], j + 1)
    for header in ("Chủ hồ sơ", "Số CCCD/CMND", "Số điện thoại", "Email", "Địa chỉ"):
        out[header] = frame[header].astype(object)
    return out[list(DOSSIER_HEADERS)]



def _cp1258_text(text: str) -> str:
    """Vietnamese in the form Windows-1258 can hold: base letters with their vowel marks
    precomposed (ă, â, ê, ô, ơ, ư), tone marks as separate combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        d = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in d if c not in tones))
        out.append(base + "".join(c for c in d if c in tones))
    return "".join(out)



def _csv_bytes(table: pd.DataFrame, sep: str = ",", lineterminator: str = "\n") -> str:
    return table.to_csv(index=False, sep=sep, lineterminator=lineterminator)



def write_csv(table: pd.DataFrame, path: Path, encoding: str) -> None:
    """A CSV export in one of the encodings the one-stop system and Excel produce."""
    if encoding == "utf-16":
        # Excel "Unicode text": UTF-16 little-endian with BOM, tab-separated, CRLF.
        data = codecs.BOM_UTF16_LE + _csv_bytes(table, "\t", "\r\n").encode("utf-16-le")
    elif encoding == "cp1258":
        text = _csv_bytes(table, ",", "\r\n")
        data = _cp1258_text(text).encode("cp1258")
    elif encoding == "utf-8-sig":
        data = codecs.BOM_UTF8 + _csv_bytes(table, ",", "\r\n").encode("utf-8")
    else:
        data = _csv_bytes(table).encode("utf-8")
    path.write_bytes(data)



def _deterministic_zip(raw: bytes) -> bytes:
    """Re-zip an XLSX with fixed entry timestamps and a fixed document modified time."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2024-01-01T00:00:00Z\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, data)
    return buf.getvalue()



def write_xlsx(table: pd.DataFrame, frame: pd.DataFrame, path: Path, month: pd.Period) -> None:
    """An Excel export with title rows above the header and real datetime cells for some
    date columns (the due date stays text: a date-only due must stay visibly date-only)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.creator = "Hệ thống thông tin giải quyết TTHC tỉnh Tuyên Quang"
    wb.properties.created = _FIXED_DOC_TIME
    wb.properties.modified = _FIXED_DOC_TIME
    ws = wb.active
    ws.title = "Danh sách hồ sơ"
    ws.append(["BÁO CÁO DANH SÁCH HỒ SƠ THỦ TỤC HÀNH CHÍNH"])
    ws.append(["Đơn vị: Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang"])
    ws.append([f"Kỳ: Tháng {month.month}/{month.year}"])
    ws.append([])
    ws.append(list(table.columns))
    datetime_cols = {"Ngày tiếp nhận": "received_at", "Ngày có kết quả": "completed_at",
                     "Ngày trả kết quả": "returned_at", "Ngày đánh giá": "rated_at"}
    cells = {c: table[c].tolist() for c in table.columns}
    # Real datetime cells from the canonical values, except rows whose text was tampered with.
    for header, col in datetime_cols.items():
        original = _fmt_dt(frame[col]).tolist()
        values = frame[col].tolist()
        cells[header] = [
            (v.to_pydatetime() if (isinstance(v, pd.Timestamp) and text == orig) else text)
            for v, text, orig in zip(values, cells[header], original, strict=True)
        ]
    cells["STT"] = [int(x) for x in cells["STT"]]
    cells["Thời gian chờ (phút)"] = [
        int(x) if re.fullmatch(r"-?\d+", x or "") else x for x in cells["Thời gian chờ (phút)"]]
    columns = list(table.columns)
    for i in range(len(table)):
        ws.append([cells[c][i] if cells[c][i] != "" else None for c in columns])
    date_idx = [columns.index(h) + 1 for h in datetime_cols]
    for row in ws.iter_rows(min_row=6, max_row=ws.max_row):
        for idx in date_idx:
            row[idx - 1].number_format = "dd/mm/yyyy hh:mm"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_deterministic_zip(buf.getvalue()))
