"""Issue 12 §2: the plan's targets no system exports — computed where an input carries them,
else read from data/raw/manual_figures.csv; expected values worked out by hand."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from cchc_lib import manual_figures as mf
from cchc_lib import plan
from cchc_lib.ingest.run import run_ingest
from cchc_lib.periods import Period
from cchc_lib.publish import plan_report
from cchc_lib.schema import conform
from tests.conftest import RAW

P = Period.parse


def figures(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["indicator", "period", "numerator", "denominator", "note"])
    frame["source_file"] = "manual_figures.csv"
    frame["source_row"] = range(2, len(frame) + 2)
    return conform(frame, "manual_figures")


def by_id(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["indicator"]: r for r in frame.to_dict("records")}


def test_manual_figure_of_the_period_else_the_latest_inside_it():
    f, reasons = mf.check_figures(figures([
        ("one_stop_share", "2023", 50, 51, "Danh mục"),
        ("popular_services_integrated_share", "2023-Q2", 9, 20, "quý II"),
        ("popular_services_integrated_share", "2023-Q3", 11, 20, "quý III"),
        ("popular_services_integrated_share", "2023-08", 10, 20, "tháng 8"),
    ]))
    assert reasons == []
    assert mf.manual_pair(f, "one_stop_share", P("2023")) == (50, 51, "số liệu nhập tay: Danh mục")
    # no 2023 row: the latest period inside the year is Q3 (ends 30/09, after August's 31/08)
    assert mf.manual_pair(f, "popular_services_integrated_share", P("2023")) == (
        11, 20, "số liệu nhập tay của Quý III/2023: quý III")
    assert mf.manual_pair(f, "popular_services_integrated_share", P("2023-Q2"))[:2] == (9, 20)
    assert mf.manual_pair(f, "popular_services_integrated_share", P("2023-Q1")) is None
    assert mf.manual_pair(f, "one_stop_share", P("2023-Q1")) is None  # a year's figure is no quarter's

    rows = by_id(mf.extra_indicators(P("2023"), figures=figures([
        ("one_stop_share", "2023", 50, 51, "Danh mục"),
        ("popular_services_integrated_share", "2023", 13, 20, None)])))
    # 50/51 = 98,0% < 100% (II.1, III.2); 13/20 = 65% >= 60% (III.6)
    assert (rows["one_stop_share"]["value"], rows["one_stop_share"]["status"]) == (50 / 51, "Chưa đạt")
    r = rows["popular_services_integrated_share"]
    assert (r["value"], r["status"], r["target_text_vi"]) == (0.65, "Đạt", "≥ 60% (III.6)")
    assert r["figure_source"] == "số liệu nhập tay"
    assert rows["legal_docs_due_process_share"]["status"] == "Chưa có dữ liệu"
    assert rows["legal_docs_due_process_share"]["target_text_vi"] == "100% (III.1)"


def test_unusable_rows_are_set_aside_with_their_reason():
    raw = figures([("one_stop_share", "2023-13", 1, 2, None), ("one_stop_share", "2023", 5, 4, None),
                   ("unified_governance_share", "2023", 0, 0, None)])
    usable, reasons = mf.check_figures(raw)
    assert reasons == [
        "manual_figures.csv, dòng 2: kỳ '2023-13' không hợp lệ (dùng 2023, 2023-Q1 hoặc 2023-03) — "
        "dòng không được dùng.",
        "manual_figures.csv, dòng 3: tử số (5) lớn hơn mẫu số (4) — dòng không được dùng."]
    assert list(usable["indicator"]) == ["unified_governance_share"]
    rows = by_id(mf.extra_indicators(P("2023"), figures=raw))
    assert rows["one_stop_share"]["status"] == "Chưa có dữ liệu"
    assert rows["unified_governance_share"]["status"] == "Không phát sinh"  # 0 / 0
    assert mf.set_aside_markdown(raw).startswith("**Số liệu nhập tay không được dùng:**")


def test_published_timely_from_the_catalogue_wins_over_an_entered_figure():
    ts = pd.Timestamp
    cat = pd.DataFrame({
        "year": [2023, 2023, 2023, 2023, 2022],
        # P1 decided before its text took effect (timely); P2 decided 9 days after (late);
        # P3 from 2019 (not this year's work); P4 in force 01/07/2023, never decided (late);
        # P5 is the 2022 catalogue (another year)
        "legal_effective_date": [ts("2023-03-01"), ts("2023-05-01"), ts("2019-04-15"),
                                 ts("2023-07-01"), ts("2023-03-01")],
        "published_decision_date": [ts("2023-02-20"), ts("2023-05-10"), ts("2019-04-01"), pd.NaT,
                                    ts("2023-02-20")],
    })
    pairs = mf.computed_pairs(P("2023"), cat, None)
    assert pairs["procedures_published_timely_share"] == (1, 3, "danh mục TTHC")
    rows = by_id(mf.extra_indicators(P("2023"), procedures=cat, figures=figures(
        [("procedures_published_timely_share", "2023", 3, 3, "typed")])))
    r = rows["procedures_published_timely_share"]
    assert (r["numerator"], r["denominator"], r["status"], r["figure_source"]) == (
        1, 3, "Chưa đạt", "danh mục TTHC")
    # Q1 2023: only P1 (effective 01/03, decided 20/02) -> 1/1
    assert mf.computed_pairs(P("2023-Q1"), cat, None)["procedures_published_timely_share"][:2] == (1, 1)


def test_staff_register_optional_columns():
    staff = pd.DataFrame({
        "staff_id": ["A", "B", "C", "D", "E", "F"], "year": 2023,
        "is_leader": [False, True, False, False, True, True],
        "security_trained": [True, True, False, True, False, True],
        "public_employee": [True, True, False, False, False, False],
        "title_trained": [True, False, None, None, None, None],
        "appointed": [False, True, True, True, False, True],
        "met_standard": [None, True, True, False, None, True],
        "trained_before_appointment": [None, False, None, None, None, True],
        "source_file": "staff.csv", "source_row": range(2, 8)})
    staff = conform(staff, "staff")
    pairs = mf.computed_pairs(P("2023"), None, staff)
    # viên chức: A, B; titled: A -> 1/2
    assert pairs["vc_title_trained_share"][:2] == (1, 2)
    # công chức appointed: C, D, F (B is a viên chức); met the standard: C, F -> 2/3
    assert pairs["appointed_meeting_standard_share"][:2] == (2, 3)
    # viên chức leaders: B; trained before appointment: none -> 0/1
    assert pairs["vc_leaders_trained_before_appointment_share"][:2] == (0, 1)
    # heads of units ("Lãnh đạo"): B, E, F; informed: B, F -> 2/3
    assert pairs["heads_dx_informed_share"][:2] == (2, 3)
    # a register without the optional columns computes only what it carries
    bare = conform(staff.drop(columns=["public_employee", "title_trained", "appointed", "met_standard",
                                       "trained_before_appointment"]), "staff")
    assert set(mf.computed_pairs(P("2023"), None, bare)) == {"heads_dx_informed_share"}


def test_ingest_reads_the_manual_figures_and_rejects_bad_rows(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "manual_figures.csv").write_text(
        "Chỉ tiêu,Kỳ,Tử số,Mẫu số,Nguồn số liệu\n"
        "legal_docs_due_process_share,2023,3,4,Sổ theo dõi\n"
        "chi_tieu_la,2023,1,1,\n"
        "one_stop_share,2023,abc,10,\n", encoding="utf-8")
    result = run_ingest(raw, tmp_path / "processed")
    got = mf.load_manual_figures(tmp_path / "processed")
    assert list(got["indicator"]) == ["legal_docs_due_process_share"]
    assert (float(got["numerator"].iloc[0]), float(got["denominator"].iloc[0])) == (3, 4)
    rejects = result.rejects[result.rejects["table"] == "manual_figures"]
    assert sorted(rejects["source_row"].astype(int)) == [3, 4]
    assert any("chi_tieu_la" in r for r in rejects["reason"])
    assert any("không phải số" in r for r in rejects["reason"])


def test_plan_report_shows_every_untracked_target_in_its_area(sample_processed_dir):
    ctx = plan_report.prepare_plan_report(2023, "2023-12-31", sample_processed_dir)
    shown = set(ctx.indicators["indicator"])
    assert set(mf.SPECS) <= shown
    for spec in mf.SPECS.values():
        assert spec.id in plan.AREA_INDICATORS[spec.area]
    area_i = plan_report.area_html(ctx, "I")
    # area I now has its quantitative target (III.1): the old sentence is gone
    assert "không đặt chỉ tiêu định lượng" not in area_i
    assert "Tỷ lệ văn bản quy phạm pháp luật được ban hành đúng trình tự, thủ tục" in area_i
    # the sample's manual figure: 2 of 2 -> 100%, Đạt, and says where it comes from
    r = ctx.indicators.set_index("indicator").loc["legal_docs_due_process_share"]
    assert (r["numerator"], r["denominator"], r["status"]) == (2, 2, "Đạt")
    assert "số liệu nhập tay: Sổ theo dõi văn bản QPPL" in area_i
    assert not np.isnan(ctx.indicators.set_index("indicator").loc["heads_dx_informed_share", "value"])


@pytest.mark.parametrize("column", ["Viên chức", "Bồi dưỡng theo chức danh nghề nghiệp",
                                    "Bổ nhiệm trong năm", "Đạt tiêu chuẩn trước khi bổ nhiệm",
                                    "Bồi dưỡng trước khi bổ nhiệm"])
def test_sample_staff_register_has_the_new_columns(column):
    assert column in (RAW / "staff.csv").read_text(encoding="utf-8").splitlines()[0]
