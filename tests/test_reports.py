"""Reports: content helpers on hand-built frames, then the notebooks executed through papermill
on the sample (month, quarter, year) and on a small planted raw set, and the HTML they publish."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from cchc_lib import periods
from cchc_lib.config import NOTEBOOKS_DIR
from cchc_lib.periods import Period
from cchc_lib.publish import batch, charts, index766_section, jobs, report, runner, site
from tests.report_fixtures import MARKUP_NAME, PLANTED, SAMPLE_PERIODS

NOTEBOOKS = NOTEBOOKS_DIR  # the report templates ship inside the package
# satisfaction, timeliness, online, payment, digitisation, waits, departments, Pareto, then the
# national service index by month and by department.
N_CHARTS = 11  # 10 + the year-end outlook (issue 12)
INDEX_TITLE = "5. Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766/QĐ-TTg)"


# -- content helpers on hand-built frames ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("2023-03", "2022-04", "2023-03"),
        ("2023-Q1", "2022-04", "2023-03"),
        ("2023-Q2", "2022-07", "2023-06"),
        ("2023", "2023-01", "2023-12"),
    ],
)
def test_chart_window_is_the_twelve_months_ending_with_the_period(code, start, end):
    assert report.chart_window(Period.parse(code)) == (Period.parse(start), Period.parse(end))


def _rows(**columns):
    return pd.DataFrame(columns)


def test_late_procedures_orders_counts_and_cumulates_shares():
    by_procedure = _rows(
        group=["A", "B", "C", "D", "A"],
        indicator=["late_rate", "late_rate", "late_rate", "late_rate", "ontime_rate"],
        numerator=[3.0, 1.0, 0.0, 4.0, 9.0],
    )
    late = report.late_procedures(by_procedure, {"A": "Thủ tục A", "D": "Thủ tục D"})
    # 8 late in all: D 4 (50%), A 3 (37,5%), B 1 (12,5%); C has none and is left out.
    assert late["code"].tolist() == ["D", "A", "B"]
    assert late["procedure"].tolist() == ["Thủ tục D", "Thủ tục A", "B"]
    assert late["late"].tolist() == [4, 3, 1]
    assert late["share"].tolist() == pytest.approx([0.5, 0.375, 0.125])
    assert late["cumulative_share"].tolist() == pytest.approx([0.5, 0.875, 1.0])


@pytest.mark.parametrize(
    ("indicator", "value", "expected"),
    [
        ("ontime_rate", 0.953, "95,3%"),
        ("online_payment_share", 0.1, "10,0%"),
        ("avg_wait_minutes", 12.34, "12,3 phút"),
        ("avg_processing_days", 3.96, "4,0 ngày"),
        ("pending", 1234, "1.234"),
        ("satisfaction_rate", float("nan"), "—"),
    ],
)
def test_format_value(indicator, value, expected):
    assert report.format_value(indicator, value) == expected


@pytest.mark.parametrize(
    ("indicator", "change", "expected"),
    [
        ("ontime_rate", 0.024, "+2,4 điểm %"),
        ("online_share", -0.1, "−10,0 điểm %"),
        ("pending", -3, "−3"),
        ("avg_wait_minutes", 1.25, "+1,2 phút"),
        ("pending", None, "—"),
    ],
)
def test_format_change(indicator, change, expected):
    assert report.format_change(indicator, change) == expected


def _indicator_row(**overrides):
    row = {
        "period": "2023-Q1", "group_by": "overall", "group": "", "indicator": "online_share",
        "numerator": 745.0, "denominator": 1207.0, "value": 745 / 1207, "target": 0.7,
        "status": "Chưa đạt", "label_vi": "Tỷ lệ hồ sơ nộp trực tuyến", "unit": "%",
        "target_min": None, "target_op": ">=", "target_text_vi": "≥ 70%", "target_source": "III.2",
        "status_min": "", "prev_value": None, "change_prev": 0.059, "yoy_value": None,
        "change_yoy": None,
    }
    row.update(overrides)
    return row


def test_scorecard_html_formats_colours_and_escapes():
    frame = pd.DataFrame([
        _indicator_row(),
        _indicator_row(indicator="avg_wait_minutes", label_vi="<i>Chờ</i> & đợi", value=15.7,
                       numerator=157.0, denominator=10.0, status="Đạt", target=25.0,
                       target_text_vi="≤ 25 phút", target_source="Biểu II.6", change_prev=0.5,
                       change_yoy=-1.0),
        _indicator_row(indicator="late_rate", label_vi="Quá hạn", value=0.02, status="",
                       target=None, target_text_vi=None, target_source="", change_prev=None),
    ])
    html = report.scorecard_html(frame)
    assert "<i>" not in html and "&lt;i&gt;Chờ&lt;/i&gt; &amp; đợi" in html
    rows = BeautifulSoup(html, "html.parser").select("tbody tr")
    cells = [[td.get_text(" ", strip=True) for td in row.find_all("td")] for row in rows]
    # 745/1207 = 61,72...% ; +5,9 points against the previous period; no same-period value.
    assert cells[0] == ["Tỷ lệ hồ sơ nộp trực tuyến", "61,7% 745/1.207", "≥ 70% III.2", "Chưa đạt",
                        "+5,9 điểm %", "—"]
    assert cells[1] == ["<i>Chờ</i> & đợi", "15,7 phút", "≤ 25 phút Biểu II.6", "Đạt", "+0,5 phút",
                        "−1,0 phút"]
    assert cells[2][2:4] == ["—", "—"]
    classes = [row.select_one(".status")["class"] for row in rows]
    assert classes == [["status", "st-missed"], ["status", "st-met"], ["status", "st-plain"]]


def test_form06_html_has_the_official_columns_and_vietnamese_numbers():
    from cchc_lib.form06 import FORM06_COLUMNS

    names = [name for name, _, _ in FORM06_COLUMNS]
    values = [1044, 627, 394, 23, 1017, 759, 236, 22, 27, 26, 1]
    form = pd.DataFrame([["1", "<Đấu thầu>", *values], ["", "Tổng cộng", *values]], columns=names)
    soup = BeautifulSoup(report.form06_html(form), "html.parser")
    assert [th.get_text() for th in soup.select("th.colno")] == [f"({i})" for i in range(1, 14)]
    first = [td.get_text() for td in soup.select("tbody tr")[0].find_all("td")]
    assert first[:4] == ["1", "<Đấu thầu>", "1.044", "627"]
    assert soup.select("tbody tr")[1].find_all("td")[1].get_text() == "Tổng cộng"


def _monthly(indicator_values: dict[str, list[tuple[float, float, float]]]) -> pd.DataFrame:
    """Long frame: per indicator a list over months of (numerator, denominator, value)."""
    rows = []
    for indicator, values in indicator_values.items():
        for month, (num, den, value) in zip(("2023-01", "2023-02"), values, strict=True):
            rows.append({"period": month, "indicator": indicator, "numerator": num,
                         "denominator": den, "value": value, "target": None, "target_min": None})
    return pd.DataFrame(rows)


def test_timeliness_chart_stacks_early_on_day_and_late():
    monthly = _monthly({
        "early_rate": [(5, 10, 0.5), (6, 8, 0.75)],
        "ontime_rate": [(8, 10, 0.8), (8, 8, 1.0)],
        "late_rate": [(2, 10, 0.2), (0, 8, 0.0)],
    })
    fig = charts.timeliness_chart(monthly)
    bars = {t.name: list(t.y) for t in fig.data if t.type == "bar"}
    assert bars == {"Trước hạn": [5, 6], "Đúng hạn": [3, 2], "Quá hạn": [2, 0]}
    early = next(t for t in fig.data if t.name == "Tỷ lệ trước hạn")
    assert list(early.x) == ["T1/2023", "T2/2023"] and list(early.y) == [0.5, 0.75]
    target = next(t for t in fig.data if t.name.startswith("Chỉ tiêu trước hạn"))
    assert list(target.y) == [0.8, 0.8]
    assert fig.layout.separators == ",."


def test_satisfaction_chart_draws_both_target_levels_from_the_data():
    monthly = _monthly({"satisfaction_rate": [(90, 100, 0.9), (96, 100, 0.96)]})
    monthly["target"], monthly["target_min"] = 0.95, 0.85
    fig = charts.satisfaction_chart(monthly)
    levels = {t.name: t.y[0] for t in fig.data if t.name.startswith("Theo")}
    # both of the plan's figures, each with its section; the text's decides (issue 12)
    assert levels == {"Theo mục III.2: 95% (dùng để đánh giá)": 0.95, "Theo Biểu II.6: 85%": 0.85}


def test_pareto_chart_shows_markup_as_text():
    late = pd.DataFrame({"procedure": [MARKUP_NAME], "code": ["9"], "late": [2], "share": [1.0],
                         "cumulative_share": [1.0]})
    fig = charts.pareto_chart(late)
    assert fig.data[0].x[0].startswith("&lt;b&gt;Thủ tục&lt;/b&gt;&lt;script&gt;")


def test_show_embeds_plotlyjs_with_the_first_figure_only(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setattr(charts, "_plotlyjs_sent", False)
    monkeypatch.delenv(charts.PLOTLYJS_ENV, raising=False)  # interactive use, as in JupyterLab
    monthly = _monthly({"online_share": [(7, 10, 0.7), (8, 10, 0.8)]})
    charts.show(charts.online_share_chart(monthly))
    charts.show(charts.online_share_chart(monthly))
    htmls = [obj.data for obj in shown]
    assert [len(re.findall(r"plotly\.js v\d", h)) for h in htmls] == [1, 0]
    assert all("Plotly.newPlot" in h for h in htmls)


# -- the national service index section (QĐ 766) on hand-made counts ---------------------------


def _index_frames():
    """Hand-made counts for one unit. Worked out by hand:
    - tiến độ 35/40 -> 20 x 35/40 = 17,5/20;
    - thanh toán A 10/47 -> 6 x 10/47 = 1,2766 -> 1,28/6; B and C not available; the group is
      1,28/10, 8,72 points of headroom, so A can gain all its 4,72 missing points, which takes
      47 - 10 = 37 more dossiers paid online;
    - DVCTT (estimate): r1 40/50 -> full at 0,8 -> 2/2; r2 30/40 -> 4 x 0,75 = 3/4;
      r3 0/0 -> 0/6 (a zero denominator scores 0): the group 5/12, an estimate;
    - hài lòng, số hóa, công khai: no input at all -> "không có dữ liệu".
    Total = 17,5 + 1,2766 + 5 = 23,7766 -> 23,78/100, an estimate since DVCTT is in it."""
    from cchc_lib.index766 import scores as index766

    counts = pd.DataFrame(
        [("Toàn Sở", "PROGRESS_ON_TIME", 35, 40), ("Toàn Sở", "PAYMENT_DOSSIER", 10, 47),
         ("Toàn Sở", "ONLINE_SERVICE_PROVIDED", 40, 50), ("Toàn Sở", "ONLINE_SERVICE_WITH_DOSSIERS", 30, 40),
         ("Toàn Sở", "ONLINE_DOSSIER_SHARE", 0, 0)],
        columns=["unit", "metric", "numerator", "denominator"],
    )
    scores = index766.score_from_counts(counts)
    return scores, index766.levers(counts, scores)


def _cells(html: str, selector: str = "tbody tr") -> list[list[str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.select(selector)]


def test_index_scores_html_shows_x_of_max_estimates_and_missing_inputs():
    scores, _ = _index_frames()
    rows = {r[0]: r for r in _cells(index766_section.index_scores_html(scores))}
    assert rows["Tiến độ giải quyết"][1] == "17,5/20"
    assert rows["Hồ sơ giải quyết đúng hạn"][1:4] == ["17,5/20", "87,5%", "35/40"]
    assert rows["Thanh toán trực tuyến"][1] == "1,28/10"
    assert rows["Dịch vụ công trực tuyến (ước tính)"][1] == "5/12"
    assert rows["Hồ sơ nộp trực tuyến (r3)"][1] == "0/6"  # 0/0 dossiers: zero, not missing
    assert rows["TTHC có phí triển khai thanh toán trực tuyến (B)"][1] == "không có dữ liệu"
    assert rows["Mức độ hài lòng"][1] == "không có dữ liệu"  # never 0
    assert rows["Tổng điểm (ước tính)"][1] == "23,78/100"
    assert "chưa tính các thành phần không có dữ liệu" in rows["Tổng điểm (ước tính)"][4]


def test_index_levers_html_sorts_by_points_gained_in_the_units_own_terms():
    _, levers = _index_frames()
    rows = _cells(index766_section.index_levers_html(levers))
    # Gains: A 4,72 (37 dossiers); tiến độ 2,5 (5 dossiers); r2 1 point (estimate, 10 services);
    # r3 6 points but its denominator is 0: one online dossier makes it 1/1.
    assert [r[1] for r in rows[:4]] == [
        "Hồ sơ nộp trực tuyến (r3) Dịch vụ công trực tuyến (ước tính)",
        "Hồ sơ có nghĩa vụ tài chính thanh toán trực tuyến (A) Thanh toán trực tuyến",
        "Hồ sơ giải quyết đúng hạn Tiến độ giải quyết",
        "DVC trực tuyến phát sinh hồ sơ (r2) Dịch vụ công trực tuyến (ước tính)",
    ]
    assert rows[1][2:] == ["1,28/6", "4,72", "4,72", "10/47 (21,3%) đủ điểm khi đạt 100,0%",
                           "tăng thêm 37 hồ sơ thanh toán trực tuyến"]
    assert rows[0][4] == "6 (ước tính)"
    assert rows[2][2:5] == ["17,5/20", "2,5", "2,5"] and rows[2][6].startswith("tăng thêm 5 hồ sơ")
    assert rows[3][4] == "1 (ước tính)" and rows[3][6].startswith("tăng thêm 10 DVC trực tuyến")
    missing = [r for r in rows if r[5] == "không có dữ liệu"]
    assert len(missing) == 21 - 5 and rows[-len(missing):] == missing  # unavailable last


def test_index_summary_names_the_total_and_the_best_lever_and_escapes_names():
    scores, levers = _index_frames()
    from cchc_lib.index766 import scores as index766

    frames = {"summary": scores[scores["metric"].isin([g.code for g in index766.GROUPS] + ["TOTAL"])],
              "levers": levers}
    text = index766_section.index_summary_markdown(frames, Period.parse("2023-Q1"), "<b>Phòng</b> *A*")
    assert text.startswith("**Tổng điểm (ước tính) của &lt;b&gt;Phòng&lt;/b&gt; \\*A\\* trong Quý I/2023: "
                           "23,78/100 điểm**")
    # Share of the maximum: DVCTT 5/12 = 41,7%, payment 1,28/10 = 12,8%, tiến độ 17,5/20 -> payment.
    assert "Nhóm tiêu chí đạt tỷ lệ điểm thấp nhất: Thanh toán trực tuyến (1,28/10)" in text
    assert ("Giải pháp tăng điểm nhiều nhất: tăng thêm 1 hồ sơ nộp trực tuyến (thay cho nộp trực tiếp; "
            "tăng 6 điểm, ước tính).") in text


def test_index_charts_stack_the_groups_and_leave_missing_groups_empty():
    from cchc_lib.index766 import scores as index766

    scores, _ = _index_frames()
    groups = scores[scores["metric"].isin([g.code for g in index766.GROUPS] + ["TOTAL"])]
    trend = pd.concat([groups.assign(period=code, label=label)
                       for code, label in (("2023-01", "T1/2023"), ("2023-02", "T2/2023"))])
    fig = charts.index_trend_chart(trend)
    bars = {t.name: list(t.y) for t in fig.data if t.type == "bar"}
    assert list(bars) == [g.label_vi for g in index766.GROUPS]
    assert bars["Tiến độ giải quyết"] == [17.5, 17.5] and bars["Dịch vụ công trực tuyến (ước tính)"] == [5, 5]
    assert all(pd.isna(v) for v in bars["Mức độ hài lòng"])  # no input: no bar, not a zero bar
    total = next(t for t in fig.data if t.type == "scatter")
    assert total.name == "Tổng điểm (ước tính)" and list(total.text) == ["23,8", "23,8"]
    estimate = next(t for t in fig.data if t.name == "Dịch vụ công trực tuyến (ước tính)")
    assert estimate.marker.pattern.shape == "/"
    depts = pd.concat([groups.assign(unit="Phòng <A>"),
                       groups.assign(unit="Phòng B", score=groups["score"] * 2)])
    fig = charts.index_departments_chart(depts, highlight="Phòng <A>")
    assert list(fig.data[0].y) == ["Phòng B", "▶ Phòng &lt;A&gt;"]  # highest total first, escaped


def test_slug_and_report_paths(tmp_path):
    assert jobs.slug("Phòng Đăng ký kinh doanh") == "phong-dang-ky-kinh-doanh"
    html, nb = jobs.report_paths(Period.parse("2023-Q1"), tmp_path, "Phòng Đấu thầu")
    assert html == tmp_path / "2023-Q1" / "bao-cao-2023-Q1-phong-dau-thau.html"
    assert nb == tmp_path / "2023-Q1" / "bao-cao-2023-Q1-phong-dau-thau.ipynb"


def test_resolve_kernel_falls_back_to_the_current_interpreter():
    assert runner.resolve_kernel("no-such-kernel-cchc-test") == "python3"


def test_index_groups_reports_and_marks_failures(tmp_path):
    results = [
        runner.ReportResult("2023-03", tmp_path / "2023-03" / "bao-cao-2023-03.html", size=5_242_880),
        runner.ReportResult("2023-Q1", tmp_path / "2023-Q1" / "bao-cao-2023-Q1.html", size=1_048_576),
        runner.ReportResult("2023", error="Báo cáo 2023: lỗi"),
    ]
    numbers = {"2023-03": {"received": 1234.0, "ontime_rate": 0.975, "online_share": 0.6,
                           "satisfaction_rate": None}}
    soup = BeautifulSoup(site.index_html(results, tmp_path, 2023, numbers), "html.parser")
    assert soup.html["lang"] == "vi"
    assert [h.get_text() for h in soup.find_all("h2")] == ["Năm 2023"]
    assert [h.get_text() for h in soup.find_all("h3")] == ["Báo cáo năm", "Báo cáo quý", "Báo cáo tháng"]
    links = {a.get_text(): a["href"] for a in soup.find_all("a")}
    assert links == {"Quý I/2023": "2023-Q1/bao-cao-2023-Q1.html",
                     "Tháng 3/2023": "2023-03/bao-cao-2023-03.html"}
    month_row = [td.get_text() for td in soup.find_all("table")[2].find("tbody").find_all("td")]
    assert month_row == ["Tháng 3/2023", "1.234", "97,5%", "60,0%", "—", "5,0 MB"]
    assert "Lỗi" in soup.find_all("table")[0].get_text()


def test_index_links_the_plan_report_in_its_own_group(tmp_path):
    results = [runner.ReportResult("2023", tmp_path / "2023" / "bao-cao-2023.html", size=1_048_576)]
    plan = runner.ReportResult("ke-hoach-2023", tmp_path / "ke-hoach-2023" / "bao-cao-ke-hoach-2023.html",
                                size=2_621_440)
    soup = BeautifulSoup(site.index_html(results, tmp_path, 2023, plan=plan), "html.parser")
    assert [h.get_text() for h in soup.find_all("h3")] == ["Kế hoạch CCHC năm 2023", "Báo cáo năm"]
    link = soup.find("table").find("a")
    assert link["href"] == "ke-hoach-2023/bao-cao-ke-hoach-2023.html"
    assert link.get_text() == "Tình hình thực hiện Kế hoạch cải cách hành chính năm 2023"
    assert soup.find("table").find_all("td")[-1].get_text() == "2,5 MB"
    failed = runner.ReportResult("ke-hoach-2023", error="Báo cáo ke-hoach-2023: lỗi")
    soup = BeautifulSoup(site.index_html(results, tmp_path, 2023, plan=failed), "html.parser")
    assert "Lỗi" in soup.find("table").get_text() and not soup.find("table").find("a")
    # Rewritten without this run's plan result (a monthly run): the plan report on disk is linked.
    on_disk = tmp_path / "ke-hoach-2023" / "bao-cao-ke-hoach-2023.html"
    on_disk.parent.mkdir()
    on_disk.write_text("<html></html>", encoding="utf-8")
    index = site.write_index(results, tmp_path, 2023)
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("h3").get_text() == "Kế hoạch CCHC năm 2023"
    assert soup.find("a")["href"] == "ke-hoach-2023/bao-cao-ke-hoach-2023.html"


# -- running: failures and atomic outputs -----------------------------------------------------


def _tiny_notebook(path: Path, body: str) -> Path:
    params = new_code_cell('period = "2023-01"\ndepartment = None\nprocessed_dir = "."')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_markdown_cell("# Thử"), new_code_cell(body)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_failed_run_names_the_cell_and_keeps_the_previous_report(tmp_path):
    ok = _tiny_notebook(tmp_path / "ok.ipynb", "print('kỳ', period)")
    bad = _tiny_notebook(tmp_path / "bad.ipynb", "raise ValueError('dữ liệu hỏng')")
    paths = (tmp_path / "out" / "r.html", tmp_path / "out" / "r.ipynb")
    jobs.render_report("2023-01", tmp_path, tmp_path / "out", notebook=ok, paths=paths)
    before = paths[0].read_bytes(), paths[1].read_bytes()
    assert "kỳ 2023-01" in before[0].decode()
    with pytest.raises(runner.ReportError) as caught:
        jobs.render_report("2023-02", tmp_path, tmp_path / "out", notebook=bad, paths=paths)
    message = str(caught.value)
    # Cell 3 of the executed notebook: parameters, papermill's injected cell, markdown, the raise.
    assert "ô số 3" in message and "«raise ValueError('dữ liệu hỏng')»" in message
    assert "ValueError: dữ liệu hỏng" in message
    assert (paths[0].read_bytes(), paths[1].read_bytes()) == before
    assert not [p for p in paths[0].parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_outputs_are_readable_like_any_new_file(tmp_path):
    """mkstemp makes 0600 files; a published report and the index must get 0666 minus the umask
    (here 027 -> 0640) so that colleagues and a web server can read them."""
    nb = _tiny_notebook(tmp_path / "ok.ipynb", "print(period)")
    mask = os.umask(0o027)
    try:
        result = jobs.render_report("2023-01", tmp_path, tmp_path / "out", notebook=nb)
        index = site.write_index([result], tmp_path / "out", 2023)
    finally:
        os.umask(mask)
    for path in (result.html, result.notebook, index):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name


@pytest.mark.parametrize("notebook", ["report.ipynb", "plan.ipynb"])
def test_runner_parameters_are_declared_in_the_parameters_cell(notebook):
    """papermill warns "Passed unknown parameter" for every name its parser cannot read in the
    tagged cell (e.g. a ``str | None`` annotation); every name the runner passes must parse."""
    import papermill
    from papermill.iorw import load_notebook_node

    nb = load_notebook_node(str(NOTEBOOKS / notebook))
    declared = set(papermill.inspect_notebook(str(NOTEBOOKS / notebook)))
    passed = {"period", "department", "processed_dir", "as_of", "conventions"}
    if notebook == "plan.ipynb":
        passed |= {"year"}
    assert passed <= declared
    assert nb.cells[0].metadata.tags == ["parameters"]


def test_batch_goes_on_after_a_failing_report(tmp_path):
    nb = _tiny_notebook(tmp_path / "nb.ipynb", "assert period != '2023-02', 'kỳ hỏng'")
    results = batch.render_batch(["2023-01", "2023-02", "2023-03"], tmp_path, tmp_path / "out",
                                   jobs=2, notebook=nb)
    assert [r.ok for r in results] == [True, False, True]
    assert "AssertionError" in results[1].error and "kỳ hỏng" in results[1].error
    assert results[0].html.exists() and results[2].html.exists()


def test_cli_says_processed_data_is_missing_before_any_report_runs(tmp_path, capsys):
    """No processed data: one line saying so and what to run, exit 1, before a kernel starts
    (it used to surface as a failed cell of each report, with a failed notebook left behind)."""
    from cchc_lib.cli import main

    empty = tmp_path / "processed"
    empty.mkdir()
    for extra in ([], ["--as-of", "2023-03-15"]):
        code = main(["report", "--period", "2023-03", "--processed", str(empty), "--out", str(tmp_path / "r"),
                     *extra])
        err = capsys.readouterr().err
        assert code == 1
        assert err == f"Chưa có dữ liệu đã xử lý trong {empty}: hãy chạy `cchc ingest` trước.\n"
        assert not (tmp_path / "r" / "2023-03").exists()


# -- the sample's reports ---------------------------------------------------------------------


@pytest.mark.parametrize("code", SAMPLE_PERIODS)
def test_sample_report_html(rendered_reports, code):
    results, _ = rendered_reports
    result = results[code]
    text = result.html.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    period = Period.parse(code)
    # Vietnamese, titled, the period written the Vietnamese way.
    assert soup.html["lang"] == "vi"
    h1 = soup.find("h1").get_text().strip()
    assert h1 == (f"Báo cáo kết quả giải quyết thủ tục hành chính và công tác cải cách hành chính — "
                  f"{period.label_vi} — Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang")
    assert soup.title.get_text() == h1
    # No code: no input editors, none of the notebook's source.
    assert not soup.select(".jp-InputArea-editor, .jp-InputPrompt, .jp-OutputPrompt")
    assert "prepare_report" not in text and "from cchc_lib" not in text
    # plotly.js exactly once (the compressed partial bundle), nothing fetched from the network.
    assert len(soup.select("script#cchc-plotlyjs")) == 1
    assert "plotly.js v" not in text  # never as plain script: the full bundle is not there
    for tag in soup.find_all(["script", "link", "img", "iframe"]):
        assert not re.match(r"(https?:)?//", tag.get("src") or tag.get("href") or ""), tag
    # Every chart, the scorecard, Biểu 06.
    assert len(soup.select("div.plotly-graph-div")) == N_CHARTS
    assert len(soup.select("table.scorecard tbody tr")) >= 16
    assert soup.select("table.form06 tbody tr")[-1].find_all("td")[1].get_text() == "Tổng cộng"
    # Issue 12: where the year is heading, and how every number was read.
    assert len(soup.select("table.projection tbody tr")) == 8
    assert "Hướng tới cuối năm" in text and "8. Phương pháp tính" in text
    assert "Cách đọc Kế hoạch" in text and "Kế hoạch ghi không thống nhất" in text
    # The status key shows the table's own badges, with their words inside (not empty swatches).
    legend = soup.select("ul.status-legend span.status")
    assert [(b["class"][1], b.get_text()) for b in legend] == [
        ("st-met", "Đạt"), ("st-missed", "Chưa đạt"), ("st-none", "Không phát sinh"),
        ("st-nodata", "Chưa có dữ liệu")]
    assert not [span for span in soup.select("span.status") if not span.get_text().strip()]
    # The executed notebook is kept next to the HTML, without errors.
    nb = nbformat.read(result.notebook, as_version=4)
    assert result.notebook.parent == result.html.parent
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    # papermill's injected values right after the notebook's own defaults.
    assert [c.metadata.get("tags") for c in nb.cells[:2]] == [["parameters"], ["injected-parameters"]]
    assert f'period = "{code}"' in nb.cells[1].source


def test_quarterly_report_is_at_most_one_megabyte(rendered_reports):
    results, _ = rendered_reports
    assert results["2023-Q1"].size == results["2023-Q1"].html.stat().st_size <= 1_000_000


def test_sample_report_numbers_match_the_indicator_engine(rendered_reports, sample_processed):
    """The scorecard shows what compute_indicators says for the period (the engine is tested on
    hand-built data in its own tests; here the number must reach the page unchanged)."""
    from cchc_lib.indicators import compute_indicators

    results, _ = rendered_reports
    df = compute_indicators(sample_processed, Period.parse("2023-Q1"))
    online = df[df["indicator"] == "online_share"].iloc[0]
    soup = BeautifulSoup(results["2023-Q1"].html.read_text(encoding="utf-8"), "html.parser")
    row = next(r for r in soup.select("table.scorecard tbody tr")
               if r.find("td").get_text() == online["label_vi"])
    expected = f"{online['value'] * 100:.1f}".replace(".", ",") + "%"
    assert row.find_all("td")[1].get_text(" ", strip=True).startswith(expected)
    # Issue 12: every target the plan sets is in the period report, the others in their own table:
    # the sample's manual figure for III.1 (2 of 2 for 2023) is no quarter's figure -> no data.
    tables = soup.select("table.scorecard")
    assert len(tables) == 2
    others = {r.find("td").get_text(): r for r in tables[1].select("tbody tr")}
    from cchc_lib.manual_figures import SPECS
    from cchc_lib.plan import PLAN_INDICATORS

    assert {d.label_vi for d in PLAN_INDICATORS} | {s.label_vi for s in SPECS.values()} == set(others)
    legal = others["Tỷ lệ văn bản quy phạm pháp luật được ban hành đúng trình tự, thủ tục"]
    assert legal.select_one("span.status").get_text() == "Chưa có dữ liệu"


def _points(value: float) -> str:
    """Hand formatting of a score: two decimals at most, decimal comma (19,79; 17,5; 20)."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _progress_counts(data, period: Period, unit: str) -> tuple[float, float]:
    from cchc_lib.index766.counts import counts_from_data

    counts = counts_from_data(data, period, "overall" if unit == "Toàn Sở" else "department")
    row = counts[(counts["unit"] == unit) & (counts["metric"] == "PROGRESS_ON_TIME")].iloc[0]
    return float(row["numerator"]), float(row["denominator"])


