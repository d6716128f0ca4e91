"""The explorer (cchc_lib.explorer*): its functions on a small hand-built data set with every
number worked out by hand, its callbacks driven from Python against `cchc indicators` (the CLI's
CSV) on the sample, its exports, and the notebook run top to bottom through papermill."""

from __future__ import annotations

import io
import math
from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from openpyxl import load_workbook

from cchc_lib import explorer as ex
from cchc_lib import explorer_view as view
from cchc_lib.cli import main
from cchc_lib.explorer_ui import Explorer
from cchc_lib.periods import Period
from tests.test_indicators import dossier, make_data, procedure

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
YEAR_2023 = {"start": Period.parse("2023-01"), "end": Period.parse("2023-12")}


# -- small data, by hand ------------------------------------------------------------------------

@pytest.fixture
def small():
    """January 2023: Phòng A receives 2 online dossiers (procedure 1.2), resolved in January.
    February 2023: Phòng A receives 4 (procedure 1.1: early, on the day, late, all in person;
    procedure 1.2: one online, still open past its due date at the end of February); Phòng B
    receives 2 online (procedure 1.1), resolved early.
    Online share: January 2/2 = 100%; February 3/6 = 50% (A 1/4 = 25%, B 2/2 = 100%)."""
    return make_data([
        dossier(1, "2023-02-01 08:00", "2023-02-10", "2023-02-05 08:00", department="Phòng A"),
        dossier(2, "2023-02-01 08:00", "2023-02-10", "2023-02-10 20:00", department="Phòng A"),
        dossier(3, "2023-02-02 08:00", "2023-02-10", "2023-02-11 08:00", department="Phòng A"),
        dossier(4, "2023-02-20 08:00", "2023-02-24", None, department="Phòng A", channel="online",
                procedure_code="1.2", procedure_name="Thủ tục B"),
        dossier(5, "2023-02-01 08:00", "2023-02-10", "2023-02-03 08:00", department="Phòng B",
                channel="online"),
        dossier(6, "2023-02-01 09:00", "2023-02-10", "2023-02-03 09:00", department="Phòng B",
                channel="online"),
        dossier(7, "2023-01-10 08:00", "2023-01-20", "2023-01-12 08:00", department="Phòng A",
                channel="online", procedure_code="1.2", procedure_name="Thủ tục B"),
        dossier(8, "2023-01-10 09:00", "2023-01-20", "2023-01-12 09:00", department="Phòng A",
                channel="online", procedure_code="1.2", procedure_name="Thủ tục B"),
    ], [procedure("1.1", 2023, online_payment=False), procedure("1.2", 2023, online_payment=False)])


def _values(frame: pd.DataFrame, key: str = "group") -> dict:
    return dict(zip(frame[key], frame["value"], strict=True))


def test_trend_and_worst_month_by_hand(small):
    engine = ex.Engine(small)
    sel = ex.Selection(start=Period.parse("2023-01"), end=Period.parse("2023-03"))
    trend = ex.trend(engine, sel)
    assert list(trend["period"]) == ["2023-01", "2023-02", "2023-03"]
    assert trend["value"].iloc[0] == 1.0 and trend["value"].iloc[1] == 0.5
    assert math.isnan(trend["value"].iloc[2])  # nothing received in March: no value, not 0
    assert ex.worst_period(trend, "online_share") == Period.parse("2023-02")
    # Lower is better for the late rate: the worst month is the one with the highest value.
    late = ex.trend(engine, replace(sel, indicators=("late_rate",)))
    assert ex.worst_period(late, "late_rate") == Period.parse("2023-02")  # 1/5 late vs 0/2


def test_breakdown_effect_by_hand(small):
    engine = ex.Engine(small)
    sel = ex.Selection(by="department", start=Period.parse("2023-01"), end=Period.parse("2023-02"))
    rows = ex.breakdown(engine, sel)  # the period looked at defaults to the range's last: February
    assert list(rows["group"]) == ["Phòng A", "Phòng B"]  # A pulled the share down: first
    # effect = den_g / den_all * (v_g - v_all): A 4/6 * (25% - 50%) = -1/6; B 2/6 * (100% - 50%)
    assert rows["effect"].tolist() == pytest.approx([-1 / 6, 1 / 6])
    assert rows["numerator"].tolist() == [1, 2] and rows["denominator"].tolist() == [4, 2]


