"""The sample's real-system shapes (conventions.md §1-2): registrations never received, and a
monthly export written as a real one-stop system's "Xuất Excel" (an HTML table saved as
``.xls``, title rows above the header, the system's own headers and status words, no ``Mã
TTHC``, no ``Lĩnh vực``, its personal-data columns).

Deterministic like the rest of the sample: the registrations come from their own random stream
(seeded from the sample's seed), so adding them changes no other value of the sample.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

AGENCY_SHORT = "Sở Kế hoạch và Đầu tư"
# What the real system writes for each canonical status and channel.
REAL_STATUS_TEXT = {
    "not_received": "Mới đăng ký", "received": "Được tiếp nhận", "processing": "Đang giải quyết",
    "awaiting_supplement": "Yêu cầu bổ sung giấy tờ",
    "awaiting_payment": "Yêu cầu thực hiện nghĩa vụ tài chính", "suspended": "Dừng xử lý",
    "resolved": "Đã xử lý xong", "returned": "Đã trả kết quả", "refused": "Từ chối giải quyết",
    "withdrawn": "Công dân yêu cầu rút hồ sơ",
}
REAL_CHANNEL_TEXT = {"online": "Trực tuyến", "in_person": "Trực tiếp", "postal": "Qua bưu chính công ích"}
NOT_RECEIVED_SHARE = 0.015  # of a month's online submissions, registered but never accepted


def submitted_at(frame: pd.DataFrame) -> pd.Series:
    """When the citizen submitted: online a little before the receipt (the time it waited to be
    accepted), at the counter or by post the receipt itself. Registrations keep their own."""
    online = (frame["channel"] == "online").to_numpy()
    minutes = np.where(online, (frame["pending_u"].to_numpy() * 900).round(), 0)
    out = frame["received_at"] - pd.to_timedelta(minutes, unit="m")
    if "submitted_at" in frame.columns:
        out = frame["submitted_at"].where(frame["submitted_at"].notna(), out)
    return out


def registrations(dossiers: pd.DataFrame, months: pd.PeriodIndex, seed: int) -> pd.DataFrame:
    """Online registrations never received: about 1.5% of each month's online submissions,
    copying a real submission's procedure and citizen; no receipt, due or completion date."""
    rng = np.random.Generator(np.random.PCG64([seed, 10]))
    online = dossiers[dossiers["channel"] == "online"]
    month_of = online["received_at"].dt.to_period("M")
    parts = []
    for month in months:
        pool = online[month_of == month]
        k = max(1, int(round(NOT_RECEIVED_SHARE * len(pool))))
        rows = pool.iloc[np.sort(rng.choice(len(pool), size=k, replace=False))].copy()
        back = pd.to_timedelta(rng.integers(30, 60 * 24 * 3, size=k), unit="m")
        submitted = (rows["received_at"] - back).clip(lower=month.start_time)
        rows["submitted_at"] = submitted.to_numpy()
        # Every third one refused at reception rather than left unanswered.
        rows["refused_at_counter"] = np.arange(k) % 3 == 1
        parts.append(rows)
    regs = pd.concat(parts, ignore_index=True)
    for col in ("received_at", "due_at", "completed_at", "returned_at", "rated_at"):
        regs[col] = pd.NaT
    for col in ("fee_required", "paid_online", "digitized", "electronic_result", "synced_national",
                "apology_issued", "reused_digitized_data", "citizen_data_connected", "from_national_storage"):
        regs[col] = False
    regs["due_date_only"] = False
    regs["status"] = "not_received"
    regs["rating"] = ""
    regs["wait_minutes"] = np.nan
    stamp = regs["submitted_at"].dt.strftime("%y%m%d")
    seq = regs.groupby(stamp, sort=False).cumcount() + 901
    regs["dossier_id"] = "000.00.16.H60-" + stamp + "-" + seq.map("{:04d}".format)
    regs["month"] = regs["submitted_at"].dt.to_period("M")
    return regs


