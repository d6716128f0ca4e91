"""Session fixtures for the report tests (test_reports.py, test_browser.py): reports rendered
once per session, because every render starts a kernel."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
SAMPLE_PERIODS = ("2023-03", "2023-Q1", "2023")

# A procedure whose name is HTML markup, and personal data that must never reach a report.
MARKUP_NAME = "<b>Thủ tục</b><script>alert(1)</script>"
MARKUP_CODE = "9.999999"
PLANTED = {
    "Chủ hồ sơ": "Nguyễn Thị Planted Xuân",
    "Số CCCD/CMND": "079912345678",
    "Số điện thoại": "0912777555",
    "Email": "planted.xuan@example.vn",
    "Địa chỉ": "Số 99 ngõ Bí Mật, phường Planted, TP Tuyên Quang",
}
HEADER = [
    "Mã hồ sơ", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Phòng xử lý", "Kênh nộp", "Ngày tiếp nhận",
    "Ngày hẹn trả", "Ngày có kết quả", "Trạng thái", "Đánh giá", *PLANTED,
]
# March 2023: four dossiers of the markup procedure, three resolved in March of which two late;
# one of another procedure, resolved early. Worked out by hand: 3 late in March in all, two
# of them (66,7%) behind the markup procedure.
PLANTED_ROWS = [
    ["P-001", MARKUP_CODE, MARKUP_NAME, "Đấu thầu", "Phòng Đấu thầu", "Trực tiếp",
     "01/03/2023 08:00", "03/03/2023 17:00", "06/03/2023 09:00", "Đã trả kết quả", "Hài lòng"],
    ["P-002", MARKUP_CODE, MARKUP_NAME, "Đấu thầu", "Phòng Đấu thầu", "Trực tuyến",
     "02/03/2023 08:00", "06/03/2023 17:00", "08/03/2023 09:00", "Đã trả kết quả", "Không hài lòng"],
    ["P-003", MARKUP_CODE, MARKUP_NAME, "Đấu thầu", "Phòng Đấu thầu", "Trực tuyến",
     "03/03/2023 08:00", "10/03/2023 17:00", "10/03/2023 09:00", "Đã trả kết quả", ""],
    ["P-004", MARKUP_CODE, MARKUP_NAME, "Đấu thầu", "Phòng Đấu thầu", "Trực tiếp",
     "20/03/2023 08:00", "28/04/2023 17:00", "", "Đang xử lý", ""],
    ["P-005", "1.001612", "Đăng ký thành lập doanh nghiệp tư nhân",
     "Thành lập và hoạt động của doanh nghiệp", "Phòng Đăng ký kinh doanh", "Trực tuyến",
     "06/03/2023 08:00", "09/03/2023 17:00", "07/03/2023 10:00", "Đã trả kết quả", "Rất hài lòng"],
    ["P-006", "1.001612", "Đăng ký thành lập doanh nghiệp tư nhân",
     "Thành lập và hoạt động của doanh nghiệp", "Phòng Đăng ký kinh doanh", "Trực tiếp",
     "13/03/2023 08:00", "16/03/2023 17:00", "17/03/2023 08:30", "Đã trả kết quả", ""],
]


@pytest.fixture(scope="session")
def rendered_reports(sample_processed_dir, tmp_path_factory):
    """The sample's month, quarter and year reports, rendered by a 2-process batch."""
    from cchc_lib.publish.batch import render_batch

    out = tmp_path_factory.mktemp("reports")
    results = render_batch(list(SAMPLE_PERIODS), sample_processed_dir, out, jobs=2)
    failed = [r.error for r in results if not r.ok]
    assert not failed, failed
    return {r.period: r for r in results}, out


@pytest.fixture(scope="session")
def planted_report(tmp_path_factory):
    """A small raw set with planted personal data and a procedure named with HTML markup,
    ingested and rendered for 2023-03. Returns (result, raw_dir, processed_dir)."""
    if not (RAW / "procedures.csv").exists():
        pytest.skip("data/raw has no sample catalogue yet")
    from cchc_lib.ingest.run import run_ingest
    from cchc_lib.publish.jobs import render_report

    root = tmp_path_factory.mktemp("planted")
    raw = root / "raw"
    (raw / "dossiers").mkdir(parents=True)
    shutil.copy(RAW / "procedures.csv", raw / "procedures.csv")
    with open(raw / "dossiers" / "ho-so-2023-03.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in PLANTED_ROWS:
            writer.writerow([*row, *PLANTED.values()])
    processed = root / "processed"
    run_ingest(raw, processed)
    result = render_report("2023-03", processed, root / "reports")
    return result, raw, processed
