"""Issue 12 §3: the "Phương pháp tính" section is generated from the engine's definitions."""

from __future__ import annotations

from cchc_lib import indicators as ind
from cchc_lib import plan
from cchc_lib.indicators import compute_indicators
from cchc_lib.periods import Period
from cchc_lib.publish import methods
from tests.test_indicators import dossier, make_data
from tests.test_plan import tasks

P = Period.parse


def test_every_measure_of_every_indicator_is_described():
    used = {m for d in ind.INDICATORS.values() for m in (d.numerator, d.denominator) if m}
    used |= {p for parts in ind.COMPOSED_MEASURES.values() for p in parts}
    assert used - set(methods.MEASURE_VI) == set()
    assert set(plan.PLAN_INDICATOR_IDS) <= set(methods.PLAN_FORMULA_VI)


def test_date_bases_come_from_the_engine_tuples():
    # online_share: received / received -> by receipt date; the plan's reading by completion date
    assert methods.measure_bases("online") == ["received"]
    assert methods.measure_bases("online_resolved") == ["completed"]
    assert methods.measure_bases("satisfied") == ["rated"]
    # apology: late resolved (completion date) + pending overdue (end of the period)
    assert methods.measure_bases("apology_den") == ["completed", "stock"]
    assert methods.measure_bases("carried_over") == ["stock_start"]
    m = methods.indicator_method(ind.INDICATORS["online_resolved_share"])
    assert m["formula"].startswith("hồ sơ có kết quả đã nộp qua kênh trực tuyến")
    assert m["base"] == "theo ngày có kết quả"
    assert methods.indicator_method(ind.INDICATORS["online_share"])["base"] == "theo ngày tiếp nhận"


def test_section_for_a_period_report():
    data = make_data([dossier(1, "2023-03-01 08:00", "2023-03-10", "2023-03-05 08:00")])
    frame = compute_indicators(data, P("2023-Q1"))
    text = methods.methods_markdown(frame, P("2023-Q1"))
    # one line per indicator shown, with its target as the engine wrote it
    for label in frame["label_vi"].unique():
        assert f"- **{label}** = " in text, label
    assert ("- **Tỷ lệ hồ sơ giải quyết đúng hạn** = hồ sơ có kết quả không quá hạn (trước hạn và "
            "đúng hạn) / hồ sơ có kết quả (kể cả hồ sơ từ chối giải quyết và hồ sơ công dân rút); "
            "theo ngày có kết quả;") in text
    assert "chỉ tiêu: 100% (II.2)." in text
    # the readings the issue names
    assert "tính **theo từng hồ sơ**, dù mục II.2" in text
    assert "**cộng 20 điểm phần trăm** vào tỷ lệ của năm 2022" in text
    assert "**trên các tờ khai đã được đơn giản hóa**" in text
    assert "**từ chối giải quyết** và hồ sơ **công dân rút**" in text
    assert ("Mức độ hài lòng của người dân, tổ chức: theo mục III.2: ≥ 95%; theo Biểu II.6: ≥ 85% — "
            "**Kế hoạch ghi không thống nhất**; báo cáo đánh giá theo mục III.2") in text
    assert "chỉ tiêu **suy ra** từ «100% thủ tục hành chính được giải quyết đúng hạn» (II.2)" in text
    # the window, behind one function
    assert ("**Kỳ báo cáo:** Quý I/2023 tính theo lịch: từ 00:00 ngày 01/01/2023 đến hết ngày "
            "31/03/2023") in text


def test_task_due_before_the_plan_date_is_said_not_counted_late():
    # Task I.2: "Tháng 12/2022" in a plan dated 28/01/2023, done 21/02/2023. Against 31/12/2022
    # it would be 52 days late (21/02 - 31/12 = 31 + 21 = 52); the plan contradicts itself.
    frame = tasks([("Tháng 12/2022", "done", "2023-02-21")])
    issued = plan.plan_issued(2023)
    assert issued == plan.pd.Timestamp("2023-01-28")
    naive = plan.task_states(frame, "2023-12-31")
    assert (naive["state_vi"].iloc[0], int(naive["days_late"].iloc[0])) == (plan.DONE_LATE, 52)
    states = plan.task_states(frame, "2023-12-31", issued=issued)
    assert states["state_vi"].iloc[0] == plan.DONE_ONTIME
    assert states["due_at"].iloc[0] == plan.pd.Timestamp("2023-12-31 23:59:59.999999")
    lines = methods.plan_inconsistencies(states)
    assert lines == ["Nhiệm vụ I.1: Kế hoạch ban hành ngày 28/01/2023 nhưng ghi thời hạn «Tháng 12/2022» "
                     "(trước ngày ban hành): Kế hoạch ghi không thống nhất, nhiệm vụ được đánh giá theo "
                     "hạn cuối năm 2023, không tính là quá hạn so với «Tháng 12/2022»."]
    from cchc_lib.publish import plan_report

    assert "trước ngày ban hành" in plan_report.tasks_html(states)
