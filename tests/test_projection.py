"""Issue 12 §4: the year to date and where the year is heading; expected values by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cchc_lib import projection
from cchc_lib.cli import main
from cchc_lib.indicators import compute_many
from cchc_lib.periods import Period
from cchc_lib.publish import outlook
from tests.test_indicators import dossier, make_data, random_data, row

P = Period.parse


def five_months():
    """Jan-May 2023: 10 dossiers resolved each month (received the 2nd, resolved the 3rd, due
    the 20th: early), of which online 5, 5, 6, 7, 7."""
    rows, i = [], 0
    for month, online in zip(range(1, 6), (5, 5, 6, 7, 7), strict=True):
        for k in range(10):
            i += 1
            rows.append(dossier(i, f"2023-{month:02d}-02 08:00", f"2023-{month:02d}-20",
                                f"2023-{month:02d}-03 08:00",
                                channel="online" if k < online else "in_person"))
    return make_data(rows)


def test_year_end_projection_worked_by_hand():
    proj = projection.year_end(five_months(), 2023, "2023-05-31").set_index("indicator")
    r = proj.loc["online_resolved_share"]
    # to 31/05: 30 online of 50 resolved = 60%; 5 months elapsed, 7 left, 10 resolved a month
    assert (r["ytd_numerator"], r["ytd_denominator"], r["ytd_value"]) == (30, 50, 0.6)
    assert (r["months_elapsed"], r["months_left"], r["pace_denominator"]) == (5, 7, 10)
    # point: the last three months' rate (6 + 7 + 7) / 30 = 2/3 for 70 more -> (30 + 46,67) / 120
    assert r["projected"] == pytest.approx((30 + 70 * 2 / 3) / 120)  # 63,9%
    # range: the lowest month (50%) and the highest (70%) for the rest of the year
    assert (r["low"], r["high"]) == (pytest.approx(65 / 120), pytest.approx(79 / 120))
    # need: 70% of 120 = 84, minus 30 so far = 54 over 7 months = 7,71 a month (77,1%)
    assert r["needed_total"] == pytest.approx(54)
    assert r["needed_per_month"] == pytest.approx(54 / 7)
    assert r["status"] == projection.STATUS_OFF_TRACK
    text = projection.needs_sentence(r.to_dict() | {"indicator": "online_resolved_share"})
    assert text == ("Tỷ lệ hồ sơ giải quyết theo dịch vụ công trực tuyến: để cả năm đạt ≥ 70%, cần "
                    "khoảng 8 hồ sơ giải quyết theo dịch vụ công trực tuyến mỗi tháng trong 7 tháng còn "
                    "lại (bình quân đến nay 6 hồ sơ giải quyết theo dịch vụ công trực tuyến trên 10 hồ "
                    "sơ giải quyết mỗi tháng), tức tỷ lệ 77,1% trong các tháng còn lại.")
    # every dossier early so far: 100% on time is still reachable, at 100% for the rest
    early = proj.loc["early_rate"]
    assert early["status"] == projection.STATUS_ON_TRACK and early["projected"] == 1.0
    html = outlook.projection_html(proj.reset_index())
    assert "60,0%" in html and "54,2% – 65,8%" in html and "Dự báo chưa đạt" in html
    fig = outlook.projection_chart(proj.reset_index())
    names = {t.name for t in fig.data}
    assert names == {"Khoảng dự báo", "Từ đầu năm", "Dự báo cả năm", "Chỉ tiêu"}


def test_a_late_dossier_makes_100_percent_unreachable():
    data = five_months()
    data.dossiers.loc[0, "completed_at"] = pd.Timestamp("2023-01-25 08:00")  # after the 20th
    r = projection.year_end(data, 2023, "2023-05-31").set_index("indicator").loc["ontime_rate"]
    assert (r["ytd_numerator"], r["ytd_denominator"]) == (49, 50)
    assert r["needed_rate"] > 1  # 120 - 49 = 71 needed of 70 left
    assert "không còn đạt được chỉ tiêu 100% cả năm" in projection.needs_sentence(
        r.to_dict() | {"indicator": "ontime_rate"})


def test_months_elapsed():
    assert projection.months_elapsed(2023, projection._instant("2023-05-31")) == 5
    assert projection.months_elapsed(2023, projection._instant("2023-06-15")) == pytest.approx(5.5)
    assert projection.months_elapsed(2023, projection._instant("2023-12-31")) == 12


def test_as_of_view_is_the_data_as_it_stood():
    data = make_data([
        dossier(1, "2023-05-10 08:00", "2023-05-20"),  # open at 31/05, due 20/05: overdue
        dossier(2, "2023-05-25 08:00", "2023-06-05", "2023-06-02 08:00"),  # open at 31/05, not due
        dossier(3, "2023-06-10 08:00", "2023-06-20", "2023-06-11 08:00"),  # not received yet
        dossier(4, "2023-05-02 08:00", "2023-05-10", "2023-05-12 08:00"),  # resolved late in May
    ])
    r = projection.indicators_as_of(data, P("2023"), "2023-05-31")
    assert set(r["period"]) == {"2023-YTD"}
    assert row(r, "pending").value == 2 and row(r, "pending_overdue").value == 1
    assert (row(r, "ontime_rate").numerator, row(r, "ontime_rate").denominator) == (0, 1)
    # received to date: 1, 2, 4
    assert row(r, "online_share").denominator == 3
    # apology base at 31/05: dossier 4 (late) + dossier 1 (pending overdue) = 2
    assert row(r, "apology_rate").denominator == 2
    # the whole year when the date is at or after its end
    assert set(projection.indicators_as_of(data, P("2023"), "2023-12-31")["period"]) == {"2023"}


def test_year_to_date_flows_equal_the_sum_of_its_months():
    data = random_data()
    at = "2023-05-31"
    ytd = projection.indicators_as_of(data, P("2023"), at)
    months = compute_many(data, P("2023").months()[:5], with_changes=False)
    for name in ("early_rate", "online_resolved_share", "online_share", "satisfaction_rate",
                 "avg_wait_minutes", "synced_share"):
        part = months[months["indicator"] == name]
        mine = row(ytd, name)
        assert mine.numerator == pytest.approx(part["numerator"].sum()), name
        assert mine.denominator == pytest.approx(part["denominator"].sum()), name
    # stocks at 31/05 equal May's end-of-month stocks
    may = compute_many(data, [P("2023-05")], with_changes=False)
    for name in ("pending", "pending_overdue"):
        assert row(ytd, name).value == row(may, name).value, name


def test_cli_indicators_as_of(tmp_path, capsys):
    data = five_months()
    out = tmp_path / "processed"
    out.mkdir()
    data.dossiers.to_parquet(out / "dossiers.parquet")
    data.procedures.to_parquet(out / "procedures.parquet")
    code = main(["indicators", "--period", "2023", "--as-of", "2023-03-31", "--processed", str(out),
                 "--format", "csv"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    online = [ln for ln in lines if ",online_resolved_share," in ln][0].split(",")
    # Jan-Mar: 16 online of 30 resolved
    assert online[0] == "2023-YTD" and online[4:6] == ["16", "30"]
    assert main(["indicators", "--period", "2023", "--as-of", "31/02/2023", "--processed", str(out)]) == 2
    # In Vietnamese, quoting what was typed (pandas' own words were English).
    assert capsys.readouterr().err == ("Ngày không hợp lệ: '31/02/2023'. Viết năm-tháng-ngày hoặc "
                                       "ngày/tháng/năm, ví dụ: --as-of 2023-06-15\n")


def test_plan_report_dossier_indicators_judged_at_its_date(tmp_path):
    from cchc_lib.publish import plan_report

    data = five_months()
    data.dossiers.to_parquet(tmp_path / "dossiers.parquet")
    data.procedures.to_parquet(tmp_path / "procedures.parquet")
    ctx = plan_report.prepare_plan_report(2023, "2023-02-28", tmp_path)
    online = ctx.indicators.set_index("indicator").loc["online_resolved_share"]
    # as of 28/02: January and February only, 10 online of 20
    assert (online["numerator"], online["denominator"], online["period"]) == (10, 20, "2023-YTD")
    assert not np.isnan(online["value"])


def test_report_as_of_renders_the_year_to_date(sample_processed_dir, tmp_path, capsys):
    """`cchc report --period 2023 --as-of 2023-06-15`: its own file, numbers to that date."""
    from bs4 import BeautifulSoup

    from cchc_lib.processed import load_processed

    code = main(["report", "--period", "2023", "--as-of", "2023-06-15",
                 "--processed", str(sample_processed_dir), "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    html = (tmp_path / "2023" / "bao-cao-2023-den-2023-06-15.html").read_text(encoding="utf-8")
    assert not (tmp_path / "2023" / "bao-cao-2023.html").exists()
    soup = BeautifulSoup(html, "html.parser")
    assert "Số liệu tính đến hết ngày 15/06/2023" in soup.get_text()
    assert soup.title.get_text().endswith("(đến hết ngày 15/06/2023)")
    # the scorecard's resolved count is the year to 15/06, worked out a second way: the dossiers
    # completed from 01/01/2023 to the end of 15/06/2023
    d = load_processed(sample_processed_dir).dossiers
    done = ((d["completed_at"] >= "2023-01-01") & (d["completed_at"] < "2023-06-16")
            & (d["received_at"] <= "2023-06-15 23:59:59.999999")).sum()
    row_ = [tr for tr in soup.select("table.scorecard tbody tr")
            if tr.td.get_text() == "Tỷ lệ hồ sơ giải quyết đúng hạn"][0]
    counts = row_.select("td.num div.src")[0].get_text()
    assert counts.endswith(f"/{done:,}".replace(",", "."))
    assert "Số liệu từ đầu năm đến hết ngày 15/06/2023 (5,5 tháng)" in soup.get_text()


def test_cli_period_2023_ytd(tmp_path, capsys):
    data = five_months()
    out = tmp_path / "processed"
    out.mkdir()
    data.dossiers.to_parquet(out / "dossiers.parquet")
    data.procedures.to_parquet(out / "procedures.parquet")
    assert main(["indicators", "--period", "2023-YTD", "--as-of", "2023-02-28", "--processed", str(out),
                 "--format", "csv"]) == 0
    online = [ln for ln in capsys.readouterr().out.splitlines() if ",online_resolved_share," in ln][0]
    # January and February: 10 online of 20 resolved
    assert online.split(",")[0] == "2023-YTD" and online.split(",")[4:6] == ["10", "20"]
    # without --as-of: today, capped at the year's end (2023 is over: the whole year, Jan-May data)
    assert main(["indicators", "--period", "2023-ytd", "--processed", str(out), "--format", "csv"]) == 0
    online = [ln for ln in capsys.readouterr().out.splitlines() if ",online_resolved_share," in ln][0]
    assert online.split(",")[4:6] == ["30", "50"]
    assert projection.default_as_of(P("2023"), pd.Timestamp("2023-06-15 10:00")) == pd.Timestamp(
        "2023-06-15 23:59:59.999999")
    assert projection.parse_year_to_date("2023-Q1") is None
