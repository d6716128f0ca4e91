"""The explorer (cchc_lib.explorer.engine*): its functions on a small hand-built data set with every
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

from cchc_lib.cli import main
from cchc_lib.explorer import engine as ex
from cchc_lib.explorer import view
from cchc_lib.explorer.ui import Explorer
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

def cli_rows(capsys, sample_processed_dir, period: str, by: str, *flags: str) -> pd.DataFrame:
    code = main(["indicators", "--period", period, "--by", by, "--processed", str(sample_processed_dir),
                 "--format", "csv", *flags])
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
    from cchc_lib.explorer.ui import explore

    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    assert explore(tmp_path / "nothing", tmp_path / "explore") is None
    assert len(shown) == 1
    assert "Chưa có dữ liệu đã xử lý" in shown[0].data and "cchc ingest" in shown[0].data


# -- the data window and the counting conventions -------------------------------------------------

def test_nd09_window_by_hand_and_switching_back_is_free(small):
    """Under NĐ 09 a month runs from the 15th before to the 14th: January's window (15/12-14/01)
    holds dossiers 7 and 8 (2/2 online), February's (15/01-14/02) dossiers 1, 2, 3, 5, 6 (2/5
    online: the two of Phòng B), March's (15/02-14/03) dossier 4, received 20/02 (1/1)."""
    engine = ex.Engine(small)
    assert engine.grids_built == 1
    sel = ex.Selection(start=Period.parse("2023-01"), end=Period.parse("2023-03"))
    nd09 = replace(sel, conventions=ex.choose_conventions(sel.conventions, window="nd09"))
    assert nd09.conventions.window == nd09.conventions.official_window == "nd09"  # as --window nd09
    assert ex.trend(engine, nd09)["value"].tolist() == [1.0, 0.4, 1.0]
    assert engine.grids_built == 2
    assert nd09.label(Period.parse("2023-02")) == "Tháng 2/2023 (số liệu từ 15/01/2023 đến 14/02/2023)"
    assert sel.label(Period.parse("2023-02")) == "Tháng 2/2023"
    assert ex.describe(nd09).endswith("(số liệu từ 15/12/2022 đến 14/03/2023)")
    # Back to calendar months and to NĐ 09 again: no grid built, no engine run.
    calls = engine.calls
    back = ex.choose_conventions(sel.conventions, window="calendar")  # from the file's, as the panel does
    assert back == sel.conventions
    calendar = ex.trend(engine, replace(nd09, conventions=back))
    assert calendar["value"].tolist()[:2] == [1.0, 0.5]
    assert ex.trend(engine, nd09)["value"].tolist() == [1.0, 0.4, 1.0]
    assert (engine.grids_built, engine.calls) == (2, calls + 1)  # one run: the calendar view, new
    # The last month with data under each window: 20/02 is in March's NĐ 09 window.
    assert ex.data_months(small, "calendar")[1] == Period.parse("2023-02")
    assert ex.data_months(small, "nd09")[1] == Period.parse("2023-03")


@pytest.fixture
def conventions_case():
    """March 2023, procedure 1.1 of Phòng A, in person:
    HS0001 due 10/03 12:00, resolved 10/03 15:00: late by the instant, on the day by the date;
    HS0002 due 10/03 12:00, resolved 09/03 20:00: early either way (1 day by the date);
    HS0003 withdrawn 08/03 10:00, due 05/03: late by its dates, on the day when withdrawn counts
      on time, left out when withdrawn dossiers are excluded;
    HS0004 awaiting the citizen's papers, due 05/03: open within time at the end (clock stopped);
    HS0005 a registration never received: counted nowhere."""
    return make_data([
        dossier(1, "2023-03-01 08:00", "2023-03-10 12:00", "2023-03-10 15:00"),
        dossier(2, "2023-03-01 08:00", "2023-03-10 12:00", "2023-03-09 20:00"),
        dossier(3, "2023-03-01 09:00", "2023-03-05", "2023-03-08 10:00", status="withdrawn"),
        dossier(4, "2023-03-01 10:00", "2023-03-05", None, status="awaiting_supplement"),
        dossier(5, "2023-03-02 08:00", "2023-03-06", None, status="not_received"),
    ])