def test_department_procedures_worst_first_by_hand(small):
    engine = ex.Engine(small)
    sel = ex.Selection(start=Period.parse("2023-02"), end=Period.parse("2023-02"), department="Phòng A")
    procs = ex.department_procedures(engine, sel)
    # Phòng A in February: 1.1 0/3 online, 1.2 1/1; the department's share 1/4 = 25%.
    # effects 3/4 * (0 - 25%) = -18,75 points; 1/4 * (100% - 25%) = +18,75 points.
    assert list(procs["group"]) == ["1.1", "1.2"]
    assert list(procs["procedure_name"]) == ["Thủ tục A", "Thủ tục B"]  # the dossiers' names win
    assert procs["effect"].tolist() == pytest.approx([-0.1875, 0.1875])
    assert ex.department_procedures(engine, replace(sel, department=None)).empty


def test_dossier_timeliness_by_hand_and_against_the_engine(small):
    engine = ex.Engine(small)
    sel = ex.Selection(start=Period.parse("2023-02"), end=Period.parse("2023-02"), department="Phòng A",
                       procedure="1.1")
    rows = ex.dossier_timeliness(small, sel)
    # late first (HS0003, 11/02 08:00 against 10/02 end of day: 8 h late), on the day, early.
    assert list(rows["dossier_id"]) == ["HS0003", "HS0002", "HS0001"]
    assert list(rows["timeliness"]) == ["late", "on_day", "early"]
    assert rows["days_over"].iloc[0] == pytest.approx(8 / 24, abs=1e-6)
    assert rows["days_over"].iloc[2] == pytest.approx(-(5 + 16 / 24), abs=1e-6)
    # The same classes as the engine's counts for the procedure in the department.
    counts = engine.frame([Period.parse("2023-02")], "procedure", sel)
    counts = counts[counts["group"] == "1.1"].set_index("indicator")
    assert counts.at["late_rate", "numerator"] == 1 and counts.at["early_rate", "numerator"] == 1
    assert counts.at["ontime_rate", "numerator"] == 2
    # Procedure 1.2 in February: the dossier received 20/02, due 24/02, open at the end: overdue.
    open_rows = ex.dossier_timeliness(small, replace(sel, procedure="1.2"))
    assert list(open_rows["timeliness"]) == ["pending_overdue"]
    overdue = engine.frame([Period.parse("2023-02")], "procedure", sel)
    overdue = overdue[(overdue["group"] == "1.2") & (overdue["indicator"] == "pending_overdue")]
    assert overdue["value"].tolist() == [1]
    assert ex.dossier_timeliness(small, replace(sel, procedure=None)).empty


def test_comparison_and_memo(small):
    engine = ex.Engine(small)
    sel = ex.Selection(start=Period.parse("2023-01"), end=Period.parse("2023-02"), compare="previous")
    rows = ex.comparison(engine, sel)
    assert rows[["period_a", "period_b", "value_a", "value_b"]].values.tolist() == [
        ["2023-02", "2023-01", 0.5, 1.0]]
    assert rows["change"].tolist() == [-0.5]
    calls = engine.calls
    ex.comparison(engine, replace(sel, indicators=("ontime_rate",)))  # another indicator: no recompute
    assert engine.calls == calls


# -- the panel on the sample, against the CLI ----------------------------------------------------

def cli_rows(capsys, sample_processed_dir, period: str, by: str) -> pd.DataFrame:
    code = main(["indicators", "--period", period, "--by", by, "--processed", str(sample_processed_dir),
                 "--format", "csv"])
    assert code == 0
    return pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"group": str})


@pytest.fixture
def panel(sample_processed, tmp_path):
    return Explorer(sample_processed, tmp_path / "explore",
                    ex.Selection(start=Period.parse("2023-01"), end=Period.parse("2023-12")))


def _trace(panel: Explorer, meta: str):
    return next(t for t in panel.figure.data if t.meta == meta)


def test_department_control_redraws_the_trend_with_cli_numbers(panel, capsys, sample_processed_dir):
    department = "Phòng Kinh tế ngành"
    before = list(_trace(panel, "online_share").y)
    panel.controls["department"].value = department
    after = list(_trace(panel, "online_share").y)
    assert after != before
    expected, expected_all = [], []
    for month in range(1, 13):
        cli = cli_rows(capsys, sample_processed_dir, f"2023-{month:02d}", "department")
        cli = cli[cli["indicator"] == "online_share"]
        expected.append(float(cli.loc[cli["group"] == department, "value"].iloc[0]))
        overall = cli_rows(capsys, sample_processed_dir, f"2023-{month:02d}", "overall")
        expected_all.append(float(overall.loc[overall["indicator"] == "online_share", "value"].iloc[0]))
    assert after == pytest.approx(expected, abs=1e-11)
    assert before == pytest.approx(expected_all, abs=1e-11)
    # The table under the chart: the department's numerators and denominators, month by month.
    table = panel.frames["main"]
    assert list(table["period_vi"]) == [f"Tháng {m}/2023" for m in range(1, 13)]
    assert table["value"].tolist() == pytest.approx(expected, abs=1e-11)


