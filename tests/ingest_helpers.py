"""Small hand-built raw files for the ingest tests."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

DOSSIER_HEADERS = [
    "STT",
    "Mã hồ sơ",
    "Mã TTHC",
    "Tên TTHC",
    "Lĩnh vực",
    "Phòng xử lý",
    "Kênh nộp",
    "Mức độ DVC",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày có kết quả",
    "Trạng thái",
    "Số hóa hồ sơ",
    "Đánh giá",
    "Thời gian chờ (phút)",
    "Chủ hồ sơ",
    "Số CCCD/CMND",
    "Số điện thoại",
]
DEFAULTS = {
    "STT": "1",
    "Mã hồ sơ": "HS-1",
    "Mã TTHC": "1.001",
    "Tên TTHC": "Đăng ký doanh nghiệp",
    "Lĩnh vực": "Thành lập và hoạt động của doanh nghiệp",
    "Phòng xử lý": "Phòng Đăng ký kinh doanh",
    "Kênh nộp": "Trực tuyến",
    "Mức độ DVC": "Toàn trình",
    "Ngày tiếp nhận": "15/01/2023 08:00",
    "Ngày hẹn trả": "18/01/2023 17:00",
    "Ngày có kết quả": "",
    "Trạng thái": "Đang xử lý",
    "Số hóa hồ sơ": "Có",
    "Đánh giá": "",
    "Thời gian chờ (phút)": "",
    "Chủ hồ sơ": "Nguyễn Văn Mẫu",
    "Số CCCD/CMND": "001099000111",
    "Số điện thoại": "0912345678",
}
PROCEDURES_CSV = (
    "Mã TTHC,Tên TTHC,Lĩnh vực,Mức độ DVC,Thanh toán trực tuyến,Thời hạn giải quyết (ngày làm việc),Năm\n"
    "1.001,Đăng ký doanh nghiệp,Thành lập và hoạt động của doanh nghiệp,Một phần,Có,3,2022\n"
    "1.001,Đăng ký doanh nghiệp,Thành lập và hoạt động của doanh nghiệp,Toàn trình,Có,3,2023\n"
)


def dossier_rows(*overrides: dict, headers: list[str] = DOSSIER_HEADERS) -> list[list[str]]:
    """Header plus one row per override dict (missing cells take DEFAULTS)."""
    rows = [list(headers)]
    for i, over in enumerate(overrides, start=1):
        values = {**DEFAULTS, "STT": str(i), "Mã hồ sơ": f"HS-{i}", **over}
        rows.append([values.get(h, "") for h in headers])
    return rows


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese systems write it: base letter + a combining tone mark."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tone = "".join(c for c in parts if c in tones)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += (base + tone).encode("cp1258")
    return bytes(out)


def make_raw(root: Path, dossier_files: dict[str, str | bytes], procedures: str = PROCEDURES_CSV) -> Path:
    (root / "dossiers").mkdir(parents=True, exist_ok=True)
    for name, content in dossier_files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (root / "dossiers" / name).write_bytes(data)
    (root / "procedures.csv").write_text(procedures, encoding="utf-8")
    return root


def stream_in_small_blocks(monkeypatch) -> list[str]:
    """A 4 KB head and 1 KB blocks, so that a small file is streamed in many blocks; returns the
    list into which the names of the files read whole after their stream failed part way
    (ingest_chunks' fallback) are recorded."""
    from cchc_lib import reading
    from cchc_lib.ingest import chunks as ingest_chunks
    from cchc_lib.ingest import read_batches

    whole_reads: list[str] = []
    real = ingest_chunks.read_whole_batches

    def spy(path, *args):
        whole_reads.append(path.name)
        return real(path, *args)

    monkeypatch.setattr(ingest_chunks, "read_whole_batches", spy)
    monkeypatch.setattr(read_batches, "STREAM_BLOCK", 1024)
    monkeypatch.setattr(reading, "HEAD_BYTES", 4096)
    return whole_reads