def to_real_text(text: pd.DataFrame, frame: pd.DataFrame, status_text: dict[str, str],
                 channel_text: dict[str, str]) -> pd.DataFrame:
    """Our export's text cells (``sample.to_export_text``, bad rows planted) laid out as the real
    system writes them: its headers, status and channel words, the submission date, the
    receiving and handling units, its personal-data columns; no code, no field. A planted
    unknown word stays as written (it must still be rejected)."""
    status_code = {v: k for k, v in status_text.items()}
    channel_code = {v: k for k, v in channel_text.items()}
    status = text["Trạng thái"].map(lambda w: REAL_STATUS_TEXT.get(status_code.get(w, ""), w))
    refused = (frame["refused_at_counter"].fillna(False).astype(bool) if "refused_at_counter" in frame
               else False)
    status = status.where(~((frame["status"] == "not_received") & refused), "Từ chối tiếp nhận")
    # A person's copy-typed spellings: some names in capitals (matched by their normalised form).
    capitals = frame["pending_u"].to_numpy() > 0.97
    names = text["Tên TTHC"].where(~capitals, text["Tên TTHC"].str.upper())
    not_received = (frame["status"] == "not_received").to_numpy()
    out = pd.DataFrame({
        "STT": text["STT"],
        "Số hiệu giấy tờ (Mã hồ sơ)": text["Mã hồ sơ"],
        "Tên thủ tục hành chính": names,
        "Người nộp": text["Chủ hồ sơ"],
        "Số CCCD chủ hồ sơ": text["Số CCCD/CMND"],
        "Ngày nộp hồ sơ": submitted_at(frame).dt.strftime("%d/%m/%Y %H:%M").fillna(""),
        "Ngày nhận": text["Ngày tiếp nhận"],
        "Ngày hẹn trả": text["Ngày hẹn trả"],
        "Ngày kết thúc xử lý": text["Ngày có kết quả"],
        "Ngày trả kết quả": text["Ngày trả kết quả"],
        "Đơn vị tiếp nhận": AGENCY_SHORT,
        "Đơn vị giải quyết": np.where(not_received, "", AGENCY_SHORT),
        "Phòng ban": text["Phòng xử lý"].where(~not_received, ""),
        "Trạng thái hồ sơ": status,
        "Loại tiếp nhận": text["Kênh nộp"].map(
            lambda w: REAL_CHANNEL_TEXT.get(channel_code.get(w, ""), w)),
    })
    for column in ("Mức độ DVC", "Có phí, lệ phí", "Thanh toán trực tuyến", "Số hóa hồ sơ",
                   "Kết quả điện tử", "Đồng bộ DVCQG", "Phiếu xin lỗi", "Đánh giá", "Ngày đánh giá",
                   "Thời gian chờ (phút)", "Tái sử dụng dữ liệu số hóa", "Kết nối dữ liệu dân cư",
                   "Lấy từ kho DVCQG"):
        out[column] = text[column]
    out["Số điện thoại người nhận kết quả"] = text["Số điện thoại"]
    out["Địa chỉ đăng ký nhận kết quả"] = text["Địa chỉ"]
    out["Email"] = text["Email"]
    return out


def write_html_xls(table: pd.DataFrame, path: Path, month: pd.Period) -> None:
    """A web page's "Xuất Excel": one HTML table, two title rows spanning every column."""
    n = len(table.columns)
    lines = [
        "<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><head>"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>',
        '<table border="1" cellspacing="0">',
        f'<tr><td colspan="{n}" align="center"><b>DANH SÁCH HỒ SƠ TIẾP NHẬN</b></td></tr>',
        f'<tr><td colspan="{n}" align="center">Đơn vị: {AGENCY_SHORT} tỉnh Tuyên Quang - '
        f"Từ ngày 01/{month.month:02d}/{month.year} đến ngày "
        f"{month.days_in_month:02d}/{month.month:02d}/{month.year}</td></tr>",
        "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in table.columns) + "</tr>",
    ]
    for values in table.itertuples(index=False):
        lines.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in values) + "</tr>")
    lines.append("</table></body></html>")
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