@pytest.mark.parametrize(("timeliness", "withdrawn", "classes", "days"), [
    ("instant", "by_dates", {"HS0001": "late", "HS0002": "early", "HS0003": "late", "HS0004": "pending"},
     {"HS0001": 3 / 24, "HS0003": 2 + 10 / 24}),  # due 05/03 means to the end of that day
    ("day", "by_dates", {"HS0001": "on_day", "HS0002": "early", "HS0003": "late", "HS0004": "pending"},
     {"HS0001": 0.0, "HS0002": -1.0, "HS0003": 3.0}),
    ("day", "on_time", {"HS0001": "on_day", "HS0002": "early", "HS0003": "on_day", "HS0004": "pending"},
     {"HS0001": 0.0, "HS0003": 0.0}),
    ("instant", "excluded", {"HS0001": "late", "HS0002": "early", "HS0004": "pending"}, {}),
])
def test_conventions_by_hand_in_the_views_and_the_drill_down(conventions_case, timeliness, withdrawn,
                                                             classes, days):
    engine = ex.Engine(conventions_case)
    base = ex.Selection(indicators=("late_rate", "ontime_rate", "early_rate", "pending_overdue"),
                        start=Period.parse("2023-03"), end=Period.parse("2023-03"),
                        department="Phòng A", procedure="1.1")
    sel = replace(base, conventions=ex.choose_conventions(base.conventions, timeliness=timeliness,
                                                          withdrawn=withdrawn))
    rows = ex.dossier_timeliness(engine.data_for(sel.conventions), sel)
    assert dict(zip(rows["dossier_id"], rows["timeliness"], strict=True)) == classes
    # The panel's path (the procedure's dossiers kept by the engine): the same rows, twice.
    for _ in range(2):
        pd.testing.assert_frame_equal(engine.dossier_timeliness(sel), rows)
    got_days = dict(zip(rows["dossier_id"], rows["days_over"], strict=True))
    assert {k: got_days[k] for k in days} == pytest.approx(days, abs=1e-6)
    # The engine's numbers under the same conventions: the same classes, counted.
    values = ex.trend(engine, sel).set_index("indicator")
    resolved = [c for c in classes.values() if c in ("early", "on_day", "late")]
    late = resolved.count("late")
    assert values.at["late_rate", "numerator"] == late
    assert values.at["late_rate", "denominator"] == len(resolved)
    assert values.at["early_rate", "numerator"] == resolved.count("early")
    assert values.at["ontime_rate", "numerator"] == len(resolved) - late
    assert values.at["pending_overdue", "value"] == 0  # the stopped clock is never overdue


