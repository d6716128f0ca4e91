"""Conventions as data (conventions.md §3) and the legal data window (§4): the file, the flags,
the windows of periods, and the ``window`` column / period line of every output."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from cchc_lib.cli import main
from cchc_lib.conventions import (
    DEFAULT,
    Conventions,
    ConventionsError,
    conventions_line_vi,
    conventions_sentences_vi,
    load_conventions,
)
from cchc_lib.conventions import as_parameter as conventions_as_parameter
from cchc_lib.form06 import form06_table, format_form06, period_line
from cchc_lib.indicators import compute_indicators
from cchc_lib.periods import Period
from tests.test_indicators import dossier, make_data, row

P = Period.parse


# -- the file ----------------------------------------------------------------------------------


def test_packaged_defaults():
    c = load_conventions()
    assert c.as_dict() == {"timeliness": "instant", "withdrawn": "by_dates", "window": "calendar",
                           "official_window": "nd09"}
    assert c == DEFAULT and c.source is None


def test_partial_file_keeps_other_defaults(tmp_path):
    f = tmp_path / "quy-uoc.yaml"
    f.write_text("timeliness: day\n", encoding="utf-8")
    c = load_conventions(f)
    assert (c.timeliness, c.withdrawn, c.window, c.official_window) == ("day", "by_dates", "calendar", "nd09")
    assert c.source == str(f)
    # --window sets both windows for the run
    c = load_conventions(f, "calendar")
    assert (c.timeliness, c.window, c.official_window) == ("day", "calendar", "calendar")


@pytest.mark.parametrize("text, needle", [
    ("timelines: day\n", "khóa 'timelines' không có"),
    ("withdrawn: ignored\n", "'withdrawn: ignored' không hợp lệ"),
    ("window: [calendar\n", "không đúng cú pháp YAML"),
    ("- day\n", "khóa: giá trị"),
])
def test_bad_file_is_one_line(tmp_path, text, needle):
    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConventionsError) as info:
        load_conventions(f)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConventionsError, match="không đọc được tệp quy ước"):
        load_conventions(tmp_path / "none.yaml")


# -- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code, start, end", [
    ("2023-03", "2023-02-15", "2023-03-15"),
    ("2023-01", "2022-12-15", "2023-01-15"),
    ("2023-Q1", "2022-12-15", "2023-03-15"),
    ("2023-Q2", "2023-03-15", "2023-06-15"),
    ("2023-Q4", "2023-09-15", "2023-12-15"),
    ("2023", "2022-12-15", "2023-12-15"),
])
def test_nd09_windows(code, start, end):
    p = P(code).with_window("nd09")
    assert (p.start, p.end) == (pd.Timestamp(start), pd.Timestamp(end))
    assert p.code == code  # the code does not depend on the window
    assert p.last_day == pd.Timestamp(end) - pd.Timedelta(days=1)


def test_window_labels_and_neighbours():
    q1 = P("2023-Q1").with_window("nd09")
    assert q1.label_window_vi == "Quý I/2023 (số liệu từ 15/12/2022 đến 14/03/2023)"
    assert P("2023-Q1").label_window_vi == "Quý I/2023"
    assert q1.previous().window == "nd09" and q1.previous().start == pd.Timestamp("2022-09-15")
    assert [m.start for m in q1.months()] == [pd.Timestamp(d) for d in ("2022-12-15", "2023-01-15",
                                                                          "2023-02-15")]
    with pytest.raises(ValueError):
        P("2023-Q1").with_window("fiscal")


@pytest.fixture
def boundary_data():
    return make_data([
        # received 14/03 23:59 -> nd09 March (15/02-14/03); calendar March
        dossier(1, "2023-03-14 23:59", "2023-03-20", "2023-03-16 08:00"),
        # received 15/03 00:00 -> nd09 April; calendar March
        dossier(2, "2023-03-15 00:00", "2023-03-20", "2023-03-17 08:00", channel="online"),
        # received 15/02 00:00 -> nd09 March; calendar February
        dossier(3, "2023-02-15 00:00", "2023-02-20", "2023-02-16 08:00"),
        # received 14/02 12:00 -> nd09 February; calendar February; still open at every end
        dossier(4, "2023-02-14 12:00", "2023-02-20"),
    ])


def test_periods_at_the_14th_15th_boundary(boundary_data):
    # calendar: Feb received 3, 4; March received 1, 2
    cal = {m: compute_indicators(boundary_data, P(m)) for m in ("2023-02", "2023-03")}
    assert row(cal["2023-02"], "online_share").denominator == 2
    assert row(cal["2023-03"], "online_share").denominator == 2
    nd = type(boundary_data)(boundary_data.dossiers, boundary_data.procedures, None, {},
                             Conventions(window="nd09"))
    win = {m: compute_indicators(nd, P(m)) for m in ("2023-02", "2023-03", "2023-04")}
    # nd09 Feb = [15/01, 15/02): dossier 4 only; March = [15/02, 15/03): 1, 3; April: 2
    assert [row(win[m], "online_share").denominator for m in ("2023-02", "2023-03", "2023-04")] == [1, 2, 1]
    assert row(win["2023-04"], "online_share").numerator == 1
    # completions: 3 on 16/02 (nd09 March), 1 on 16/03 and 2 on 17/03 (nd09 April)
    assert [row(win[m], "ontime_rate").denominator for m in ("2023-02", "2023-03", "2023-04")] == [0, 1, 2]
    # backlog at the end of nd09 March (15/03 00:00): 1 (received 14/03, done 16/03) and 4
    assert row(win["2023-03"], "pending").value == 2
    assert row(win["2023-03"], "pending_overdue").value == 1  # 4 (due 20/02); 1 is due 20/03
    assert row(win["2023-03"], "carried_over").value == 1  # 4, open at 15/02 00:00


def test_form06_official_window_default_nd09(boundary_data):
    # Q1 under nd09 = [15/12/2022, 15/03/2023): received 1, 3, 4 (2 is received 15/03: Q2)
    t = form06_table(boundary_data, P("2023-Q1")).set_index("field")
    total = t.loc["Tổng cộng"]
    assert (total["received_total"], total["resolved_total"], total["pending_total"]) == (3, 1, 2)
    # calendar Q1: all four received; 1, 2, 3 resolved; 4 pending (overdue)
    t = form06_table(boundary_data, P("2023-Q1"), window="calendar").set_index("field")
    total = t.loc["Tổng cộng"]
    assert (total["received_total"], total["resolved_total"], total["pending_total"],
            total["pending_overdue"]) == (4, 3, 1, 1)
    text = format_form06(form06_table(boundary_data, P("2023-Q1")), P("2023-Q1"))
    assert ("Kỳ báo cáo: Quý I/2023 (số liệu từ ngày 15/12/2022 đến ngày 14/03/2023, theo Nghị định "
            "số 09/2019/NĐ-CP)") in text
    assert period_line(P("2023-Q1"), "calendar") == (
        "Kỳ báo cáo: Quý I/2023 (từ ngày 01/01/2023 đến ngày 31/03/2023)")


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def processed_dir(tmp_path, boundary_data):
    out = tmp_path / "processed"
    out.mkdir()
    boundary_data.dossiers.to_parquet(out / "dossiers.parquet")
    boundary_data.procedures.to_parquet(out / "procedures.parquet")
    return out


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_window_column_and_flags(capsys, processed_dir, tmp_path):
    base = ("indicators", "--period", "2023-03", "--processed", str(processed_dir), "--format")
    code, out, _ = run(capsys, *base, "csv")
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(df.columns)[-1] == "window" and set(df["window"]) == {"calendar"}
    assert df.set_index("indicator").loc["online_share", "denominator"] == 2
    code, out, _ = run(capsys, *base, "json", "--window", "nd09")
    records = json.loads(out)
    assert {r["window"] for r in records} == {"nd09"}
    assert {r["indicator"]: r for r in records}["online_share"]["denominator"] == 2  # 1 and 3
    f = tmp_path / "c.yaml"
    f.write_text("window: nd09\n", encoding="utf-8")
    code, out, _ = run(capsys, *base, "csv", "--conventions", str(f))
    assert set(pd.read_csv(io.StringIO(out))["window"]) == {"nd09"}
    code, out, _ = run(capsys, "index766", "--period", "2023-03", "--processed", str(processed_dir),
                       "--format", "csv", "--window", "nd09")
    assert code == 0 and set(pd.read_csv(io.StringIO(out))["window"]) == {"nd09"}


def test_cli_form06_window(capsys, processed_dir):
    code, out, _ = run(capsys, "form06", "--period", "2023-Q1", "--processed", str(processed_dir))
    assert code == 0 and "số liệu từ ngày 15/12/2022 đến ngày 14/03/2023" in out
    code, out, _ = run(capsys, "form06", "--period", "2023-Q1", "--processed", str(processed_dir),
                       "--window", "calendar")
    assert code == 0 and "từ ngày 01/01/2023 đến ngày 31/03/2023" in out


@pytest.mark.parametrize("command", ["indicators", "form06", "index766", "report"])
def test_cli_bad_conventions_exit_2(capsys, processed_dir, tmp_path, command):
    f = tmp_path / "c.yaml"
    f.write_text("timeliness: hour\n", encoding="utf-8")
    code, out, err = run(capsys, command, "--period", "2023-03", "--processed", str(processed_dir),
                         "--conventions", str(f))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "'timeliness: hour' không hợp lệ" in err


def test_cli_bad_window_value(capsys, processed_dir):
    with pytest.raises(SystemExit) as info:
        main(["indicators", "--period", "2023-03", "--processed", str(processed_dir), "--window", "fiscal"])
    assert info.value.code == 2


# -- in words ----------------------------------------------------------------------------------


def test_sentences_say_every_convention():
    text = " ".join(conventions_sentences_vi(Conventions(timeliness="day", withdrawn="excluded",
                                                         window="nd09"), P("2023-Q1")))
    assert "xét theo ngày" in text
    assert "Hồ sơ công dân rút không được tính" in text
    assert "Nghị định số 09/2019/NĐ-CP" in text
    assert "Quý I/2023: từ 15/12/2022 đến 14/03/2023" in text
    assert "chưa được tiếp nhận" in text and "trong hạn" in text
    default = " ".join(conventions_sentences_vi(DEFAULT, P("2023-03")))
    assert "xét theo thời điểm" in default and "tháng dương lịch" in default
    assert "Tháng 3/2023: từ 01/03/2023 đến 31/03/2023" in default  # the analysis window
    assert "Tháng 3/2023: từ 15/02/2023 đến 14/03/2023" in default  # Biểu 06 (nd09)
    assert conventions_line_vi(DEFAULT).startswith("Quy ước tính: đúng hạn xét theo thời điểm")


# -- reports say which conventions produced them ---------------------------------------------------


def test_report_helpers_say_the_conventions(sample_processed_dir):
    from cchc_lib.publish import report

    conventions = Conventions(timeliness="day", window="nd09", official_window="nd09")
    ctx = report.prepare_report("2023-Q1", sample_processed_dir, None,
                                 conventions_as_parameter(conventions))
    header = report.header_markdown(ctx)
    assert "Quý I/2023 (số liệu từ 15/12/2022 – 14/03/2023)" in header
    assert "Quy ước tính: đúng hạn xét theo ngày" in header
    from cchc_lib.publish.methods import methods_markdown

    methods = methods_markdown(ctx.indicators, ctx.period, conventions=ctx.data.conventions)
    assert "xét theo ngày" in methods and "Quý I/2023: từ 15/12/2022 đến 14/03/2023" in methods
    assert ("**Kỳ báo cáo:** Quý I/2023 tính theo Nghị định số 09/2019/NĐ-CP, Điều 12: từ 00:00 ngày "
            "15/12/2022 đến hết ngày 14/03/2023") in methods
    form = report.form06_html(ctx.form06, ctx.period)
    assert "Kỳ báo cáo: Quý I/2023 (số liệu từ ngày 15/12/2022 đến ngày 14/03/2023" in form
    # the numbers are the engine's under the same conventions
    data = load_processed_with(sample_processed_dir, conventions)
    direct = compute_indicators(data, P("2023-Q1")).set_index("indicator")
    shown = ctx.indicators.set_index("indicator")
    assert shown.loc["ontime_rate", "numerator"] == direct.loc["ontime_rate", "numerator"]
    calendar = compute_indicators(load_processed_with(sample_processed_dir, DEFAULT), P("2023-Q1"))
    assert row(calendar, "online_share").denominator != shown.loc["online_share", "denominator"]


def load_processed_with(folder, conventions):
    from cchc_lib.processed import load_processed

    return load_processed(folder, conventions)


def test_default_report_says_its_conventions(rendered_reports):
    from bs4 import BeautifulSoup

    results, _ = rendered_reports
    text = BeautifulSoup(results["2023-Q1"].html.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    text = " ".join(text.split())
    assert "Quy ước tính: đúng hạn xét theo thời điểm" in text
    assert "Kỳ báo cáo: Quý I/2023 (số liệu từ ngày 15/12/2022 đến ngày 14/03/2023" in text  # Biểu 06
    assert "Phương pháp tính" in text and "Quy ước tính: Kỳ số liệu của các chỉ số" in text  # methods
    assert "Kỳ số liệu của các chỉ số, biểu đồ và bảng phân tích tính theo tháng dương lịch" in text


def test_report_command_with_window(capsys, sample_processed_dir, tmp_path):
    from bs4 import BeautifulSoup

    code = main(["report", "--period", "2023-03", "--processed", str(sample_processed_dir),
                 "--out", str(tmp_path), "--window", "nd09", "--jobs", "1"])
    assert code == 0, capsys.readouterr().err
    html = (tmp_path / "2023-03" / "bao-cao-2023-03.html").read_text(encoding="utf-8")
    text = " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
    assert "Tháng 3/2023 (số liệu từ 15/02/2023 – 14/03/2023)" in text
    assert "kỳ số liệu theo NĐ 09/2019" in text


def test_monthly_refuses_a_bad_conventions_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "c.yaml"
    f.write_text("window: weekly\n", encoding="utf-8")
    code, _, err = run(capsys, "monthly", "--conventions", str(f), "--out", str(tmp_path / "r"))
    assert code == 2 and "'window: weekly' không hợp lệ" in err


def test_monthly_passes_the_conventions_to_the_reports_and_the_index(capsys, tmp_path, monkeypatch):
    from cchc_lib.publish import monthly

    monkeypatch.chdir(tmp_path)
    seen = {}
    monkeypatch.setattr(monthly, "ingest", lambda raw, processed: None)

    def render(periods, processed, out, conventions=None):
        seen["render"] = conventions
        return []

    def index(out, year, processed, results, conventions=None):
        seen["index"] = conventions

    monkeypatch.setattr(monthly, "render", render)
    monkeypatch.setattr(monthly, "update_index", index)
    f = tmp_path / "c.yaml"
    f.write_text("timeliness: day\n", encoding="utf-8")
    run(capsys, "monthly", "--month", "2023-03", "--raw", str(tmp_path), "--out", str(tmp_path / "r"),
        "--conventions", str(f), "--window", "nd09")
    expected = Conventions(timeliness="day", window="nd09", official_window="nd09", source=str(f))
    assert seen == {"render": expected, "index": expected}


def test_plan_report_follows_and_says_the_conventions(sample_processed_dir):
    from cchc_lib.publish import plan_report

    nd09 = Conventions(window="nd09")
    ctx = plan_report.prepare_plan_report(2023, "2023-12-31", sample_processed_dir, {**nd09.as_dict()})
    assert "kỳ số liệu theo NĐ 09/2019" in plan_report.header_markdown(ctx)
    # Năm 2023 under nd09 = 15/12/2022-14/12/2023: the dossiers received are those of the engine
    direct = compute_indicators(load_processed_with(sample_processed_dir, nd09), P("2023"))
    shown = ctx.indicators.set_index("indicator")
    assert shown.loc["online_share", "denominator"] == row(direct, "online_share").denominator