def test_breakdown_controls_match_the_cli(panel, capsys, sample_processed_dir):
    c = panel.controls
    c["group"].value = "Tiến độ giải quyết"
    c["indicators"].value = ("ontime_rate", "late_rate")
    c["granularity"].value = "quarter"
    c["by"].value = "field"
    c["period"].value = "2023-Q2"
    cli = cli_rows(capsys, sample_processed_dir, "2023-Q2", "field")
    cli = cli[cli["indicator"].isin(["ontime_rate", "late_rate"])]
    table = panel.frames["main"]
    merged = table.merge(cli, on=["group", "indicator"], suffixes=("", "_cli"))
    assert len(merged) == len(cli) == len(table)
    for column in ("numerator", "denominator", "value", "target"):
        assert merged[column].tolist() == pytest.approx(merged[f"{column}_cli"].tolist(), nan_ok=True)
    assert (merged["status"].fillna("") == merged["status_cli"].fillna("")).all()
    bars = _trace(panel, "ontime_rate")
    on_chart = dict(zip(bars.y, bars.x, strict=True))
    expected = cli[cli["indicator"] == "ontime_rate"].set_index("group")["value"]
    assert {g: on_chart[g] for g in expected.index} == pytest.approx(expected.to_dict())


def test_comparison_and_drill_down_match_the_cli(panel, capsys, sample_processed_dir):
    c = panel.controls
    c["granularity"].value = "quarter"
    c["period"].value = "2023-Q1"
    c["department"].value = "Phòng Đăng ký kinh doanh"
    compared = panel.frames["comparison"].iloc[0]
    assert (compared["period_a"], compared["period_b"]) == ("2023-Q1", "2022-Q1")
    for period, column in (("2023-Q1", "value_a"), ("2022-Q1", "value_b")):
        cli = cli_rows(capsys, sample_processed_dir, period, "department")
        row = cli[(cli["indicator"] == "online_share") & (cli["group"] == "Phòng Đăng ký kinh doanh")]
        assert compared[column] == pytest.approx(float(row["value"].iloc[0]), abs=1e-11)
    procedures = panel.frames["procedures"]
    codes = [o[1] for o in c["procedure"].options[1:]]
    assert codes == list(procedures["group"])  # the procedure list is the drill-down, worst first
    assert procedures["effect"].is_monotonic_increasing
    c["procedure"].value = codes[0]
    dossiers = panel.frames["dossiers"]
    assert len(dossiers) and set(dossiers["timeliness"]) <= set(ex.TIMELINESS_LABELS)
    assert "Hồ sơ của thủ tục" in panel.drill.value


def test_exports_excel_with_vietnamese_headers_and_formats(panel):
    panel.controls["by"].value = "department"
    panel.controls["period"].value = "2023-02"
    bars = _trace(panel, "online_share")  # bars written with their value and counts
    labels = dict(zip(bars.y, bars.text, strict=True))
    assert labels["Phòng Đăng ký kinh doanh"] == "56,3% (170/302)"  # cchc indicators: 170, 302
    assert labels["Phòng Doanh nghiệp, kinh tế tập thể và tư nhân"] == "0,0% (0/1)"
    path = panel.export("xlsx")
    assert path.parent == panel.export_dir
    assert path.name == "bang-ty-le-ho-so-nop-truc-tuyen-theo-phong-xu-ly-2023-02-toan-so.xlsx"
    book = load_workbook(path)
    sheet = book["Bảng"]
    headers = [c.value for c in sheet[1]]
    assert headers == ["Kỳ", "Phòng xử lý", "Chỉ tiêu", "Tử số", "Mẫu số", "Kết quả",
                       "Chỉ tiêu kế hoạch", "Đánh giá", "Ảnh hưởng đến kết quả chung"]
    table = panel.frames["main"]
    first = [c for c in sheet[2]]
    assert first[0].value == "Tháng 2/2023" and first[1].value == table["group"].iloc[0]
    assert first[5].value == pytest.approx(table["value"].iloc[0]) and first[5].number_format == "0.0%"
    # online_share has no target of its own: the plan's 70% is read on resolved dossiers.
    assert first[3].number_format == "#,##0" and first[6].value is None
    assert first[8].value == pytest.approx(table["effect"].iloc[0] * 100)  # in percentage points
    assert "điểm %" in first[8].number_format
    about = dict(book["Lựa chọn"].iter_rows(values_only=True))
    assert about["Kỳ phân tích"] == "Tháng 2/2023" and about["Chia theo"] == "Phòng xử lý"


