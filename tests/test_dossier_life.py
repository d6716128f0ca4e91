"""The dossier's life (conventions.md §2) and every convention value (§3) on small hand-built
cases; each expected count is worked out by hand in the comments. Also ingest of the statuses,
minimal exports (no code, no field, no channel, no department) and the catalogue lookup."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from cchc_lib.config import profile
from cchc_lib.conventions import Conventions
from cchc_lib.form06 import NO_CHANNEL_NOTE, NUMBER_COLUMNS, form06_table, format_form06
from cchc_lib.index766 import counts as index766_counts
from cchc_lib.indicators import compute_indicators
from cchc_lib.ingest.run import format_summary, run_ingest
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData, load_processed
from tests.ingest_helpers import PROCEDURES_CSV, csv_text, dossier_rows, make_raw
from tests.test_form06 import assert_identities
from tests.test_indicators import dossier, make_data, row

MARCH = Period.parse("2023-03")


def life_rows() -> list[dict]:
    return [
        # A: finished on its due day after the due hour (due 10/03 10:00, done 15:00)
        dossier(1, "2023-03-01 08:00", "2023-03-10 10:00", "2023-03-10 15:00"),
        # B: date-only due 10/03, done that evening: on the day under both
        dossier(2, "2023-03-01 08:00", "2023-03-10", "2023-03-10 20:00"),
        # C: date-only due 10/03, done next morning: late under both
        dossier(3, "2023-03-01 08:00", "2023-03-10", "2023-03-11 08:00"),
        # D: withdrawn two days after its due date
        dossier(4, "2023-03-02 08:00", "2023-03-06", "2023-03-08 09:00", status="withdrawn"),
        # E: awaiting supplement, past its due date, no completion: clock stopped
        dossier(5, "2023-03-02 08:00", "2023-03-06", status="awaiting_supplement"),
        # F: the same dates, still processing: pending overdue
        dossier(6, "2023-03-02 08:00", "2023-03-06", status="processing"),
        # G: a registration never received: no receipt, no due date
        dossier(7, "2023-03-03 09:00", "2023-03-10", status="not_received", received_at=None, due_at=None,
                submitted_at="2023-03-03 09:00"),
        # H: withdrawn early (done 04/03, due 20/03)
        dossier(8, "2023-03-03 08:00", "2023-03-20", "2023-03-04 10:00", status="withdrawn"),
        # J: refused, completed (from its return date at ingest) 07/03, due 15/03: early
        dossier(9, "2023-03-06 08:00", "2023-03-15", "2023-03-07 10:00", status="refused"),
    ]


def life_data(**conventions: str) -> ProcessedData:
    data = make_data(life_rows())
    data.conventions = Conventions(**conventions)
    return data


# (7) resolved, (8) early, (9) on the day, (10) late per (timeliness, withdrawn), by hand:
# instant/by_dates: early H, J; on the day B; late A, C, D
# day/by_dates:     early H, J; on the day A, B; late C, D
# instant/on_time:  early J; on the day B, D, H; late A, C
# day/on_time:      early J; on the day A, B, D, H; late C
# */excluded:       D and H out; instant: early J, on the day B, late A, C; day: A moves to on the day
RESOLVED = {
    ("instant", "by_dates"): (6, 2, 1, 3),
    ("day", "by_dates"): (6, 2, 2, 2),
    ("instant", "on_time"): (6, 1, 3, 2),
    ("day", "on_time"): (6, 1, 4, 1),
    ("instant", "excluded"): (4, 1, 1, 2),
    ("day", "excluded"): (4, 1, 2, 1),
}


@pytest.mark.parametrize("timeliness, withdrawn", list(RESOLVED))
@pytest.mark.parametrize("window", ["calendar", "nd09"])
def test_form06_under_each_convention(timeliness, withdrawn, window):
    data = life_data(timeliness=timeliness, withdrawn=withdrawn)
    t = form06_table(data, MARCH, window=window)
    assert_identities(t)
    total = t.set_index("field").loc["Tổng cộng"]
    # Received in March (either window: 01-06/03 lie in [15/02, 15/03) too): A-F, H, J = 8
    # (G never received); D and H leave under "excluded". Nothing carried over.
    received = 6 if withdrawn == "excluded" else 8
    assert (total["received_total"], total["received_direct"], total["carried_over"]) == (
        received, received, 0)
    got = tuple(int(total[c]) for c in
                ("resolved_total", "resolved_early", "resolved_on_time", "resolved_late"))
    assert got == RESOLVED[(timeliness, withdrawn)]
    # Pending at the end: E (clock stopped: within time whatever its due date) and F (overdue)
    assert (total["pending_total"], total["pending_within"], total["pending_overdue"]) == (2, 1, 1)


def test_indicators_follow_the_conventions():
    r = compute_indicators(life_data(), MARCH)
    assert (row(r, "ontime_rate").numerator, row(r, "ontime_rate").denominator) == (3, 6)
    assert row(r, "pending_overdue").value == 1 and row(r, "pending").value == 2
    assert row(r, "online_share").denominator == 8  # G, never received, is not a received dossier
    r = compute_indicators(life_data(timeliness="day", withdrawn="on_time"), MARCH)
    assert (row(r, "ontime_rate").numerator, row(r, "late_rate").numerator) == (5, 1)


def test_index766_progress_follows_the_conventions():
    # PROGRESS_ON_TIME = (resolved not late + pending within time) / (resolved + pending):
    # instant/by_dates: (3 + E) / (6 + 2) = 4/8; day/excluded: (3 + E) / (4 + 2) = 4/6
    for conventions, expected in (({}, (4, 8)), ({"timeliness": "day", "withdrawn": "excluded"}, (4, 6))):
        counts = index766_counts.counts_from_data(life_data(**conventions), MARCH).set_index("metric")
        got = counts.loc["PROGRESS_ON_TIME", ["numerator", "denominator"]].tolist()
        assert tuple(got) == expected, conventions


def test_clock_stopped_statuses_never_overdue():
    rows = [dossier(i, "2023-01-02 08:00", "2023-01-05", status=s)
            for i, s in enumerate(("awaiting_supplement", "awaiting_payment", "suspended", "processing"))]
    for month in ("2023-01", "2023-06"):
        r = compute_indicators(make_data(rows), Period.parse(month))
        # all 4 pending at every end; only the processing one is overdue
        assert (row(r, "pending").value, row(r, "pending_overdue").value) == (4, 1)


def test_identities_on_the_sample_under_every_convention(sample_processed):
    months = [Period("month", y, m) for y in (2022, 2023) for m in range(1, 13)]
    quarters = [Period("quarter", y, q) for y in (2022, 2023) for q in range(1, 5)]
    for timeliness, withdrawn in itertools.product(("instant", "day"), ("by_dates", "on_time", "excluded")):
        data = ProcessedData(sample_processed.dossiers, sample_processed.procedures, None,
                             sample_processed.ingest_report, Conventions(timeliness=timeliness,
                                                                         withdrawn=withdrawn))
        for period in [*months, *quarters]:
            for window in ("calendar", "nd09"):
                assert_identities(form06_table(data, period, window=window))


# -- ingest: statuses, minimal exports, the catalogue lookup -------------------------------------


def ingest(tmp_path, rows: list[list[str]], procedures: str = PROCEDURES_CSV):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(rows)}, procedures)
    result = run_ingest(raw, tmp_path / "out")
    return result, load_processed(tmp_path / "out")


@pytest.mark.parametrize("written, canonical", [
    ("Mới đăng ký", "not_received"), ("Chờ tiếp nhận", "not_received"),
    ("Không được tiếp nhận", "not_received"), ("Từ chối tiếp nhận", "not_received"),
    ("Được tiếp nhận", "received"), ("Đang giải quyết", "processing"),
    ("Yêu cầu bổ sung giấy tờ", "awaiting_supplement"),
    ("Yêu cầu thực hiện nghĩa vụ tài chính", "awaiting_payment"), ("Chờ thanh toán", "awaiting_payment"),
    ("Dừng xử lý", "suspended"), ("Tạm dừng", "suspended"),
    ("Đã xử lý xong", "resolved"), ("Hoàn thành", "resolved"), ("Đã trả kết quả", "returned"),
    ("Trả lại hồ sơ", "refused"), ("Công dân yêu cầu rút hồ sơ", "withdrawn"),
])
def test_status_spellings(tmp_path, written, canonical):
    done = canonical in ("resolved", "returned", "refused", "withdrawn")
    rows = dossier_rows({"Trạng thái": written, "Ngày có kết quả": "17/01/2023 10:00" if done else ""})
    _, data = ingest(tmp_path, rows)
    assert data.dossiers["status"].tolist() == [canonical]


def test_not_received_and_ended_dossiers_at_ingest(tmp_path):
    headers = [*dossier_rows()[0], "Ngày trả kết quả"]
    rows = dossier_rows(
        # a registration never received: no receipt, no due date: kept
        {"Trạng thái": "Mới đăng ký", "Ngày tiếp nhận": "", "Ngày hẹn trả": ""},
        # a received dossier without a receipt date: rejected
        {"Trạng thái": "Đang xử lý", "Ngày tiếp nhận": ""},
        # refused without a completion date: takes its return date
        {"Trạng thái": "Từ chối giải quyết", "Ngày trả kết quả": "16/01/2023 09:00"},
        # withdrawn with neither: rejected
        {"Trạng thái": "Rút hồ sơ"},
        headers=headers,
    )
    result, data = ingest(tmp_path, rows)
    d = data.dossiers.set_index("dossier_id")
    assert sorted(d.index) == ["HS-1", "HS-3"]
    assert d.loc["HS-1", "status"] == "not_received" and pd.isna(d.loc["HS-1", "received_at"])
    assert d.loc["HS-3", "completed_at"] == pd.Timestamp("2023-01-16 09:00")
    reasons = dict(zip(result.rejects["dossier_id"], result.rejects["reason"], strict=True))
    assert reasons == {"HS-2": "Ngày tiếp nhận trống",
                       "HS-4": "Hồ sơ công dân rút nhưng không có Ngày có kết quả hay Ngày trả kết quả"}
    assert result.report["coverage"]["not_received"] == 1
    assert "1 hồ sơ chưa được tiếp nhận" in format_summary(result)
    # counted nowhere: January has one received dossier (HS-3), resolved early
    r = compute_indicators(data, Period.parse("2023-01"))
    assert (row(r, "online_share").denominator, row(r, "ontime_rate").denominator) == (1, 1)


CATALOGUE = (
    "Mã TTHC,Tên TTHC,Lĩnh vực,Mức độ DVC,Năm\n"
    "1.001,Đăng ký doanh nghiệp,Thành lập doanh nghiệp,Toàn trình,2023\n"
    "2.002,Cấp giấy phép  ĐẦU TƯ,Đầu tư tại Việt Nam,Một phần,2023\n"
    "3.003,Thủ tục trùng tên,Đầu tư tại Việt Nam,Một phần,2023\n"
    "3.004,Thủ tục trùng tên,Đấu thầu,Một phần,2023\n"
    "4.004,Thủ tục năm trước,Đấu thầu,Một phần,2022\n"
)
MINIMAL_HEADERS = ["STT", "Số hiệu giấy tờ (Mã hồ sơ)", "Tên thủ tục hành chính", "Ngày nhận",
                   "Ngày hẹn trả", "Ngày kết thúc xử lý", "Trạng thái hồ sơ", "Người nộp", "Ghi chú"]


def minimal(i: int, name: str, received: str = "02/03/2023 08:00", status: str = "Đang xử lý") -> list[str]:
    return [str(i), f"M-{i}", name, received, "10/03/2023", "", status, "Nguyễn Văn Mẫu", "gọi 0912345678"]


def test_minimal_export_takes_code_and_field_from_the_catalogue(tmp_path):
    rows = [MINIMAL_HEADERS,
            minimal(1, "Đăng ký doanh nghiệp"),
            minimal(2, "cấp giấy phép đầu tư"),                    # case and spaces differ
            minimal(3, "Thủ tục không có"),                        # matches nothing
            minimal(4, "Thủ tục trùng tên"),                       # two codes
            minimal(5, "Thủ tục năm trước"),                       # only in the 2022 catalogue
            minimal(6, "Thủ tục năm trước", received="", status="Mới đăng ký")]  # latest catalogue
    result, data = ingest(tmp_path, rows, CATALOGUE)
    d = data.dossiers.set_index("dossier_id")
    assert sorted(d.index) == ["M-1", "M-2"]
    assert (d.loc["M-1", "procedure_code"], d.loc["M-1", "field"]) == ("1.001", "Thành lập doanh nghiệp")
    assert (d.loc["M-2", "procedure_code"], d.loc["M-2", "field"]) == ("2.002", "Đầu tư tại Việt Nam")
    assert (d["department"] == profile().name).all()  # no department column: the agency itself
    assert d["channel"].isna().all()  # no channel column: unknown
    reasons = dict(zip(result.rejects["dossier_id"], result.rejects["reason"], strict=True))
    assert reasons["M-3"] == "Tên TTHC 'Thủ tục không có' không có trong danh mục TTHC năm 2023"
    assert reasons["M-4"] == ("Tên TTHC 'Thủ tục trùng tên' ứng với nhiều Mã TTHC trong danh mục năm 2023 "
                              "(3.003, 3.004)")
    assert reasons["M-5"] == "Tên TTHC 'Thủ tục năm trước' không có trong danh mục TTHC năm 2023"
    assert reasons["M-6"] == "Tên TTHC 'Thủ tục năm trước' không có trong danh mục TTHC năm 2023"
    # every row accounted for; personal data and free text never stored
    counts = result.report["tables"]["dossiers"]
    assert counts["rows_read"] == 6 == len(d) + len(result.rejects)
    assert (counts["rows_accepted"], counts["rows_rejected"]) == (2, 4)
    stored = data.dossiers.astype(str).to_csv()
    assert "Nguyễn Văn Mẫu" not in stored and "0912345678" not in stored
    # channel unknown: online share has no data, Biểu 06 (4)/(5) empty with a footnote
    r = compute_indicators(data, MARCH)
    assert row(r, "online_share").status == "Chưa có dữ liệu"
    t = form06_table(data, MARCH, window="calendar")
    total = t.set_index("field").loc["Tổng cộng"]
    assert pd.isna(total["received_online"]) and pd.isna(total["received_direct"])
    assert total["received_total"] == 2  # (3) still the total
    assert NO_CHANNEL_NOTE in format_form06(t, MARCH)
    assert_identities(t.assign(received_online=0, received_direct=t["received_total"] - t["carried_over"]))
    assert t[NUMBER_COLUMNS].drop(columns=["received_online", "received_direct"]).notna().all().all()


def test_form06_xlsx_without_channel_leaves_4_5_empty_with_a_note(tmp_path):
    from openpyxl import load_workbook

    from cchc_lib.form06 import write_form06_xlsx

    rows = [dossier(1, "2023-03-01 08:00", "2023-03-10", "2023-03-05 08:00", channel=None),
            dossier(2, "2023-03-02 08:00", "2023-03-10", channel=None)]
    data = make_data(rows, missing=("channel",))
    table = form06_table(data, MARCH)  # the official window: nd09, 15/02-14/03
    out = write_form06_xlsx(table, MARCH, tmp_path / "b06.xlsx")
    ws = load_workbook(out).active
    assert ws["A5"].value == ("Kỳ báo cáo: Tháng 3/2023 (số liệu từ ngày 15/02/2023 đến ngày 14/03/2023, "
                              "theo Nghị định số 09/2019/NĐ-CP)")
    # one field row (13) and the total (14): (3) = 2, (4) and (5) empty, (7) = 1 early, (11) = 1
    # pending, overdue (due 10/03, still open at 15/03 00:00)
    total = [ws.cell(14, c).value for c in range(2, 14)]
    assert total == ["Tổng cộng", 2, None, None, 0, 1, 1, 0, 0, 1, 0, 1]
    assert ws["A15"].value == f"Ghi chú: {NO_CHANNEL_NOTE}"
