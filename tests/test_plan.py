"""The plan module: deadline wordings, task states, the other plan targets, the shipped table.

Expected values are worked out by hand in the comments next to each case.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cchc_lib import plan
from cchc_lib.periods import Period
from cchc_lib.schema import empty_frame

EOD = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def eod(day: str) -> pd.Timestamp:
    return pd.Timestamp(day) + EOD


# -- deadline wordings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "due"),
    [
        ("Tháng 6/2023", "dated", "2023-06-30"),
        ("Tháng 12/2022", "dated", "2022-12-31"),
        ("Tháng 1/2023", "dated", "2023-01-31"),
        ("Tháng 2/2024", "dated", "2024-02-29"),  # leap year
        ("Tháng\n12/2022", "dated", "2022-12-31"),  # wrapped in the PDF's table cell
        ("tháng 06/2023", "dated", "2023-06-30"),
        ("Quý II/2023", "dated", "2023-06-30"),
        ("Quý I/2023", "dated", "2023-03-31"),
        ("Quý 4/2023", "dated", "2023-12-31"),
        ("Quý III-IV/2023", "dated", "2023-12-31"),
        ("Năm 2023", "dated", "2023-12-31"),
        ("NĂM 2023", "dated", "2023-12-31"),
        ("Trước ngày 15/3/2023", "dated", "2023-03-15"),
        ("15/03/2023", "dated", "2023-03-15"),
        ("6 tháng đầu năm 2023", "dated", "2023-06-30"),
        ("6 tháng cuối năm 2023", "dated", "2023-12-31"),
        ("Tháng 3-6/2023", "dated", "2023-06-30"),
        ("Tháng 3 đến tháng 9/2023", "dated", "2023-09-30"),
        ("12/2023", "dated", "2023-12-31"),
        ("2023", "dated", "2023-12-31"),
        ("Thường xuyên", "recurring", None),
        ("Thường xuyên; theo chỉ đạo của UBND tỉnh", "recurring", None),
        ("Thường \nxuyên; theo \nchỉ đạo của \nUBND tỉnh", "recurring", None),
        ("Hằng quý", "recurring", None),
        ("Định kỳ 6 tháng", "recurring", None),
        ("Sau khi Bộ ban hành hướng dẫn", "unknown", None),
        ("Tháng 13/2023", "unknown", None),
        ("", "unknown", None),
        (None, "unknown", None),
    ],
)
def test_parse_deadline(text, kind, due):
    got_kind, got_due = plan.parse_deadline(text)
    assert got_kind == kind
    if due is None:
        assert pd.isna(got_due)
    else:
        assert got_due == eod(due)


def test_decomposed_diacritics_read_the_same():
    import unicodedata

    text = unicodedata.normalize("NFD", "Quý II/2023")
    assert plan.parse_deadline(text) == ("dated", eod("2023-06-30"))


def test_parse_deadlines_vectorised_matches_scalar():
    texts = pd.Series(["Tháng 6/2023", "Thường xuyên", None, "Tháng 6/2023", "abc"], dtype="string")
    out = plan.parse_deadlines(texts)
    assert list(out["deadline_kind"]) == ["dated", "recurring", "unknown", "dated", "unknown"]
    assert out["deadline_at"].dtype == "datetime64[ns]"
    assert out["deadline_at"].iloc[0] == eod("2023-06-30")
    assert out["deadline_at"].iloc[1:3].isna().all()


def test_as_of_date_means_end_of_day():
    assert plan.as_of_instant("2023-06-30") == eod("2023-06-30")
    assert plan.as_of_instant("30/06/2023") == eod("2023-06-30")
    assert plan.as_of_instant("2023-06-30 10:00") == ts("2023-06-30 10:00")


# -- task states ----------------------------------------------------------------------------------


def tasks(rows: list[tuple]) -> pd.DataFrame:
    """rows: (deadline_text, task_state, completed_at)."""
    frame = pd.DataFrame({
        "section": "I",
        "task_no": range(1, len(rows) + 1),
        "content": [f"Nhiệm vụ {i}" for i in range(1, len(rows) + 1)],
        "product": pd.NA, "lead_unit": "Văn phòng Sở", "partner_unit": pd.NA,
        "deadline_text": [r[0] for r in rows],
        "task_state": [r[1] for r in rows],
        "completed_at": pd.to_datetime([r[2] for r in rows], format="ISO8601"),
        "result_document": pd.NA, "source_file": "plan_tasks.csv",
        "source_row": range(2, len(rows) + 2),
    })
    return plan.conform(frame, "plan_tasks")


def test_task_states_at_year_end():
    frame = tasks([
        ("Tháng 6/2023", "done", "2023-06-30 10:00"),  # before the end of 30/06: on time
        ("Tháng 6/2023", "done", "2023-07-02 08:00"),  # 2 calendar days late
        ("Tháng 6/2023", "in_progress", None),  # open, due 30/06: overdue 184 days at 31/12
        ("Năm 2023", "done", "2023-12-31 16:00"),  # on its last day: on time
        ("Thường xuyên", "done", "2023-05-10"),  # reported inside 2023: on time
        ("Thường xuyên; theo chỉ đạo của UBND tỉnh", "not_started", None),  # due 31/12: overdue
        ("Tháng 1/2023", "done", None),  # done, no date: nothing shows it late
        ("Thường xuyên", "done", "2022-11-20"),  # reported for 2022, not for 2023: overdue
    ])
    out = plan.task_states(frame, "2023-12-31")
    assert list(out["state_vi"]) == [
        plan.DONE_ONTIME, plan.DONE_LATE, plan.OVERDUE, plan.DONE_ONTIME,
        plan.DONE_ONTIME, plan.OVERDUE, plan.DONE_ONTIME, plan.OVERDUE,
    ]
    # 02/07 08:00 - 30/06 23:59:59.999999 = 1 day 8 h -> 2 days; 31/12 - 30/06 = 184 days.
    assert out["days_late"].iloc[1] == 2
    assert out["days_late"].iloc[2] == 184
    assert pd.isna(out["days_late"].iloc[0])
    assert out["due_at"].iloc[4] == eod("2023-12-31")  # recurring: due at the period end
    assert pd.isna(out["deadline_at"].iloc[4])


def test_task_states_mid_year():
    frame = tasks([
        ("Năm 2023", "in_progress", None),  # not due yet, being worked on
        ("Năm 2023", "not_started", None),  # not due yet
        ("Năm 2023", None, None),  # nothing reported, not due yet
        ("Tháng 6/2023", "done", "2023-06-20"),  # done after 15/06: in progress then
        ("Tháng 3/2023", "not_started", None),  # due 31/03: overdue
        ("Quý II/2023", "done", "2023-06-01"),  # on time
    ])
    out = plan.task_states(frame, "2023-06-15")
    assert list(out["state_vi"]) == [
        plan.IN_PROGRESS, plan.NOT_DUE, plan.NOT_DUE, plan.IN_PROGRESS, plan.OVERDUE, plan.DONE_ONTIME,
    ]


def test_task_due_today_not_done_is_overdue_at_close_of_day():
    out = plan.task_states(tasks([("Tháng 6/2023", "in_progress", None)]), "2023-06-30")
    assert out["state_vi"].iloc[0] == plan.OVERDUE
    out = plan.task_states(tasks([("Tháng 6/2023", "in_progress", None)]), "2023-06-29")
    assert out["state_vi"].iloc[0] == plan.IN_PROGRESS


def test_recurring_tasks_judged_in_the_period():
    frame = tasks([
        ("Thường xuyên", "done", "2023-05-10"),
        ("Thường xuyên", "done", "2023-08-01"),
    ])
    q3 = Period.parse("2023-Q3")
    # Mid-Q3: the May report is for Q2, so the first is still being worked on; the second is done.
    out = plan.task_states(frame, "2023-08-15", q3)
    assert list(out["state_vi"]) == [plan.IN_PROGRESS, plan.DONE_ONTIME]
    # End of Q3: nothing reported in Q3 for the first -> overdue.
    out = plan.task_states(frame, "2023-09-30", q3)
    assert list(out["state_vi"]) == [plan.OVERDUE, plan.DONE_ONTIME]


def test_unknown_wording_judged_like_recurring():
    frame = tasks([("Sau khi Bộ ban hành hướng dẫn", None, None)])
    out = plan.task_states(frame, "2023-06-30", Period.parse("2023"))
    assert out["deadline_kind"].iloc[0] == "unknown"
    assert out["state_vi"].iloc[0] == plan.NOT_DUE
    out = plan.task_states(frame, "2023-12-31", Period.parse("2023"))
    assert out["state_vi"].iloc[0] == plan.OVERDUE


# -- the shipped task table -----------------------------------------------------------------------


def test_shipped_plan_table_has_every_row_of_the_plan():
    raw = pd.read_csv(plan.PLAN_TASKS_2023, dtype=str, keep_default_na=False)
    assert list(raw.columns) == ["Mục", "STT", "Nội dung", "Sản phẩm", "Đơn vị chủ trì",
                                 "Đơn vị phối hợp", "Thời gian thực hiện", "Trạng thái",
                                 "Ngày hoàn thành", "Văn bản kết quả"]
    # Counted in the plan's Biểu kế hoạch chi tiết: I 3, II 9, III 2, IV 2, V 1, VI 1, VII 3.
    assert raw["Mục"].value_counts().to_dict() == {
        "II": 9, "I": 3, "VII": 3, "III": 2, "IV": 2, "V": 1, "VI": 1}
    assert (raw[["Trạng thái", "Ngày hoàn thành", "Văn bản kết quả"]] == "").all().all()
    deadline = raw.set_index(["Mục", "STT"])["Thời gian thực hiện"]
    assert deadline[("I", "2")] == "Tháng 12/2022"
    assert deadline[("VII", "3")] == "Tháng 6/2023"
    assert deadline[("II", "4")] == "Thường xuyên; theo chỉ đạo của UBND tỉnh"
    kinds = plan.parse_deadlines(raw["Thời gian thực hiện"])["deadline_kind"]
    assert set(kinds) == {"dated", "recurring"}  # every wording of the plan is understood
    assert set(raw["Mục"]) == set(plan.SECTION_TITLES)


def test_shipped_plan_tasks_canonical():
    frame = plan.shipped_plan_tasks(2023)
    assert list(frame.columns) == list(empty_frame("plan_tasks").columns)
    assert len(frame) == 21
    assert frame["task_state"].isna().all()


# -- the other plan targets -----------------------------------------------------------------------


def documents() -> pd.DataFrame:
    rows = [
        # number, date, direction, form, esigned, classified
        ("01/SKH", "2023-01-05", "outgoing", "electronic", True, False),  # counts, signed
        ("15/UBND", "2023-02-10", "incoming", "electronic", False, False),  # counts, unsigned
        ("02/SKH", "2023-03-31 23:00", "outgoing", "paper", True, False),  # paper: not counted as ok
        ("03/SKH-M", "2023-03-15", "outgoing", "paper", False, True),  # classified: excluded
        ("04/SKH", "2023-04-01 00:00", "outgoing", "electronic", True, False),  # Q2
        ("99/SKH", "2022-12-31", "outgoing", "electronic", True, None),  # Q4 2022
    ]
    frame = pd.DataFrame(rows, columns=["document_number", "document_date", "direction", "doc_form",
                                        "esigned", "classified"])
    frame["document_date"] = pd.to_datetime(frame["document_date"], format="ISO8601")
    frame["department"] = "Văn phòng Sở"
    frame["source_file"] = "documents/2023.csv"
    frame["source_row"] = range(2, len(frame) + 2)
    return plan.conform(frame, "documents")


def workfiles(online: list[bool], classified: list[bool], year: int = 2023) -> pd.DataFrame:
    frame = pd.DataFrame({
        "workfile_id": [f"HS{year}-{i}" for i in range(len(online))], "year": year,
        "department": "Văn phòng Sở", "online": online, "classified": classified,
        "source_file": "workfiles.csv", "source_row": range(2, len(online) + 2),
    })
    return plan.conform(frame, "workfiles")


def staff() -> pd.DataFrame:
    rows = [
        # id, year, qualification, state-management trained, digital id, security trained
        ("CB01", 2023, "master", True, True, True),
        ("CB02", 2023, "bachelor", True, False, True),
        ("CB03", 2023, "college", False, True, False),
        ("CB04", 2023, "doctorate", True, True, True),
        ("CB05", 2023, None, True, True, True),
        ("CB01", 2022, "master", False, False, False),
    ]
    frame = pd.DataFrame(rows, columns=["staff_id", "year", "qualification", "state_mgmt_trained",
                                        "digital_id", "security_trained"])
    frame["source_file"] = "staff.csv"
    frame["source_row"] = range(2, len(frame) + 2)
    return plan.conform(frame, "staff")


def feedback() -> pd.DataFrame:
    rows = [
        ("PA1", "2023-01-02", "2023-01-15 23:59:59.999999", "2023-01-10"),  # on time
        ("PA2", "2023-02-01", "2023-02-10 23:59:59.999999", "2023-02-20"),  # late
        ("PA3", "2023-03-20", "2023-04-05 23:59:59.999999", "2023-04-02"),  # handled in Q2
        ("PA4", "2023-03-25", "2023-04-10 23:59:59.999999", None),  # open
        # handled on the due instant itself: on time
        ("PA5", "2023-03-01", "2023-03-31 23:59:59.999999", "2023-03-31 23:59:59.999999"),
    ]
    frame = pd.DataFrame(rows, columns=["feedback_id", "received_at", "due_at", "handled_at"])
    for col in ("received_at", "due_at", "handled_at"):
        frame[col] = pd.to_datetime(frame[col], format="ISO8601")
    frame["source_file"] = "feedback/2023.csv"
    frame["source_row"] = range(2, len(frame) + 2)
    return plan.conform(frame, "feedback")


def plan_tasks() -> pd.DataFrame:
    return tasks([
        ("Tháng 6/2023", "done", "2023-06-20"),  # on time
        ("Tháng 6/2023", "done", "2023-07-05"),  # late
        ("Năm 2023", "in_progress", None),  # open; due 31/12
        ("Thường xuyên", "done", "2023-11-01"),  # reported in 2023 (Q4)
        ("Thường xuyên", "not_started", None),
        ("Tháng 12/2022", "done", "2022-12-20"),  # on time, before the plan year
    ])


def by_id(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["indicator"]: r for r in frame.to_dict("records")}


def all_inputs() -> plan.PlanInputs:
    return plan.PlanInputs(documents=documents(), workfiles=workfiles(
        [True, True, False, False, True], [False, False, False, True, True]), staff=staff(),
        plan_tasks=plan_tasks(), feedback=feedback())


def test_plan_indicators_quarter():
    out = plan.plan_indicators(all_inputs(), Period.parse("2023-Q1"))
    assert list(out.columns) == plan.COLUMNS
    assert list(out["indicator"]) == list(plan.PLAN_INDICATOR_IDS)
    rows = by_id(out)

    # Q1 documents: 01/SKH (ok), 15/UBND (unsigned), 02/SKH (paper) -> 1 / 3; 03/SKH-M classified.
    r = rows["esigned_document_share"]
    assert (r["numerator"], r["denominator"]) == (1, 3)
    assert r["value"] == pytest.approx(1 / 3)
    assert r["target"] == 1.0 and r["status"] == "Chưa đạt"
    # Q4 2022: 99/SKH alone, signed -> 1/1; change = 1/3 - 1.
    assert r["prev_value"] == 1.0
    assert r["change_prev"] == pytest.approx(1 / 3 - 1)

    # 2023 work files: 5 rows, 2 classified -> 3 counted, 2 online -> 2/3, under both 100% and 80%.
    r = rows["online_workfile_share"]
    assert (r["numerator"], r["denominator"]) == (2, 3)
    assert r["target"] == 1.0 and r["target_min"] == 0.8
    assert (r["status"], r["status_min"]) == ("Chưa đạt", "Chưa đạt")

    # 2023 staff: qualification known for CB01-CB04; degree = CB01, CB02, CB04 -> 3/4.
    r = rows["degree_share"]
    assert (r["numerator"], r["denominator"], r["status"]) == (3, 4, "Chưa đạt")
    # Postgraduate = CB01 (master), CB04 (doctorate) -> 2/4 = 50% > 22%.
    r = rows["postgraduate_share"]
    assert (r["numerator"], r["denominator"], r["status"]) == (2, 4, "Đạt")
    assert r["target"] == 0.22 and r["target_op"] == ">"
    # Trained: CB01, CB02, CB04, CB05 -> 4/5; digital id: CB01, CB03, CB04, CB05 -> 4/5;
    # security: CB01, CB02, CB04, CB05 -> 4/5.
    for ind in ("state_mgmt_trained_share", "digital_id_share", "security_trained_share"):
        r = rows[ind]
        assert (r["numerator"], r["denominator"], r["status"]) == (4, 5, "Chưa đạt"), ind

    # Q1 petitions handled: PA1 (on time), PA2 (late), PA5 (on the due instant) -> 2/3; no number.
    r = rows["feedback_ontime_rate"]
    assert (r["numerator"], r["denominator"]) == (2, 3)
    assert math.isnan(r["target"])
    assert r["status"] == ""

    # Tasks due by 31/03/2023 (as of then): the two recurring (not reported in Q1) -> 0/2.
    # "Tháng 12/2022" predates the plan (28/01/2023): judged against 31/12/2023, not due yet.
    r = rows["plan_task_completion"]
    assert (r["numerator"], r["denominator"], r["status"]) == (0, 2, "Chưa đạt")


def test_plan_task_completion_year_and_half():
    inputs = plan.PlanInputs(plan_tasks=plan_tasks())
    # Year 2023: all 6 due; on time: June (20/06), recurring reported 01/11, Tháng 12/2022 -> 3/6.
    r = by_id(plan.plan_indicators(inputs, Period.parse("2023")))["plan_task_completion"]
    assert (r["numerator"], r["denominator"], r["value"]) == (3, 6, 0.5)
    # Q2 (as of 30/06): due = both June tasks and both recurring (4; "Tháng 12/2022" predates
    # the plan and is due 31/12/2023); on time = the June task done 20/06 -> 1/4 (the one done
    # 05/07 was not done by then).
    r = by_id(plan.plan_indicators(inputs, Period.parse("2023-Q2")))["plan_task_completion"]
    assert (r["numerator"], r["denominator"]) == (1, 4)


def test_all_met_gives_dat():
    inputs = plan.PlanInputs(workfiles=workfiles([True] * 4 + [False], [False] * 5))
    r = by_id(plan.plan_indicators(inputs, Period.parse("2023")))["online_workfile_share"]
    # 4/5 = 80%: below the text's 100%, meets the table's minimum of 80%.
    assert (r["value"], r["status"], r["status_min"]) == (0.8, "Chưa đạt", "Đạt")
    inputs = plan.PlanInputs(workfiles=workfiles([True] * 5, [False] * 5))
    r = by_id(plan.plan_indicators(inputs, Period.parse("2023")))["online_workfile_share"]
    assert (r["value"], r["status"], r["status_min"]) == (1.0, "Đạt", "Đạt")


def test_postgraduate_exactly_22_percent_is_not_more_than_22():
    # 11 of 50 = 22% exactly: the plan says "trên 22%".
    quals = ["master"] * 11 + ["bachelor"] * 39
    frame = plan.conform(pd.DataFrame({
        "staff_id": [f"CB{i}" for i in range(50)], "year": 2023, "qualification": quals,
        "source_file": "staff.csv", "source_row": range(2, 52)}), "staff")
    r = by_id(plan.plan_indicators(plan.PlanInputs(staff=frame), Period.parse("2023")))["postgraduate_share"]
    assert (r["numerator"], r["denominator"], r["status"]) == (11, 50, "Chưa đạt")


def test_missing_optional_inputs_give_no_data(tmp_path):
    out = plan.plan_indicators(plan.PlanInputs(), Period.parse("2023"))
    assert len(out) == len(plan.PLAN_INDICATORS)
    assert set(out["status"]) == {"Chưa có dữ liệu"}
    assert out["value"].isna().all() and out["numerator"].isna().all()
    # Nothing on disk at all: same, no error.
    loaded = plan.load_plan_inputs(tmp_path)
    assert loaded == plan.PlanInputs()
    out = plan.plan_indicators(loaded, Period.parse("2023-03"))
    assert set(out["status"]) == {"Chưa có dữ liệu"}


def test_processed_data_feedback_is_used():
    class Data:  # the indicator engine's ProcessedData carries feedback, not the others
        dossiers = procedures = None
        feedback = feedback()

    out = by_id(plan.plan_indicators(Data(), Period.parse("2023-Q1"), plan.PlanInputs()))
    assert (out["feedback_ontime_rate"]["numerator"], out["feedback_ontime_rate"]["denominator"]) == (2, 3)
    assert out["esigned_document_share"]["status"] == "Chưa có dữ liệu"


def test_unreported_states_and_missing_columns_give_no_data():
    inputs = plan.PlanInputs(
        plan_tasks=plan.shipped_plan_tasks(2023),  # the shipped file: no state reported yet
        staff=plan.conform(pd.DataFrame({"staff_id": ["CB1"], "year": [2023], "source_file": "s",
                                         "source_row": [2]}), "staff"),  # no training columns
    )
    rows = by_id(plan.plan_indicators(inputs, Period.parse("2023")))
    for ind in ("plan_task_completion", "degree_share", "state_mgmt_trained_share", "digital_id_share"):
        assert rows[ind]["status"] == "Chưa có dữ liệu", ind


def test_staff_register_of_another_year_is_no_data():
    rows = by_id(plan.plan_indicators(plan.PlanInputs(staff=staff()), Period.parse("2021")))
    assert rows["degree_share"]["status"] == "Chưa có dữ liệu"


def test_zero_denominator_is_no_event():
    rows = by_id(plan.plan_indicators(plan.PlanInputs(documents=documents(), feedback=feedback()),
                                      Period.parse("2023-06")))
    for ind in ("esigned_document_share", "feedback_ontime_rate"):
        r = rows[ind]
        assert r["status"] == "Không phát sinh", ind
        assert r["denominator"] == 0 and np.isnan(r["value"])


def test_load_plan_inputs_reads_parquet(tmp_path):
    documents().to_parquet(tmp_path / "documents.parquet")
    loaded = plan.load_plan_inputs(tmp_path)
    assert loaded.staff is None and loaded.documents is not None
    r = by_id(plan.plan_indicators(loaded, Period.parse("2023-Q1")))["esigned_document_share"]
    assert (r["numerator"], r["denominator"]) == (1, 3)


# -- sample data, ingest and personal data --------------------------------------------------------


def test_plan_sample_is_deterministic(tmp_path):
    from cchc_lib.sample.plan import write_plan_sample

    first = write_plan_sample(tmp_path / "a", 2023)
    second = write_plan_sample(tmp_path / "b", 2023)
    other = write_plan_sample(tmp_path / "c", 7)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    assert any(a.read_bytes() != c.read_bytes() for a, c in zip(first, other, strict=True))
    tasks = pd.read_csv(tmp_path / "a" / "plan_tasks.csv", dtype=str, keep_default_na=False)
    shipped = pd.read_csv(plan.PLAN_TASKS_2023, dtype=str, keep_default_na=False)
    same = ["Mục", "STT", "Nội dung", "Sản phẩm", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện"]
    assert tasks[same].equals(shipped[same])  # the shipped table, states filled in
    assert set(tasks["Trạng thái"]) <= {"Hoàn thành", "Đang thực hiện", "Chưa thực hiện"}


def _planted(raw: Path) -> set[str]:
    """Personal values planted in the raw sample: staff names and birth dates, petitioners."""
    staff = pd.read_csv(raw / "staff.csv", dtype=str, keep_default_na=False)
    values = set(staff["Họ và tên"]) | set(staff["Ngày sinh"])
    for path in sorted((raw / "feedback").glob("*.csv")):
        fb = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in ("Người gửi", "Số điện thoại", "Email", "Địa chỉ"):
            if col in fb.columns:
                values |= set(fb[col])
    return {v for v in values if len(v) >= 6}


def _leaks(planted: set[str], texts: list[str]) -> list[str]:
    return sorted(v for v in planted if any(v in t for t in texts))


def test_ingest_takes_the_plan_tables_and_drops_personal_data(sample_processed_dir):
    from tests.conftest import RAW

    if not (RAW / "staff.csv").exists():
        pytest.skip("the sample has no staff.csv yet")
    out = sample_processed_dir
    for table in ("documents", "workfiles", "staff", "plan_tasks"):
        frame = pd.read_parquet(out / f"{table}.parquet")
        assert list(frame.columns) == list(empty_frame(table).columns), table
        assert len(frame) > 0, table
    staff = pd.read_parquet(out / "staff.parquet")
    assert "Họ và tên" not in staff.columns and "Ngày sinh" not in staff.columns
    tasks = pd.read_parquet(out / "plan_tasks.parquet")
    assert len(tasks) == 21 and set(tasks["task_state"].dropna()) <= {"done", "in_progress", "not_started"}
    report = (out / "ingest_report.json").read_text(encoding="utf-8")
    assert "staff.csv" in report and "plan_tasks.csv" in report
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    # The planted unknown "Loại" of the 2023 register is rejected with a reason naming the column.
    doc_rejects = rejects[rejects["table"] == "documents"]
    assert doc_rejects["reason"].str.contains("Loại").any()
    # ... and so is the impossible date 31/02/2023.
    assert doc_rejects["reason"].str.contains("31/02/2023").any()

    planted = _planted(RAW)
    assert planted, "the sample must plant personal data to test its absence"
    texts = [(out / "rejects.csv").read_text(encoding="utf-8"),
             (out / "ingest_report.json").read_text(encoding="utf-8")]
    for path in sorted(out.glob("*.parquet")):
        frame = pd.read_parquet(path)
        texts.extend(frame[c].astype(str).str.cat(sep="\n") for c in frame.columns)
    assert _leaks(planted, texts) == []


def test_plan_indicators_on_the_sample(sample_processed_dir):
    from cchc_lib.processed import load_processed

    inputs = plan.load_plan_inputs(sample_processed_dir)
    if inputs.staff is None:
        pytest.skip("the sample has no staff.csv yet")
    out = plan.plan_indicators(load_processed(sample_processed_dir), Period.parse("2023"), inputs)
    assert not (out["status"] == "Chưa có dữ liệu").any()
    assert ((out["value"] >= 0) & (out["value"] <= 1)).all()
    # Cross-check one value straight from the processed register.
    staff = inputs.staff[inputs.staff["year"] == 2023]
    r = by_id(out)["digital_id_share"]
    assert (r["numerator"], r["denominator"]) == (staff["digital_id"].sum(), len(staff))


# -- the plan report ------------------------------------------------------------------------------


def test_plan_report_content_without_optional_inputs(sample_processed_dir, tmp_path):
    import shutil

    from cchc_lib.publish import plan_report

    for name in ("dossiers.parquet", "procedures.parquet"):
        shutil.copy(sample_processed_dir / name, tmp_path / name)
    ctx = plan_report.prepare_plan_report(2023, "2023-12-31", tmp_path)
    rows = ctx.indicators.set_index("indicator")
    for ind in plan.PLAN_INDICATOR_IDS:
        assert rows.loc[ind, "status"] == "Chưa có dữ liệu", ind
    assert not ctx.tasks_reported and len(ctx.tasks) == 21  # the shipped table, states unknown
    text = plan_report.off_track_markdown(ctx)
    assert "Chưa có báo cáo tiến độ" in text and "Chưa có dữ liệu để đánh giá" in text
    html = plan_report.area_html(ctx, "VI")
    assert "VI. Xây dựng và phát triển chính quyền điện tử, chính quyền số" in html
    assert "Chưa có dữ liệu" in html and "Chưa có báo cáo" in html


def test_plan_report_html(sample_processed_dir, tmp_path):
    from cchc_lib.publish import plan_report
    from tests.conftest import RAW

    if not (RAW / "staff.csv").exists():
        pytest.skip("the sample has no staff.csv yet")
    result = plan_report.render_plan_report(2023, None, sample_processed_dir, tmp_path)
    assert result.html == tmp_path / "ke-hoach-2023" / "bao-cao-ke-hoach-2023.html"
    html = result.html.read_text(encoding="utf-8")
    assert '<html lang="vi"' in html
    assert "tính đến ngày 31/12/2023" in html
    # plotly.js once, as the compressed partial bundle added at export; none in the record.
    assert html.count('id="cchc-plotlyjs"') == 1 and "plotly.js v" not in html
    assert "plotly.js v" not in result.notebook.read_text(encoding="utf-8")
    assert "prepare_plan_report" not in html and "charts.show" not in html  # no code
    assert not re.search(r"<script[^>]+src=[\"']https?:", html)
    assert not re.search(r"<link[^>]+href=[\"']https?:", html)
    # The off-track list comes first, then the seven areas in the plan's order.
    positions = [html.index("Những việc chưa đạt, quá hạn")]
    positions += [html.index(f"{s}. {t}</h2>") for s, t in plan.SECTION_TITLES.items()]
    assert positions == sorted(positions)
    # Every state the sample plants shows up (late VII.3, not done I.3).
    assert "Hoàn thành quá hạn" in html and "Quá hạn chưa hoàn thành" in html
    # Issue 12: the generated methods, the plan's own inconsistency said, the year-end outlook,
    # and the targets no system exports (area I's III.1 from the sample's manual figures).
    assert "Phương pháp tính" in html and "Cách đọc Kế hoạch" in html
    assert "Nhiệm vụ I.2: Kế hoạch ban hành ngày 28/01/2023 nhưng ghi thời hạn «Tháng 12/2022»" in html
    assert "Hướng tới cuối năm" in html and "Năm đã kết thúc" in html
    assert "được ban hành đúng trình tự, thủ tục" in html and "số liệu nhập tay" in html
    planted = _planted(RAW)
    assert _leaks(planted, [html, result.notebook.read_text(encoding="utf-8")]) == []


def test_task_due_on_the_as_of_day_is_not_zero_days_late():
    """Not done on the day it fell due: "đến hạn đúng ngày 30/06/2023", never "quá hạn 0 ngày";
    one day later it is "quá hạn 1 ngày"."""
    from cchc_lib.publish import plan_report

    frame = tasks([("Tháng 6/2023", "in_progress", None), ("Tháng 6/2023", "done", "2023-07-01 09:00")])
    today = plan.task_states(frame, "2023-06-30")
    # The second was done only on 01/07: on 30/06 it was open too.
    assert list(today["state_vi"]) == [plan.OVERDUE, plan.OVERDUE]
    assert list(today["days_late"]) == [0, 0]
    html = plan_report.tasks_html(today)
    assert "đến hạn đúng ngày 30/06/2023" in html and "0 ngày" not in html
    line = plan_report._task_line(today.iloc[0].to_dict())
    assert line.endswith("**chưa hoàn thành**, đến hạn đúng ngày 30/06/2023.")
    assert "0 ngày" not in line
    later = plan.task_states(frame, "2023-07-01")
    html = plan_report.tasks_html(later)
    # Task 1: 01/07 - 30/06 = 1 day overdue; task 2 done 01/07 09:00: 1 day late.
    # one word for both (issue 12 §5): "hoàn thành quá hạn", never "muộn"
    assert html.count("quá hạn 1 ngày") == 2 and "muộn" not in html and "đến hạn đúng ngày" not in html