def test_exports_chart_html_offline_and_png(panel):
    html_path = panel.export("html")
    assert html_path.name.endswith("-toan-so.html") and html_path.parent == panel.export_dir
    text = html_path.read_text(encoding="utf-8")
    assert "<script src=" not in text and len(text) > 3_000_000  # plotly.js embedded
    from tests.browser import find_chromium, open_page

    if find_chromium() is None:
        pytest.skip("no Chrome/Chromium: cannot open the HTML nor draw a PNG")
    page = open_page(html_path)  # network cut: drawn from the file alone
    assert (page.charts, page.drawn) == (1, 1)
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert page.console_errors == []
    png = panel.export("png")
    assert png is not None, panel.status.value
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_walkthrough_matches_the_cli(sample_processed, capsys, sample_processed_dir):
    """The README's question: which department pulled the online share down in the worst month
    of 2023, and which of its procedures did it."""
    engine = ex.Engine(sample_processed)
    year = ex.Selection(indicators=("online_share",), **YEAR_2023)
    worst = ex.worst_period(ex.trend(engine, year), "online_share")
    departments = ex.breakdown(engine, replace(year, by="department", period=worst))
    department = departments["group"].iloc[0]
    procedures = ex.department_procedures(engine, replace(year, period=worst, department=department))
    # The CLI: the months of 2023, then that month by department and the department's share.
    months = {}
    for month in range(1, 13):
        cli = cli_rows(capsys, sample_processed_dir, f"2023-{month:02d}", "overall")
        months[f"2023-{month:02d}"] = float(cli.loc[cli["indicator"] == "online_share", "value"].iloc[0])
    assert worst.code == min(months, key=months.get)
    cli = cli_rows(capsys, sample_processed_dir, worst.code, "department")
    cli = cli[cli["indicator"] == "online_share"].set_index("group")
    total_den = cli["denominator"].sum()
    effect = {g: r.denominator / total_den * (r.value - months[worst.code]) for g, r in cli.iterrows()}
    assert department == min(effect, key=effect.get)
    assert departments["effect"].iloc[0] == pytest.approx(effect[department])
    # Its procedures: by hand from the dossiers of the month (received, online) in the department.
    d = sample_processed.dossiers
    in_month = (d["received_at"] >= worst.start) & (d["received_at"] < worst.end)
    d = d[(d["department"] == department) & in_month]
    per = d.groupby(d["procedure_code"].astype(str))["channel"].agg(
        received="size", online=lambda s: int((s == "online").sum()))
    share = per["online"].sum() / per["received"].sum()
    assert share == pytest.approx(float(cli.loc[department, "value"]))
    by_hand = (per["received"] / per["received"].sum() * (per["online"] / per["received"] - share))
    assert procedures["group"].iloc[0] == by_hand.idxmin()
    assert procedures.set_index("group")["effect"].to_dict() == pytest.approx(by_hand.to_dict())


def test_export_stem_says_what_it_holds():
    sel = ex.Selection(indicators=("ontime_rate",), granularity="quarter", **YEAR_2023,
                       department="Phòng Đăng ký kinh doanh")
    assert view.export_stem(sel, "bieu-do") == (
        "bieu-do-ty-le-ho-so-giai-quyet-dung-han-theo-quy-2023-Q1-den-2023-Q4-phong-dang-ky-kinh-doanh")


def test_explore_without_processed_data_says_what_to_run(tmp_path, monkeypatch):
    from cchc_lib.explorer_ui import explore

    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    assert explore(tmp_path / "nothing", tmp_path / "explore") is None
    assert len(shown) == 1
    assert "Chưa có dữ liệu đã xử lý" in shown[0].data and "cchc ingest" in shown[0].data


# -- the notebook ------------------------------------------------------------------------------

def test_explore_notebook_runs_on_the_sample(sample_processed_dir, tmp_path):
    import papermill as pm

    from cchc_lib.publish.runner import resolve_kernel

    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(
        str(NOTEBOOKS / "explore.ipynb"), str(out),
        parameters={"processed_dir": str(sample_processed_dir), "export_dir": str(tmp_path / "explore")},
        kernel_name=resolve_kernel(), cwd=str(NOTEBOOKS), progress_bar=False,
        execution_timeout=600, request_save_on_cell_execute=False, shutdown_kernel="immediate",
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # the panel
    source = nbformat.read(NOTEBOOKS / "explore.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code")  # committed clean