def test_conventions_controls_match_the_cli(panel, capsys, sample_processed_dir, tmp_path):
    """The window and timeliness controls give what `cchc indicators --window nd09` and
    `--conventions FILE` print for the same choice; switching back builds nothing again."""
    c = panel.controls
    assert (c["window"].value, c["timeliness"].value, c["withdrawn"].value) == (
        "calendar", "instant", "by_dates")  # the packaged conventions.yaml
    c["group"].value = "Tiến độ giải quyết"
    c["indicators"].value = ("ontime_rate", "late_rate")
    c["granularity"].value = "quarter"
    calendar = panel.frames["main"][["period", "indicator", "numerator", "denominator", "value"]].copy()
    built = panel.engine.grids_built

    def check(*flags: str) -> None:
        table = panel.frames["main"]
        assert list(table["period"].unique()) == [f"2023-Q{q}" for q in range(1, 5)]
        for q in range(1, 5):
            cli = cli_rows(capsys, sample_processed_dir, f"2023-Q{q}", "overall", *flags)
            cli = cli[cli["indicator"].isin(["ontime_rate", "late_rate"])].set_index("indicator")
            mine = table[table["period"] == f"2023-Q{q}"].set_index("indicator")
            for column in ("numerator", "denominator", "value"):
                assert mine[column].to_dict() == pytest.approx(cli[column].to_dict(), abs=1e-11)
        line = _trace(panel, "ontime_rate")
        assert list(line.y) == pytest.approx(table[table["indicator"] == "ontime_rate"]["value"].tolist())

    c["window"].value = "nd09"
    check("--window", "nd09")
    assert panel.engine.grids_built == built + 1
    table = panel.frames["main"]
    assert table["period_vi"].iloc[0] == "Quý I/2023 (số liệu từ 15/12/2022 đến 14/03/2023)"
    assert [o[0] for o in c["period"].options][-1] == "Quý IV/2023 (số liệu từ 15/09/2023 đến 14/12/2023)"
    assert "số liệu từ 15/12/2022 đến 14/12/2023" in panel.span.value
    counts = ["numerator", "denominator"]  # the window changes the numbers on the sample
    assert (table[counts].to_numpy() != calendar[counts].to_numpy()).any()

    c["window"].value = "calendar"
    c["timeliness"].value = "day"
    path = tmp_path / "theo-ngay.yaml"
    path.write_text("timeliness: day\n", encoding="utf-8")
    check("--conventions", str(path))
    assert panel.engine.grids_built == built + 2
    # Back to the file's conventions: the first grid and the memo answer, nothing recomputed.
    calls = panel.engine.calls
    c["timeliness"].value = "instant"
    assert panel.frames["main"][["numerator", "denominator", "value"]].to_numpy().tolist() == \
        calendar[["numerator", "denominator", "value"]].to_numpy().tolist()
    assert (panel.engine.grids_built, panel.engine.calls) == (built + 2, calls)


def test_drill_down_under_nd09_and_day_counts_as_the_cli(panel, capsys, sample_processed_dir, tmp_path):
    c = panel.controls
    c["window"].value = "nd09"
    c["timeliness"].value = "day"
    c["group"].value = "Tiến độ giải quyết"
    c["granularity"].value = "quarter"
    c["period"].value = "2023-Q2"
    c["department"].value = "Phòng Đăng ký kinh doanh"
    # A procedure only this department handles: the CLI's by-procedure row is then its own.
    d = panel.engine.data.dossiers
    departments = d.groupby(d["procedure_code"].astype(str))["department"].nunique()
    procedure = next(code for _, code in c["procedure"].options[1:] if departments[code] == 1)
    c["procedure"].value = procedure
    path = tmp_path / "nd09-theo-ngay.yaml"
    path.write_text("timeliness: day\nwindow: nd09\n", encoding="utf-8")
    cli = cli_rows(capsys, sample_processed_dir, "2023-Q2", "procedure", "--conventions", str(path))
    assert set(cli["window"]) == {"nd09"}
    dossiers = panel.frames["dossiers"]
    classes = dossiers["timeliness"].value_counts().to_dict()
    row = cli[cli["group"] == procedure].set_index("indicator")
    assert classes.get("late", 0) == row.at["late_rate", "numerator"]
    assert classes.get("early", 0) == row.at["early_rate", "numerator"]
    assert classes.get("late", 0) + classes.get("early", 0) + classes.get("on_day", 0) == \
        row.at["late_rate", "denominator"] > 0
    assert classes.get("pending_overdue", 0) == row.at["pending_overdue", "value"]
    # And the engine's own numbers for that procedure in the department, always.
    engine_rows = panel.engine.frame([Period.parse("2023-Q2")], "procedure", panel.selection())
    mine = engine_rows[engine_rows["group"] == procedure].set_index("indicator")
    assert classes.get("late", 0) == mine.at["late_rate", "numerator"]
    assert classes.get("pending_overdue", 0) == mine.at["pending_overdue", "value"]
    # The dossiers' dates lie in the NĐ 09 window of Quý II/2023 (15/03-14/06) or before.
    resolved = dossiers[dossiers["timeliness"].isin(["early", "on_day", "late"])]
    assert (resolved["completed_at"] >= pd.Timestamp("2023-03-15")).all()
    assert (resolved["completed_at"] < pd.Timestamp("2023-06-15")).all()


