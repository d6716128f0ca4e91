"""Issue 12 §1: the plan's own reading of each indicator. Every expected value below is worked
out by hand from the plan's wording (Kế hoạch 122/KH-SKH), next to it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cchc_lib import plan
from cchc_lib.indicators import compute_indicators
from cchc_lib.periods import Period
from cchc_lib.publish import plan_report
from cchc_lib.tables import format_indicator_table
from cchc_lib.targets import load_targets, target_text_vi
from tests.test_indicators import dossier, make_data, row

P = Period.parse


def test_online_resolved_share_is_resolved_online_over_resolved_by_completion_date():
    # III.2: "tỷ lệ hồ sơ giải quyết theo DVCTT mức độ 3, 4 trên tổng số hồ sơ giải quyết ≥ 70%".
    data = make_data([
        # received online in February, resolved in March: counts for March's resolved share
        dossier(1, "2023-02-20 08:00", "2023-03-10", "2023-03-02 09:00", channel="online"),
        # received online in March, still pending: in March's received share only
        dossier(2, "2023-03-03 08:00", "2023-04-10", channel="online"),
        # in person, received and resolved in March
        dossier(3, "2023-03-03 08:00", "2023-03-20", "2023-03-06 09:00"),
        # online, received and resolved in March
        dossier(4, "2023-03-04 08:00", "2023-03-20", "2023-03-07 09:00", channel="online"),
    ])
    march = compute_indicators(data, P("2023-03"))
    resolved = row(march, "online_resolved_share")
    # resolved in March: 1, 3, 4; online among them: 1, 4 -> 2/3 = 66,7% < 70%
    assert (resolved.numerator, resolved.denominator) == (2, 3)
    assert resolved.value == pytest.approx(2 / 3)
    assert (resolved.target, resolved.status) == (0.70, "Chưa đạt")
    assert resolved.target_text_vi == "≥ 70% (III.2, Biểu II.8)"
    # received in March: 2, 3, 4; online: 2, 4 -> 2/3, the same numbers as before, no target
    received = row(march, "online_share")
    assert (received.numerator, received.denominator) == (2, 3)
    assert math.isnan(received.target) and received.status == ""
    assert received.target_text_vi.startswith("Không có chỉ tiêu riêng")


def test_apology_rate_counts_late_resolved_and_pending_overdue():
    # Biểu II.5: "100% hồ sơ TTHC để chậm, muộn phải có văn bản xin lỗi".
    data = make_data([
        # A: resolved late in March, apology
        dossier(1, "2023-03-01 08:00", "2023-03-10", "2023-03-13 08:00", apology_issued=True),
        # B: resolved late in March, no apology
        dossier(2, "2023-03-01 08:00", "2023-03-10", "2023-03-14 08:00"),
        # C: pending at 31/03, due 20/03 (overdue), apology
        dossier(3, "2023-03-02 08:00", "2023-03-20", apology_issued=True),
        # D: pending overdue, no apology
        dossier(4, "2023-03-02 08:00", "2023-03-21"),
        # E: pending but due 10/04 (not late yet): not in the base even with an apology
        dossier(5, "2023-03-02 08:00", "2023-04-10", apology_issued=True),
        # F: resolved late in February: another period
        dossier(6, "2023-02-01 08:00", "2023-02-10", "2023-02-15 08:00", apology_issued=True),
        # G: resolved on time in March with an apology anyway: not late, not in the base
        dossier(7, "2023-03-01 08:00", "2023-03-10", "2023-03-09 08:00", apology_issued=True),
    ])
    r = row(compute_indicators(data, P("2023-03")), "apology_rate")
    # base: A, B (resolved late) + C, D (pending overdue at the end) = 4; with apology: A, C = 2
    assert (r.numerator, r.denominator, r.value) == (2, 4, 0.5)
    assert r.status == "Chưa đạt" and r.target_text_vi == "100% (Biểu II.5)"


def test_conflicting_targets_show_both_and_the_targets_file_chooses(tmp_path):
    t = load_targets(2023)
    # default: the text's figure decides (III.2 95%), the table's 85% is shown beside it
    sat = t.get("satisfaction_rate")
    assert (sat.value, sat.source, sat.value_min, sat.source_min) == (0.95, "III.2", 0.85, "Biểu II.6")
    assert target_text_vi(sat, "rate") == ("theo mục III.2: ≥ 95%; theo Biểu II.6: ≥ 85% "
                                           "(Kế hoạch ghi không thống nhất; đánh giá theo mục III.2)")
    work = t.get("online_workfile_share")
    assert target_text_vi(work, "rate") == ("theo mục III.6: 100%; theo Biểu VI: ≥ 80% "
                                            "(Kế hoạch ghi không thống nhất; đánh giá theo mục III.6)")
    # the analyst lets the table decide: text still first, the report says which one it used
    (tmp_path / "2023.yaml").write_text(
        "plan: K\nindicators:\n  satisfaction_rate:\n    op: '>='\n    figures:\n"
        "      - {target: 0.95, source: 'III.2'}\n      - {target: 0.85, source: 'Biểu II.6'}\n"
        "    decides: 'Biểu II.6'\n", encoding="utf-8")
    chosen = load_targets(2023, directory=tmp_path).get("satisfaction_rate")
    assert (chosen.value, chosen.source, chosen.value_min) == (0.85, "Biểu II.6", 0.95)
    assert target_text_vi(chosen, "rate") == ("theo mục III.2: ≥ 95%; theo Biểu II.6: ≥ 85% "
                                              "(Kế hoạch ghi không thống nhất; đánh giá theo Biểu II.6)")
    (tmp_path / "2024.yaml").write_text(
        "indicators:\n  satisfaction_rate:\n    op: '>='\n    figures:\n"
        "      - {target: 0.95, source: 'III.2'}\n      - {target: 0.85, source: 'Biểu II.6'}\n"
        "    decides: 'II.6'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="decides 'II.6'"):
        load_targets(2024, directory=tmp_path)


def test_no_mức_phấn_đấu_or_tối_thiểu_labels_anywhere_in_target_texts():
    t = load_targets(2023)
    for name, target in t.entries.items():
        text = target_text_vi(target, "rate", 2023, 0.5)
        assert "phấn đấu" not in text and "tối thiểu" not in text, name
        assert "≥ 100%" not in text, name  # "Chỉ tiêu: 100%", never "≥ 100%"


def test_derived_targets_are_labelled_as_derived():
    t = load_targets(2023)
    # "pending overdue = 0" follows from II.2's "100% ... đúng hạn"; the plan does not state it
    assert target_text_vi(t.get("pending_overdue"), "count") == (
        "0 hồ sơ (chỉ tiêu suy ra từ «100% thủ tục hành chính được giải quyết đúng hạn» (II.2); "
        "Kế hoạch không nêu trực tiếp)")
    assert "suy ra" in target_text_vi(t.get("plan_task_completion"), "rate")
    # a target the plan states is cited, not derived
    assert target_text_vi(t.get("ontime_rate"), "rate") == "100% (II.2)"
    assert target_text_vi(t.get("early_rate"), "rate") == "≥ 80% (II.2)"
    assert target_text_vi(t.get("postgraduate_share"), "rate") == "trên 22% (III.4)"


def test_other_figure_status_named_by_its_source():
    # 4 of 5 work files online = 80%: not the text's 100% (III.6), the table's 80% (Biểu VI).
    files = pd.DataFrame({"workfile_id": [f"W{i}" for i in range(5)], "year": 2023,
                          "department": "VP", "online": [True] * 4 + [False],
                          "classified": [False] * 5, "source_file": "w.csv", "source_row": range(2, 7)})
    rows = plan.plan_indicators(plan.PlanInputs(workfiles=files), P("2023"))
    work = rows[rows["indicator"] == "online_workfile_share"]
    html = plan_report.targets_html(work)
    assert "Theo Biểu VI: Đạt" in html and "Mức tối thiểu" not in html
    data = make_data([dossier(1, "2023-08-01 08:00", "2023-08-10", "2023-08-02 08:00",
                              rating="satisfied", rated_at="2023-08-02 09:00"),
                      dossier(2, "2023-08-01 08:00", "2023-08-10", "2023-08-02 08:00",
                              rating="unsatisfied", rated_at="2023-08-02 09:00")])
    table = format_indicator_table(compute_indicators(data, P("2023-08")), P("2023-08"), "overall")
    # 1 of 2 satisfied = 50%: below both figures
    assert "Chưa đạt (theo Biểu II.6: Chưa đạt)" in table