def _check_index_section(html: Path, data, unit: str) -> None:
    """The index section of a rendered report: its title, the tiến độ group's score and its
    lever, both recomputed here by hand from the counts: the group has one component worth
    20 x on-time / handled, and closing its gap takes (handled - on time) more dossiers on time."""
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    assert INDEX_TITLE in [h.get_text().strip() for h in soup.find_all("h2")]
    num, den = _progress_counts(data, Period.parse("2023-Q1"), unit)
    assert 0 < num < den  # the sample has late dossiers in the quarter: a real lever
    scores = {r[0]: r for r in _cells(str(soup.select_one("table.index766")))}
    assert scores["Tiến độ giải quyết"][1] == f"{_points(20 * num / den)}/20"
    assert scores["Hồ sơ giải quyết đúng hạn"][3] == f"{num:,.0f}/{den:,.0f}".replace(",", ".")
    assert scores["Dịch vụ công trực tuyến (ước tính)"][1].endswith("/12")
    assert "Tổng điểm (ước tính)" in scores
    assert scores["Chứng thực bản sao điện tử"][1] == "không có dữ liệu"  # no input in the contract
    levers = _cells(str(soup.select_one("table.levers")))
    row = next(r for r in levers if r[1].startswith("Hồ sơ giải quyết đúng hạn"))
    assert row[3] == _points(20 - 20 * num / den)
    assert row[6] == f"tăng thêm {den - num:.0f} hồ sơ giải quyết đúng hạn (thay cho hồ sơ quá hạn)"
    gains = [float(r[4].split()[0].replace(",", ".")) for r in levers if r[4] != "—"]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0