def test_export_says_the_window_and_conventions(panel):
    c = panel.controls
    c["by"].value = "department"
    c["period"].value = "2023-02"
    c["window"].value = "nd09"
    c["withdrawn"].value = "excluded"
    path = panel.export("xlsx")
    assert path.name == ("bang-ty-le-ho-so-nop-truc-tuyen-theo-phong-xu-ly-2023-02-toan-so"
                         "-ky-nd09-khong-tinh-ho-so-rut.xlsx")
    book = load_workbook(path)
    about = dict(book["Lựa chọn"].iter_rows(values_only=True))
    assert about["Kỳ phân tích"] == "Tháng 2/2023 (số liệu từ 15/01/2023 đến 14/02/2023)"
    assert about["Kỳ số liệu"].startswith("Theo NĐ 09/2019")
    assert about["Đúng hạn xét theo"] == "Thời điểm" and about["Hồ sơ công dân rút"] == "Không tính"
    assert book["Bảng"]["A2"].value == "Tháng 2/2023 (số liệu từ 15/01/2023 đến 14/02/2023)"
    html = panel.export("html")
    assert html.name.endswith("-toan-so-ky-nd09-khong-tinh-ho-so-rut.html")


def test_explore_starts_at_the_conventions_file(sample_processed_dir, tmp_path, monkeypatch):
    from cchc_lib.explorer.ui import explore

    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    path = tmp_path / "quy-uoc.yaml"
    path.write_text("window: nd09\nwithdrawn: on_time\n", encoding="utf-8")
    ui = explore(sample_processed_dir, tmp_path / "explore", path)
    assert (ui.controls["window"].value, ui.controls["withdrawn"].value) == ("nd09", "on_time")
    assert ui.engine.grids_built == 1 and ui.selection().conventions == ui.data.conventions
    path.write_text("window: quarterly\n", encoding="utf-8")
    assert explore(sample_processed_dir, tmp_path / "explore", path) is None
    assert "window: quarterly" in shown[-1].data


# -- the notebook ------------------------------------------------------------------------------

def test_explore_notebook_runs_on_the_sample(sample_processed_dir, tmp_path):
    import papermill as pm

    from cchc_lib.publish.runner import resolve_kernel

    out = tmp_path / "explore.ipynb"
    conventions = tmp_path / "quy-uoc.yaml"  # the panel starts at another agency's conventions
    conventions.write_text("window: nd09\ntimeliness: day\n", encoding="utf-8")
    pm.execute_notebook(
        str(NOTEBOOKS / "explore.ipynb"), str(out),
        parameters={"processed_dir": str(sample_processed_dir), "export_dir": str(tmp_path / "explore"),
                    "conventions_file": str(conventions)},
        kernel_name=resolve_kernel(), cwd=str(NOTEBOOKS), progress_bar=False,
        execution_timeout=600, request_save_on_cell_execute=False, shutdown_kernel="immediate",
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # the panel (a bad conventions file would show a message instead)
    source = nbformat.read(NOTEBOOKS / "explore.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code")  # committed clean


def test_remembered_formatting_is_the_formatting():
    """The tables' formatting is remembered between clicks: the same text as formatting anew, for
    ints and floats of the same value, missing values and NaN alike."""
    from cchc_lib.formatting import fmt_datetime, fmt_number, format_change, format_value

    cases = [(fmt_number, (1234.5, 1)), (fmt_number, (None, 0)), (fmt_number, (3.0, 0)),
             (format_value, (0.953, "rate", "online_share")), (format_value, (1, "count", "x")),
             (format_value, (1.5, "count", "x")), (format_value, (float("nan"), "rate", "x")),
             (format_value, (pd.NA, "rate", "x")), (format_change, (-0.024, "rate", "online_share")),
             (format_change, (2.0, "days", "processing_days")),
             (fmt_datetime, (pd.Timestamp("2023-03-31 08:05"),))]
    for fn, args in cases:
        assert view._format(fn, *args) == fn(*args) == view._format(fn, *args)
    assert view._format(fmt_number, 1234.5, 1) == "1.234,5"
    assert view._format(format_value, 0.953, "rate", "online_share") == "95,3%"
    assert view._format(format_value, float("nan"), "rate", "x") == "—"
