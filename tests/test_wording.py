"""Issue 12 §5: wording a civil servant would sign. Each generated text is built on small data
and read for the required words (and for the words it replaced)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cchc_lib import plan
from cchc_lib.config import NOTEBOOKS_DIR
from cchc_lib.periods import Period
from cchc_lib.publish import mail, plan_report, report
from tests.test_indicators import dossier, make_data
from tests.test_plan import tasks

NOTEBOOKS = NOTEBOOKS_DIR
# Words the issue replaced; none may appear in any generated sentence or notebook prose.
REPLACED = ("Tồn đọng", "tồn đọng", "trễ hạn", "chuyển qua", "≥ 100%", "mức phấn đấu",
            "Mức phấn đấu", "mức tối thiểu", "Mức tối thiểu", "hoàn thành muộn", "**0** chưa",
            "đơn vị tiếp nhận", "Xin gửi", "gửi tự động bởi", "Nhóm mất nhiều điểm",
            "Việc tăng điểm nhiều nhất", "Không đặt chỉ tiêu")


def _clean(text: str) -> list[str]:
    return [w for w in REPLACED if w in text]


@pytest.fixture
def processed(tmp_path):
    # March 2023: 3 received (2 online), 3 resolved (1 late), 1 pending overdue at 31/03
    data = make_data([
        dossier(1, "2023-03-01 08:00", "2023-03-10", "2023-03-05 08:00", channel="online"),
        dossier(2, "2023-03-01 08:00", "2023-03-10", "2023-03-13 08:00", channel="online"),
        dossier(3, "2023-03-02 08:00", "2023-03-10", "2023-03-09 08:00"),
        dossier(4, "2023-02-20 08:00", "2023-03-01"),
    ])
    out = tmp_path / "processed"
    out.mkdir()
    data.dossiers.to_parquet(out / "dossiers.parquet")
    data.procedures.to_parquet(out / "procedures.parquet")
    return out


def test_period_report_texts(processed):
    ctx = report.prepare_report("2023-03", processed)
    summary = report.summary_markdown(ctx)
    # "Sở đã tiếp nhận …": received in March 1, 2, 3 = 3; resolved 1, 2, 3 = 3
    assert summary.startswith("Trong tháng 3/2023, Sở đã tiếp nhận 3 hồ sơ và giải quyết 3 hồ sơ;")
    assert "**Phạm vi:** toàn Sở" in report.header_markdown(ctx)
    card = report.scorecard_html(ctx.indicators)
    assert "Hồ sơ đang giải quyết tại thời điểm cuối kỳ" in card
    assert "Số hồ sơ kỳ trước chuyển sang" in card
    assert "<td>100% (II.2)" in card  # "Chỉ tiêu: 100%", not "≥ 100%"
    for text in (summary, card, report.header_markdown(ctx)):
        assert _clean(text) == []


def test_department_summary_names_the_unit(processed):
    ctx = report.prepare_report("2023-03", processed, "Phòng A")
    assert "Phòng A đã tiếp nhận 3 hồ sơ" in report.summary_markdown(ctx)


def test_mail_texts(processed):
    from cchc_lib.indicators import compute_indicators
    from cchc_lib.processed import load_processed

    period = Period.parse("2023-03")
    summary = mail.summarise(compute_indicators(load_processed(processed), period), period)
    text, html = mail.summary_text([summary]), mail.summary_html([summary])
    for body in (text, html):
        assert "Văn phòng Sở trân trọng gửi báo cáo" in body
        assert "Thư này do công cụ cchc gửi tự động." in body
        assert _clean(body) == []
    # on time: 1 and 3 of 3 resolved -> 66,7%, against "100% (II.2)"
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn: 66,7% (chỉ tiêu: 100% (II.2)) — Chưa đạt" in text


def test_plan_report_task_wording():
    frame = tasks([
        ("Tháng 6/2023", "done", "2023-06-20"),  # on time
        ("Tháng 6/2023", "done", "2023-07-05"),  # 5 days late
        ("Thường xuyên", "done", "2023-11-01"),  # standing task, reported in the year
    ])
    states = plan.task_states(frame, "2023-12-31")
    ctx = plan_report.PlanReportContext(2023, plan.as_of_instant("2023-12-31"),
                                        plan.plan_indicators(plan.PlanInputs(), Period.parse("2023")),
                                        states, True, {})
    text = plan_report.off_track_markdown(ctx)
    # due by 31/12: all three; on time: the first and the standing one; late: the second
    assert ("Trong 3 nhiệm vụ đã đến hạn: **2** hoàn thành đúng hạn, **1** hoàn thành quá hạn, "
            "không có nhiệm vụ chưa hoàn thành.") in text
    assert "hoàn thành ngày 05/07/2023, **quá hạn 5 ngày**" in text
    html = plan_report.tasks_html(states)
    assert "Đã triển khai thực hiện trong kỳ" in html  # the standing task
    assert "đã triển khai thực hiện trong kỳ" in plan_report.area_summary(ctx, "I")
    for body in (text, html, plan_report.area_html(ctx, "I")):
        assert _clean(body) == []


def test_no_number_targets_say_so():
    rows = plan.plan_indicators(plan.PlanInputs(), Period.parse("2023"))
    fb = rows[rows["indicator"] == "feedback_ontime_rate"].iloc[0]
    assert fb["target_text_vi"] == "Kế hoạch không nêu con số (yêu cầu xử lý kịp thời)"


def test_notebook_prose_uses_the_agreed_words():
    for name in ("report.ipynb", "plan.ipynb"):
        cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert _clean(prose) == [], name


def test_index_lever_and_component_wording():
    from cchc_lib.index766 import scores as index766

    labels = {c.code: c.lever_vi for c in index766.COMPONENTS}
    assert labels["PETITION_HANDLING_SATISFACTION"] == "PAKN không có đánh giá «Không hài lòng»"
    assert all("trễ hạn" not in v for v in labels.values())


def test_form06_short_headers():
    from cchc_lib.form06 import FORM06_COLUMNS

    headers = {name: text for name, _, text in FORM06_COLUMNS}
    assert headers["carried_over"] == "Số hồ sơ kỳ trước chuyển sang"
    assert pd.Series(list(headers.values())).str.contains("Trong kỳ").sum() == 0