def test_sample_report_has_the_national_index_section(rendered_reports, sample_processed):
    results, _ = rendered_reports
    _check_index_section(results["2023-Q1"].html, sample_processed, "Toàn Sở")


def test_department_report_scores_the_index_for_that_department(sample_processed_dir,
                                                                sample_processed, tmp_path):
    department = "Phòng Đăng ký kinh doanh"
    result = jobs.render_report("2023-Q1", sample_processed_dir, tmp_path, department)
    _check_index_section(result.html, sample_processed, department)
    text = BeautifulSoup(result.html.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    assert f"của {department} trong Quý I/2023" in text
    assert "tính cho mọi phòng đã giải quyết hồ sơ" in text


def test_year_batch_also_renders_the_plan_report_as_of_the_end_of_the_year(
        sample_processed_dir, tmp_path, monkeypatch, capsys):
    """`cchc report --year 2023` renders the plan report next to the period reports and links it
    from the index; rendered in 2026 it is judged at 31/12/2023. One month stands for the
    twelve here (each report starts a kernel)."""
    from cchc_lib.cli import main

    monkeypatch.setattr(periods, "periods_in_year", lambda year: [Period.parse(f"{year}-03")])
    out = tmp_path / "r"
    code = main(["report", "--year", "2023", "--processed", str(sample_processed_dir), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    plan_html = out / "ke-hoach-2023" / "bao-cao-ke-hoach-2023.html"
    assert f"Báo cáo Kế hoạch CCHC năm 2023: {plan_html.resolve()}" in printed
    soup = BeautifulSoup(plan_html.read_text(encoding="utf-8"), "html.parser")
    assert "năm 2023 — tính đến ngày 31/12/2023" in soup.title.get_text()
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in index.find_all("a")}
    assert links == {"ke-hoach-2023/bao-cao-ke-hoach-2023.html", "2023-03/bao-cao-2023-03.html"}
    assert index.find("h3").get_text() == "Kế hoạch CCHC năm 2023"
    assert not batch.has_plan(1999)  # no shipped plan: a year batch renders the periods only


# -- planted personal data and markup ----------------------------------------------------------


def test_planted_personal_data_never_reaches_reports(planted_report):
    result, _, processed = planted_report
    outputs = [result.html, result.notebook, *sorted(p for p in processed.rglob("*") if not p.is_dir())]
    for path in outputs:
        content = path.read_bytes().decode("utf-8", errors="replace")
        for column, value in PLANTED.items():
            assert value not in content, f"{column} leaked into {path.name}"


def test_markup_in_a_procedure_name_is_escaped(planted_report):
    result, _, _ = planted_report
    text = result.html.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text and "<b>Thủ tục</b>" not in text
    soup = BeautifulSoup(text, "html.parser")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("table.late tbody tr")]
    # Hand-worked: 3 late dossiers in March, 2 of them of the markup procedure.
    assert rows[0][1:] == [MARKUP_NAME, "9.999999", "2", "66,7%", "66,7%"]
    assert rows[1][3:] == ["1", "33,3%", "100,0%"]


def test_pareto_ticks_whole_dossiers_when_few_are_late():
    import pandas as pd

    from cchc_lib.publish.charts import pareto_chart

    few = pd.DataFrame({"procedure": ["A", "B"], "late": [3, 1], "cumulative_share": [0.75, 1.0]})
    many = pd.DataFrame({"procedure": ["A", "B"], "late": [40, 10], "cumulative_share": [0.8, 1.0]})
    assert pareto_chart(few).layout.yaxis.dtick == 1  # ticks 0, 1, 2, 3: no "1, 1, 2, 2"
    assert pareto_chart(many).layout.yaxis.dtick is None  # plotly's own steps


def test_header_warns_when_the_period_is_outside_the_data(sample_processed_dir):
    from cchc_lib.periods import Period
    from cchc_lib.publish.report import header_markdown, prepare_report

    # The sample's dossiers were received 03/01/2022 - 31/12/2023.
    later = header_markdown(prepare_report(Period.parse("2026-10"), sample_processed_dir))
    assert "nằm ngoài khoảng thời gian của dữ liệu đã nhập (03/01/2022 – 31/12/2023)" in later
    inside = header_markdown(prepare_report(Period.parse("2023-03"), sample_processed_dir))
    assert "nằm ngoài" not in inside


# -- --department: the name as typed -> the canonical spelling, or exit 2 ----------------------

DEPARTMENTS = ["Phòng Đăng ký kinh doanh", "Phòng Đấu thầu", "Phòng Kinh tế ngành"]


def _departments_dir(tmp_path: Path, names: list[str]) -> Path:
    processed = tmp_path / "processed"
    processed.mkdir()
    # Two dossiers of the first department, one of each other, one without a department.
    column = [names[0], *names, None]
    pd.DataFrame({"department": pd.Series(column, dtype="string")}).to_parquet(processed / "dossiers.parquet")
    # A catalogue file, so that the command takes the folder for processed data.
    catalogue = pd.DataFrame({"procedure_code": pd.Series([], dtype="string")})
    catalogue.to_parquet(processed / "procedures.parquet")
    return processed


@pytest.mark.parametrize("typed", [
    "Phòng Đăng ký kinh doanh",
    "  phòng   ĐĂNG KÝ kinh doanh ",
    "Pho\u0300ng \u0110a\u0306\u0300ng ky\u0301 kinh doanh",  # decomposed diacritics (NFD)
    "Phong Dang ky kinh doanh",  # no diacritics, unambiguous
])
def test_resolve_department_finds_the_canonical_spelling(typed):
    assert batch.resolve_department(typed, DEPARTMENTS) == "Phòng Đăng ký kinh doanh"


def test_resolve_department_refuses_an_ambiguous_or_unknown_name():
    with pytest.raises(batch.UnknownDepartmentError, match="Phòng Đấu thầu; Phòng Dấu thầu"):
        batch.resolve_department("Phong Dau thau", ["Phòng Đấu thầu", "Phòng Dấu thầu"])
    with pytest.raises(batch.UnknownDepartmentError, match="Không có phòng «Phòng X»"):
        batch.resolve_department("Phòng  X", DEPARTMENTS)


def test_known_departments_in_vietnamese_order(tmp_path):
    processed = _departments_dir(tmp_path, ["Phòng Kinh tế ngành", "Phòng Đấu thầu", "Phòng Dự án"])
    # D before Đ before K in the Vietnamese alphabet; each name once, no empty one.
    assert batch.known_departments(processed) == ["Phòng Dự án", "Phòng Đấu thầu", "Phòng Kinh tế ngành"]


def test_cli_unknown_department_exits_2_listing_the_departments(tmp_path, capsys, monkeypatch):
    from cchc_lib.cli import main

    processed = _departments_dir(tmp_path, DEPARTMENTS)
    rendered = []
    monkeypatch.setattr(batch, "run_batch", lambda *a, **k: rendered.append((a, k)) or batch.Batch([]))
    out = tmp_path / "r"
    code = main(["report", "--period", "2023-Q1", "--department", "Phòng Không Tồn Tại",
                 "--processed", str(processed), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Không có phòng «Phòng Không Tồn Tại»" in err
    assert "Phòng Đăng ký kinh doanh; Phòng Đấu thầu; Phòng Kinh tế ngành." in err
    assert rendered == [] and not out.exists()
    # A known department typed loosely reaches the renderer spelled as in the data.
    code = main(["report", "--period", "2023-Q1", "--department", "phòng  đấu THẦU",
                 "--processed", str(processed), "--out", str(out)])
    assert code == 0
    (args, _), = rendered
    assert args[3] == "Phòng Đấu thầu"


def _publish(out: Path, relative: str) -> Path:
    path = out / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<html></html>", encoding="utf-8")
    return path


def test_index_links_every_report_on_disk_of_every_year_newest_first(tmp_path):
    """Runs for 2026-10 then 2023-03: the index rewritten by the second run still links the
    first; years newest first, each with its plan report, then year / quarters / months.
    Department reports, failed notebooks and other folders are not period reports."""
    from cchc_lib.publish import monthly

    out = tmp_path / "reports"
    _publish(out, "2026-10/bao-cao-2026-10.html")
    _publish(out, "2026-Q3/bao-cao-2026-Q3.html")
    _publish(out, "2023/bao-cao-2023.html")
    _publish(out, "2023-Q1/bao-cao-2023-Q1-phong-dau-thau.html")  # a department's: not listed
    _publish(out, "ke-hoach-2023/bao-cao-ke-hoach-2023.html")
    _publish(out, "logs/bao-cao-logs.html")
    fresh = runner.ReportResult("2023-03", _publish(out, "2023-03/bao-cao-2023-03.html"), size=1)
    failed = runner.ReportResult("2023-Q1", error="Báo cáo 2023-Q1: lỗi")
    index = monthly.update_index(out, 2023, None, [fresh, failed])
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    headings = [h.get_text() for h in soup.find_all(["h2", "h3"])]
    assert headings == ["Năm 2026", "Báo cáo quý", "Báo cáo tháng",
                        "Năm 2023", "Kế hoạch CCHC năm 2023", "Báo cáo năm", "Báo cáo quý",
                        "Báo cáo tháng"]
    assert [a["href"] for a in soup.find_all("a")] == [
        "2026-Q3/bao-cao-2026-Q3.html", "2026-10/bao-cao-2026-10.html",
        "ke-hoach-2023/bao-cao-ke-hoach-2023.html", "2023/bao-cao-2023.html",
        "2023-03/bao-cao-2023-03.html",
    ]
    assert "Quý I/2023 Lỗi" in " ".join(soup.get_text(" ").split())
    assert "các năm 2023–2026" in soup.find("h1").get_text()
    # `cchc report --year` goes through the same writer: a later batch for 2023 keeps 2026.
    index = site.write_index([runner.ReportResult("2023-Q1", out / "2023-Q1" / "x.html", size=1)],
                                out, 2023)
    links = [a["href"] for a in BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
             .find_all("a")]
    assert "2026-10/bao-cao-2026-10.html" in links and "2023-Q1/x.html" in links


def test_department_header_gives_the_units_own_dossiers():
    """Three dossiers in the data, two handled by Phòng A: the coverage line is the whole Sở's
    and says how many are the unit's."""
    from cchc_lib.processed import ProcessedData

    dossiers = pd.DataFrame({
        "department": pd.Series(["Phòng A", "Phòng B", "Phòng A"], dtype="string"),
        "received_at": pd.to_datetime(["2023-01-05", "2023-02-10", "2023-03-20"]).astype("datetime64[ns]"),
    })
    data = ProcessedData(dossiers, pd.DataFrame(), None, {"total": {"rows_rejected": 4}})
    period = Period.parse("2023-Q1")
    empty = pd.DataFrame()
    ctx = report.ReportContext(period, "Phòng A", data, empty, empty, empty, empty, empty,
                                report.chart_window(period), pd.Timestamp("2023-04-02 08:00"))
    text = report.header_markdown(ctx)
    assert ("**Dữ liệu:** 3 hồ sơ của toàn Sở, trong đó 2 hồ sơ do Phòng A xử lý, tiếp nhận từ "
            "05/01/2023 đến 20/03/2023; 4 dòng bị loại") in text
    ctx.department = None
    assert "**Dữ liệu:** 3 hồ sơ, tiếp nhận từ" in report.header_markdown(ctx)


def test_year_summary_counts_the_plan_report(tmp_path, monkeypatch, capsys):
    """A year batch whose plan report failed: one of two reports made, exit 1."""
    from cchc_lib.cli import main

    out = tmp_path / "r"
    month = runner.ReportResult("2023-03", _publish(out, "2023-03/bao-cao-2023-03.html"), size=1)
    failed_plan = runner.ReportResult("ke-hoach-2023", error="Báo cáo ke-hoach-2023: lỗi ở ô số 3")
    monkeypatch.setattr(periods, "periods_in_year", lambda year: [Period.parse(f"{year}-03")])
    monkeypatch.setattr(batch, "has_plan", lambda year: True)
    monkeypatch.setattr(batch, "run_batch", lambda *a, **k: batch.Batch([month], failed_plan))
    processed = _departments_dir(tmp_path, DEPARTMENTS)  # processed data is there (run_batch faked)
    code = main(["report", "--year", "2023", "--processed", str(processed), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Đã lập 1/2 báo cáo năm 2023" in captured.out
    assert "Báo cáo ke-hoach-2023: lỗi ở ô số 3" in captured.err
