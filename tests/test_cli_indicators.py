"""`cchc indicators` and `cchc form06` end to end: processed parquet in a folder, the real CLI,
stdout parsed back and compared with numbers worked out by hand."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from cchc_lib.cli import main
from cchc_lib.indicators import CLI_COLUMNS
from tests.test_indicators import dossier, make_data


@pytest.fixture
def processed_dir(tmp_path):
    data = make_data([
        # February 2023: resolved 3 (early, on the day, late), received 3 of which 2 online
        dossier(1, "2023-02-01 08:00", "2023-02-10", "2023-02-05 08:00", channel="online",
                department="Phòng A"),
        dossier(2, "2023-02-01 08:00", "2023-02-10", "2023-02-10 20:00", channel="online",
                department="Phòng A"),
        dossier(3, "2023-02-02 08:00", "2023-02-10", "2023-02-11 08:00", department="Phòng B"),
    ])
    out = tmp_path / "processed"
    out.mkdir()
    data.dossiers.to_parquet(out / "dossiers.parquet")
    data.procedures.to_parquet(out / "procedures.parquet")
    return out


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_parsed_back(capsys, processed_dir):
    code, out, _ = run(capsys, "indicators", "--period", "2023-02", "--processed", str(processed_dir),
                       "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out), keep_default_na=False, na_values=[""])
    assert list(df.columns) == CLI_COLUMNS
    r = df.set_index("indicator")
    # on time = early + on the day = 2 of 3; target 100%
    assert (r.loc["ontime_rate", "numerator"], r.loc["ontime_rate", "denominator"]) == (2, 3)
    assert r.loc["ontime_rate", "value"] == pytest.approx(2 / 3)
    assert (r.loc["ontime_rate", "target"], r.loc["ontime_rate", "status"]) == (1.0, "Chưa đạt")
    # early 1 of 3 < 80%
    assert r.loc["early_rate", "value"] == pytest.approx(1 / 3)
    # online 2 of 3 received: 66,7% < 70%
    assert (r.loc["online_share", "numerator"], r.loc["online_share", "denominator"]) == (2, 3)
    # the receipt-based share has no target of its own (issue 12): no status
    assert pd.isna(r.loc["online_share", "status"])  # empty CSV cell
    # the plan's reading: resolved 1, 2, 3, of which online 1, 2 -> 2/3 = 66,7% < 70%
    assert (r.loc["online_resolved_share", "numerator"], r.loc["online_resolved_share", "denominator"]) \
        == (2, 3)
    assert r.loc["online_resolved_share", "status"] == "Chưa đạt"
    # nothing rated: zero denominator... but no rating at all in the data: no data
    assert r.loc["satisfaction_rate", "status"] == "Chưa có dữ liệu"
    # no fee dossier: payment share has nothing to count
    assert r.loc["payment_enabled_share", "status"] == "Không phát sinh"
    assert pd.isna(r.loc["payment_enabled_share", "value"])
    assert set(df["period"]) == {"2023-02"} and set(df["group"]) == {"Toàn Sở"}


def test_csv_by_department(capsys, processed_dir):
    code, out, _ = run(capsys, "indicators", "--period", "2023-Q1", "--by", "department",
                       "--processed", str(processed_dir), "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    ontime = df[df["indicator"] == "ontime_rate"].set_index("group")
    assert ontime.loc["Phòng A", "value"] == 1.0  # 2 of 2
    assert ontime.loc["Phòng B", "value"] == 0.0  # 0 of 1
    assert set(df["group_by"]) == {"department"}


def test_json_records(capsys, processed_dir):
    code, out, _ = run(capsys, "indicators", "--period", "2023-02", "--processed", str(processed_dir),
                       "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert list(records[0]) == CLI_COLUMNS
    late = next(r for r in records if r["indicator"] == "late_rate")
    assert (late["numerator"], late["denominator"], late["status"]) == (1, 3, "")
    assert late["value"] == pytest.approx(1 / 3)


def test_table_is_vietnamese(capsys, processed_dir):
    code, out, _ = run(capsys, "indicators", "--period", "2023-02", "--processed", str(processed_dir))
    assert code == 0
    assert "Tháng 2/2023" in out
    assert "Tỷ lệ hồ sơ giải quyết đúng hạn" in out
    assert "66,7%" in out and "2/3" in out and "Chưa đạt" in out


def test_malformed_period_is_one_line(capsys, processed_dir):
    with pytest.raises(SystemExit) as exc:
        main(["indicators", "--period", "2023-13", "--processed", str(processed_dir)])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "cchc indicators: Kỳ báo cáo không hợp lệ: '2023-13'. "
        "Dùng tháng (2023-03), quý (2023-Q1) hoặc năm (2023)."
    ]


def test_missing_processed_data(capsys, tmp_path):
    code, _, err = run(capsys, "indicators", "--period", "2023-02", "--processed", str(tmp_path))
    assert code == 1
    assert "cchc ingest" in err


def test_form06_cli_writes_xlsx(capsys, processed_dir, tmp_path):
    out = tmp_path / "bao-cao" / "bieu06.xlsx"
    code, text, _ = run(capsys, "form06", "--period", "2023-Q1", "--processed", str(processed_dir),
                        "--out", str(out))
    assert code == 0
    assert "Quý I/2023" in text and str(out) in text
    ws = load_workbook(out).active
    # one field (Đầu tư): received 3 = 2 online + 1 direct; resolved 3 = 1 + 1 + 1; pending 0
    assert [ws.cell(13, c).value for c in range(2, 14)] == ["Đầu tư", 3, 2, 1, 0, 3, 1, 1, 1, 0, 0, 0]
    assert ws.cell(14, 2).value == "Tổng cộng"


def test_end_to_end_on_sample(capsys, sample_processed_dir):
    code, out, _ = run(capsys, "indicators", "--period", "2023-Q1", "--processed", str(sample_processed_dir),
                       "--format", "csv")
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == CLI_COLUMNS
    assert set(df["status"].fillna("")) <= {"Đạt", "Chưa đạt", "Không phát sinh", "Chưa có dữ liệu", ""}
    rates = df[df["indicator"].str.endswith(("_rate", "_share"))]["value"].dropna()
    assert ((rates >= 0) & (rates <= 1)).all()


def test_rating_column_present_but_empty_is_no_event_absent_is_no_data(tmp_path):
    from cchc_lib.indicators import compute_indicators
    from cchc_lib.ingest.run import run_ingest
    from cchc_lib.periods import Period
    from cchc_lib.processed import load_processed
    from tests.ingest_helpers import DOSSIER_HEADERS, csv_text, dossier_rows, make_raw

    # One dossier received 15/01/2023 (the helpers' default), nobody rated it.
    with_column = make_raw(tmp_path / "a", {"a.csv": csv_text(dossier_rows({}))})
    without = [h for h in DOSSIER_HEADERS if h not in ("Đánh giá",)]
    without_column = make_raw(tmp_path / "b", {"b.csv": csv_text(dossier_rows({}, headers=without))})
    statuses = []
    for raw, out in ((with_column, tmp_path / "pa"), (without_column, tmp_path / "pb")):
        run_ingest(raw, out)
        report = json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))
        assert ("rating" in report["tables"]["dossiers"]["columns_present"]) == (raw == with_column)
        r = compute_indicators(load_processed(out), Period.parse("2023-01")).set_index("indicator")
        statuses.append(r.loc["satisfaction_rate", "status"])
    assert statuses == ["Không phát sinh", "Chưa có dữ liệu"]
