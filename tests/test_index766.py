"""The national service index (QĐ 766/QĐ-TTg): scoring rules, caps, zero denominators, missing
inputs, the CSV round trip, bad rows, levers, and counts from the department's own data.

Every expected value is worked out by hand in the comment next to it."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from cchc_lib.cli import main
from cchc_lib.index766.counts import counts_from_data, index_section_frames
from cchc_lib.index766.scores import (
    COMPONENTS,
    GROUPS,
    IndexInputError,
    levers,
    read_counts_csv,
    score_from_counts,
)
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData
from cchc_lib.schema import TABLES


def counts(rows: list[tuple], unit: str = "Phòng A") -> pd.DataFrame:
    """(metric, numerator, denominator) rows for one unit; None = empty cell."""
    return pd.DataFrame(
        {
            "unit": [unit] * len(rows),
            "metric": [r[0] for r in rows],
            "numerator": [r[1] for r in rows],
            "denominator": [r[2] for r in rows],
        }
    )


def row(scores: pd.DataFrame, metric: str, unit: str = "Phòng A") -> pd.Series:
    hit = scores[(scores["unit"] == unit) & (scores["metric"] == metric)]
    assert len(hit) == 1, (unit, metric)
    return hit.iloc[0]


def score(scores: pd.DataFrame, metric: str, unit: str = "Phòng A") -> float:
    return float(row(scores, metric, unit)["score"])


# -- the maxima -------------------------------------------------------------------------------


def test_group_maxima_add_up_to_100_and_components_to_their_group():
    assert sum(g.max_score for g in GROUPS) == 100
    by_group = {g.code: 0.0 for g in GROUPS}
    for c in COMPONENTS:
        by_group[c.group] += c.max_score
    # Payment: 6 + 2 + 2.5 = 10.5 over a 10-point group (the group is capped); others exact.
    assert by_group == {
        "TRANSPARENCY": 18, "PROGRESS": 20, "ONLINE_SERVICE": 12,
        "PAYMENT": 10.5, "SATISFACTION": 18, "DIGITIZATION": 22,
    }


# -- one rule at a time -------------------------------------------------------------------------


def test_progress_is_20_times_ratio():
    # 87 / 100 on time -> 20 x 0.87 = 17.4
    s = score_from_counts(counts([("PROGRESS_ON_TIME", 87, 100)]))
    assert score(s, "PROGRESS_ON_TIME") == pytest.approx(17.4)
    assert score(s, "PROGRESS") == pytest.approx(17.4)
    assert bool(row(s, "PROGRESS")["complete"]) is True


def test_payment_formula_and_b_cap():
    # A = 30/60 = 0.5 -> 6 x 0.5 = 3
    # B = 9/10 = 0.9 -> min(2, 2.5 x 0.9 = 2.25) = 2 (capped)
    # C = 4/10 = 0.4 -> 2.5 x 0.4 = 1
    # group = 3 + 2 + 1 = 6
    s = score_from_counts(counts([
        ("PAYMENT_DOSSIER", 30, 60), ("PAYMENT_PROCEDURE", 9, 10),
        ("PAYMENT_PROCEDURE_WITH_DOSSIERS", 4, 10),
    ]))
    assert score(s, "PAYMENT_DOSSIER") == pytest.approx(3.0)
    assert score(s, "PAYMENT_PROCEDURE") == pytest.approx(2.0)
    assert score(s, "PAYMENT_PROCEDURE_WITH_DOSSIERS") == pytest.approx(1.0)
    assert score(s, "PAYMENT") == pytest.approx(6.0)


def test_payment_b_below_cap_is_linear():
    # B = 6/10 = 0.6 -> 2.5 x 0.6 = 1.5 (< 2, not capped)
    s = score_from_counts(counts([("PAYMENT_PROCEDURE", 6, 10)]))
    assert score(s, "PAYMENT_PROCEDURE") == pytest.approx(1.5)


def test_payment_group_capped_at_10():
    # A = 1 -> 6; B = 1 -> min(2, 2.5) = 2; C = 1 -> 2.5; 6 + 2 + 2.5 = 10.5 -> capped at 10
    s = score_from_counts(counts([
        ("PAYMENT_DOSSIER", 5, 5), ("PAYMENT_PROCEDURE", 4, 4),
        ("PAYMENT_PROCEDURE_WITH_DOSSIERS", 4, 4),
    ]))
    assert score(s, "PAYMENT") == pytest.approx(10.0)
    assert row(s, "PAYMENT")["max_score"] == 10


def test_satisfaction_full_at_90_percent():
    # 90/100 -> min(6, 6 x 0.9 / 0.9 = 6) = 6; 95/100 -> min(6, 6.33) = 6
    # 72/100 -> 6 x 0.72 / 0.9 = 4.8
    full = score_from_counts(counts([("DOSSIER_RECEIVING_SATISFACTION", 90, 100)]))
    above = score_from_counts(counts([("DOSSIER_RECEIVING_SATISFACTION", 95, 100)]))
    part = score_from_counts(counts([("DOSSIER_RECEIVING_SATISFACTION", 72, 100)]))
    assert score(full, "DOSSIER_RECEIVING_SATISFACTION") == pytest.approx(6.0)
    assert score(above, "DOSSIER_RECEIVING_SATISFACTION") == pytest.approx(6.0)
    assert score(part, "DOSSIER_RECEIVING_SATISFACTION") == pytest.approx(4.8)


def test_satisfaction_nothing_handled_is_zero():
    # 0 dossiers handled -> 0 (not full marks, unlike PAKN)
    s = score_from_counts(counts([("DOSSIER_RECEIVING_SATISFACTION", 0, 0)]))
    assert score(s, "DOSSIER_RECEIVING_SATISFACTION") == 0.0
    assert bool(row(s, "DOSSIER_RECEIVING_SATISFACTION")["available"]) is True


def test_pakn_components_linear_and_full_when_no_pakn():
    # on time 3/4 -> 6 x 0.75 = 4.5; satisfaction 0/0 (no PAKN) -> full 6
    s = score_from_counts(counts([
        ("PETITION_PROCESSING_ON_TIME", 3, 4), ("PETITION_HANDLING_SATISFACTION", 0, 0),
    ]))
    assert score(s, "PETITION_PROCESSING_ON_TIME") == pytest.approx(4.5)
    assert score(s, "PETITION_HANDLING_SATISFACTION") == pytest.approx(6.0)
    assert row(s, "PETITION_HANDLING_SATISFACTION")["ratio"] == 1.0


def test_reuse_full_at_80_percent():
    # 8/10 -> min(2, 2 x 0.8 / 0.8) = 2; 9/10 -> capped 2; 6/10 -> 2 x 0.6 / 0.8 = 1.5
    for num, expected in ((8, 2.0), (9, 2.0), (6, 1.5)):
        s = score_from_counts(counts([("REUSED_DIGITIZED_DATA", num, 10)]))
        assert score(s, "REUSED_DIGITIZED_DATA") == pytest.approx(expected), num


def test_digitization_linear_components_and_group_sum():
    # result 45/50 -> 6 x 0.9 = 5.4; digitised 30/40 -> 4 x 0.75 = 3; reuse 4/10 -> 2x0.4/0.8 = 1
    # storage 1/4 -> 4 x 0.25 = 1; citizen dossier 1/2 -> 1; formality 3/3 -> 2;
    # certified copy 0/5 -> 0; group = 5.4 + 3 + 1 + 1 + 1 + 2 + 0 = 13.4
    s = score_from_counts(counts([
        ("ORIGINAL_RESULT_AVAILABLE", 45, 50), ("SO_HOA_GIAY_TO_GIAI_QUYET", 30, 40),
        ("REUSED_DIGITIZED_DATA", 4, 10), ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", 1, 4),
        ("CITIZEN_DATA_CONNECTED_DOSSIER", 1, 2), ("CITIZEN_DATA_CONNECTED_FORMALITY", 3, 3),
        ("ELECTRONIC_CERTIFIED_COPY", 0, 5),
    ]))
    assert score(s, "ORIGINAL_RESULT_AVAILABLE") == pytest.approx(5.4)
    assert score(s, "SO_HOA_GIAY_TO_GIAI_QUYET") == pytest.approx(3.0)
    assert score(s, "REUSED_DIGITIZED_DATA") == pytest.approx(1.0)
    assert score(s, "SYNCED_WITH_DVCQG_PERSONAL_STORAGE") == pytest.approx(1.0)
    assert score(s, "CITIZEN_DATA_CONNECTED_DOSSIER") == pytest.approx(1.0)
    assert score(s, "CITIZEN_DATA_CONNECTED_FORMALITY") == pytest.approx(2.0)
    assert score(s, "ELECTRONIC_CERTIFIED_COPY") == 0.0
    assert score(s, "DIGITIZATION") == pytest.approx(13.4)
    assert bool(row(s, "DIGITIZATION")["complete"]) is True


def test_transparency_components():
    # publish 5/10 -> 6 x 0.5 = 3; public 3/4 -> 4 x 0.75 = 3; full 1/4 -> 2 x 0.25 = 0.5;
    # sync 90/120 -> 6 x 0.75 = 4.5; group = 3 + 3 + 0.5 + 4.5 = 11
    s = score_from_counts(counts([
        ("PUBLISH_ON_TIME", 5, 10), ("PUBLIC_UPDATE_ON_TIME", 3, 4),
        ("PUBLIC_CONTENT_FULL", 1, 4), ("DOSSIER_SYNC", 90, 120),
    ]))
    assert score(s, "PUBLIC_CONTENT_FULL") == pytest.approx(0.5)
    assert score(s, "TRANSPARENCY") == pytest.approx(11.0)


def test_online_service_candidate_and_estimate_flag():
    # r1 = 30/50 = 0.6 -> 2 x min(1, 0.6/0.8 = 0.75) = 1.5
    # r2 = 10/20 = 0.5 -> 4 x 0.5 = 2
    # r3 = 40/100 = 0.4 -> 6 x min(1, 0.4/0.5 = 0.8) = 4.8; group = 1.5 + 2 + 4.8 = 8.3
    s = score_from_counts(counts([
        ("ONLINE_SERVICE_PROVIDED", 30, 50), ("ONLINE_SERVICE_WITH_DOSSIERS", 10, 20),
        ("ONLINE_DOSSIER_SHARE", 40, 100),
    ]))
    assert score(s, "ONLINE_SERVICE_PROVIDED") == pytest.approx(1.5)
    assert score(s, "ONLINE_SERVICE_WITH_DOSSIERS") == pytest.approx(2.0)
    assert score(s, "ONLINE_DOSSIER_SHARE") == pytest.approx(4.8)
    assert score(s, "ONLINE_SERVICE") == pytest.approx(8.3)
    assert bool(row(s, "ONLINE_SERVICE")["estimate"]) is True
    assert bool(row(s, "TOTAL")["estimate"]) is True  # the total includes the estimate
    # r3 = 60/100 -> capped: 6 x min(1, 1.2) = 6; r1 = 45/50 = 0.9 -> 2 x min(1, 1.125) = 2
    s2 = score_from_counts(counts([("ONLINE_DOSSIER_SHARE", 60, 100), ("ONLINE_SERVICE_PROVIDED", 45, 50)]))
    assert score(s2, "ONLINE_DOSSIER_SHARE") == pytest.approx(6.0)
    assert score(s2, "ONLINE_SERVICE_PROVIDED") == pytest.approx(2.0)


def test_zero_denominators_score_zero_except_pakn():
    rows = [(c.code, 0, 0) for c in COMPONENTS]
    s = score_from_counts(counts(rows))
    for c in COMPONENTS:
        expected = 6.0 if c.code.startswith("PETITION_") else 0.0
        assert score(s, c.code) == expected, c.code
    # total = the two PAKN components only: 6 + 6 = 12, complete (every input present)
    assert score(s, "TOTAL") == pytest.approx(12.0)
    assert bool(row(s, "TOTAL")["complete"]) is True


# -- missing inputs ------------------------------------------------------------------------------


def test_missing_inputs_are_not_available_not_zero():
    # satisfaction: dossier handling 9/10 -> min(6, 6 x 0.9/0.9) = 6; PAKN on time has an empty
    # numerator and PAKN satisfaction no row at all: both not available.
    s = score_from_counts(counts([
        ("DOSSIER_RECEIVING_SATISFACTION", 9, 10), ("PETITION_PROCESSING_ON_TIME", None, 4),
    ]))
    for metric in ("PETITION_PROCESSING_ON_TIME", "PETITION_HANDLING_SATISFACTION"):
        r = row(s, metric)
        assert math.isnan(r["score"]) and math.isnan(r["ratio"])
        assert bool(r["available"]) is False
    group = row(s, "SATISFACTION")
    assert group["score"] == pytest.approx(6.0)  # sum of the available component only
    assert bool(group["available"]) is True and bool(group["complete"]) is False
    # groups with nothing at all are not available (NaN), not 0
    assert math.isnan(score(s, "PROGRESS"))
    total = row(s, "TOTAL")
    assert total["score"] == pytest.approx(6.0) and bool(total["complete"]) is False
    # no ONLINE_SERVICE input -> the total carries no estimate
    assert bool(total["estimate"]) is False


def test_empty_strings_are_missing():
    s = score_from_counts(counts([("PROGRESS_ON_TIME", "", "")]))
    assert bool(row(s, "PROGRESS_ON_TIME")["available"]) is False
    assert math.isnan(score(s, "TOTAL"))


def test_output_shape_and_order():
    s = score_from_counts(pd.concat([
        counts([("PROGRESS_ON_TIME", 1, 2)], unit="Phòng B"),
        counts([("PROGRESS_ON_TIME", 2, 2)], unit="Phòng A"),
    ]))
    assert list(s.columns[:5]) == ["unit", "group", "metric", "score", "max_score"]
    # 21 components + 6 groups + TOTAL = 28 rows per unit, units in order of appearance
    assert len(s) == 56
    assert list(dict.fromkeys(s["unit"])) == ["Phòng B", "Phòng A"]
    first = s[s["unit"] == "Phòng B"]
    assert list(first["metric"][:5]) == [
        "TRANSPARENCY", "PUBLISH_ON_TIME", "PUBLIC_UPDATE_ON_TIME", "PUBLIC_CONTENT_FULL",
        "DOSSIER_SYNC",
    ]
    assert first["metric"].iloc[-1] == "TOTAL" and first["max_score"].iloc[-1] == 100
    assert score(s, "TOTAL", "Phòng B") == pytest.approx(10.0)  # 20 x 1/2


def test_portal_like_full_example():
    # A complete unit, worked by hand:
    # TRANSPARENCY: 6 x 1 + 4 x 1 + 2 x 1 + 6 x 0.95 (190/200) = 17.7
    # PROGRESS: 20 x 0.98 (98/100) = 19.6
    # ONLINE_SERVICE: 2 x min(1, 0.9/0.8) + 4 x 0.5 (10/20) + 6 x min(1, 0.3/0.5) = 2 + 2 + 3.6 = 7.6
    # PAYMENT: 6 x 0.25 (5/20) + min(2, 2.5 x 0.5) + 2.5 x 0.75 (3/4) = 1.5 + 1.25 + 1.875 = 4.625
    # SATISFACTION: min(6, 6 x 0.99/0.9) + 6 (0/0 PAKN) + 6 x 0.5 = 6 + 6 + 3 = 15
    # DIGITIZATION: 6 x 0.5 + 4 x 0.25 + min(2, 2 x 0.2/0.8) + 0 + 2 x 0.1 + 0 + 0
    #             = 3 + 1 + 0.5 + 0 + 0.2 + 0 + 0 = 4.7
    # TOTAL = 17.7 + 19.6 + 7.6 + 4.625 + 15 + 4.7 = 69.225
    s = score_from_counts(counts([
        ("PUBLISH_ON_TIME", 4, 4), ("PUBLIC_UPDATE_ON_TIME", 4, 4), ("PUBLIC_CONTENT_FULL", 8, 8),
        ("DOSSIER_SYNC", 190, 200), ("PROGRESS_ON_TIME", 98, 100),
        ("ONLINE_SERVICE_PROVIDED", 9, 10), ("ONLINE_SERVICE_WITH_DOSSIERS", 10, 20),
        ("ONLINE_DOSSIER_SHARE", 60, 200), ("PAYMENT_DOSSIER", 5, 20), ("PAYMENT_PROCEDURE", 2, 4),
        ("PAYMENT_PROCEDURE_WITH_DOSSIERS", 3, 4), ("DOSSIER_RECEIVING_SATISFACTION", 99, 100),
        ("PETITION_PROCESSING_ON_TIME", 0, 0), ("PETITION_HANDLING_SATISFACTION", 1, 2),
        ("ORIGINAL_RESULT_AVAILABLE", 50, 100), ("SO_HOA_GIAY_TO_GIAI_QUYET", 50, 200),
        ("REUSED_DIGITIZED_DATA", 40, 200), ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", 0, 60),
        ("CITIZEN_DATA_CONNECTED_DOSSIER", 20, 200), ("CITIZEN_DATA_CONNECTED_FORMALITY", 0, 10),
        ("ELECTRONIC_CERTIFIED_COPY", 0, 0),
    ]))
    assert score(s, "TRANSPARENCY") == pytest.approx(17.7)
    assert score(s, "PROGRESS") == pytest.approx(19.6)
    assert score(s, "ONLINE_SERVICE") == pytest.approx(7.6)
    assert score(s, "PAYMENT") == pytest.approx(4.625)
    assert score(s, "SATISFACTION") == pytest.approx(15.0)
    assert score(s, "DIGITIZATION") == pytest.approx(4.7)
    assert score(s, "TOTAL") == pytest.approx(69.225)
    assert bool(row(s, "TOTAL")["complete"]) is True


# -- validation ------------------------------------------------------------------------------------


def test_unknown_metric_and_bad_numbers_name_the_row():
    bad = counts([
        ("PROGRESS_ON_TIME", 1, 2),       # row 2: fine
        ("NOT_A_METRIC", 1, 2),           # row 3
        ("PAYMENT_DOSSIER", "abc", 2),    # row 4
        ("DOSSIER_SYNC", -1, 2),          # row 5
        ("PUBLISH_ON_TIME", 5, 3),        # row 6: numerator > denominator
        ("DOSSIER_SYNC", "1.234", "2000"),  # row 7: "1.234" is 1234 written the Vietnamese way
        ("ORIGINAL_RESULT_AVAILABLE", 3, "4.5"),  # row 8: half a dossier
    ])
    with pytest.raises(IndexInputError) as err:
        score_from_counts(bad)
    message = str(err.value)
    assert "Dòng 3" in message and "NOT_A_METRIC" in message
    assert "Dòng 4" in message and "abc" in message
    assert "Dòng 5" in message and "số âm" in message
    assert "Dòng 6" in message and "lớn hơn mẫu số" in message
    assert "Dòng 7: tử số (cột numerator) '1.234' không phải là số nguyên" in message
    assert "Dòng 8: mẫu số (cột denominator) '4.5' không phải là số nguyên" in message
    assert "Dòng 2" not in message


def test_duplicate_unit_metric_is_an_error():
    with pytest.raises(IndexInputError, match="Dòng 3: trùng đơn vị và mã chỉ tiêu với dòng 2"):
        score_from_counts(counts([("PROGRESS_ON_TIME", 1, 2), ("PROGRESS_ON_TIME", 1, 3)]))


def test_missing_columns_is_an_error():
    with pytest.raises(IndexInputError, match="thiếu cột: denominator"):
        score_from_counts(pd.DataFrame({"unit": ["A"], "metric": ["DOSSIER_SYNC"], "numerator": [1]}))


def test_csv_rows_counted_as_a_spreadsheet_shows_them(tmp_path):
    # a blank line (row 3) still counts, so the bad metric sits on spreadsheet row 4
    path = tmp_path / "counts.csv"
    path.write_text(
        "unit,metric,numerator,denominator\nToàn Sở,PROGRESS_ON_TIME,1,2\n\nToàn Sở,FOO,1,2\n",
        encoding="utf-8",
    )
    with pytest.raises(IndexInputError, match="Dòng 4: mã chỉ tiêu 'FOO'"):
        score_from_counts(read_counts_csv(path))


# -- command line ---------------------------------------------------------------------------------


def _write_counts(path) -> None:
    path.write_text(
        "\ufeffunit,metric,numerator,denominator\n"
        "Toàn Sở,PROGRESS_ON_TIME,35,40\n"          # 20 x 35/40 = 17.5
        "Toàn Sở,PAYMENT_DOSSIER,,50\n"             # not available
        "Toàn Sở,REUSED_DIGITIZED_DATA,9,10\n"      # min(2, 2 x 0.9/0.8) = 2
        "Phòng KT,PETITION_PROCESSING_ON_TIME,0,0\n",  # no PAKN -> 6
        encoding="utf-8",
    )


def test_cli_csv_round_trip(tmp_path, capsys):
    path = tmp_path / "counts.csv"
    _write_counts(path)
    assert main(["index766", "--from-counts", str(path), "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(out.columns[:5]) == ["unit", "group", "metric", "score", "max_score"]
    got = out.set_index(["unit", "metric"])["score"]
    assert got[("Toàn Sở", "PROGRESS_ON_TIME")] == pytest.approx(17.5)
    assert math.isnan(got[("Toàn Sở", "PAYMENT_DOSSIER")])
    assert got[("Toàn Sở", "DIGITIZATION")] == pytest.approx(2.0)
    assert got[("Toàn Sở", "TOTAL")] == pytest.approx(19.5)  # 17.5 + 2
    assert got[("Phòng KT", "TOTAL")] == pytest.approx(6.0)
    # the CSV scores again to the same result as the library
    direct = score_from_counts(read_counts_csv(path))
    np.testing.assert_allclose(out["score"].to_numpy(), direct["score"].to_numpy(), equal_nan=True)


def test_cli_json(tmp_path, capsys):
    path = tmp_path / "counts.csv"
    _write_counts(path)
    assert main(["index766", "--from-counts", str(path), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    total = next(r for r in records if r["unit"] == "Toàn Sở" and r["metric"] == "TOTAL")
    assert total["score"] == pytest.approx(19.5) and total["complete"] is False
    missing = next(r for r in records if r["metric"] == "PAYMENT_DOSSIER" and r["unit"] == "Toàn Sở")
    assert missing["score"] is None


def test_cli_table_is_vietnamese(tmp_path, capsys):
    path = tmp_path / "counts.csv"
    _write_counts(path)
    assert main(["index766", "--from-counts", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Tiến độ giải quyết" in out and "17,5/20" in out
    assert "Dịch vụ công trực tuyến (ước tính)" in out
    assert "không có dữ liệu" in out
    assert "87,5%" in out  # 35/40


def test_cli_bad_row_exits_1_with_row(tmp_path, capsys):
    path = tmp_path / "counts.csv"
    path.write_text("unit,metric,numerator,denominator\nA,PROGRESS_ON_TIME,x,2\n", encoding="utf-8")
    assert main(["index766", "--from-counts", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Dòng 2" in err and "không phải là số" in err


# -- levers ----------------------------------------------------------------------------------------


def _lever(table: pd.DataFrame, metric: str) -> pd.Series:
    return table[table["metric"] == metric].iloc[0]


def test_levers_arithmetic_and_order():
    c = counts([
        # A = 13/100 -> 0.78 points; full needs 100 paid: 87 more, gains 5.22 ...
        ("PAYMENT_DOSSIER", 13, 100),
        # ... but payment is capped at 10: B full (2), C full (2.5) -> group = 0.78 + 4.5 = 5.28,
        # headroom 10 - 5.28 = 4.72 < 5.22, so A gains 4.72: target score 0.78 + 4.72 = 5.5,
        # ratio 5.5/6 = 0.91667, 91.667 paid -> 92 - 13 = 79 more
        ("PAYMENT_PROCEDURE", 4, 5), ("PAYMENT_PROCEDURE_WITH_DOSSIERS", 2, 2),
        # reuse 50/100 -> 1.25; full at 0.80 -> 80 - 50 = 30 more, gains 0.75
        ("REUSED_DIGITIZED_DATA", 50, 100),
        # progress 90/100 -> 18; 10 more on time gains 2
        ("PROGRESS_ON_TIME", 90, 100),
        # satisfaction 81/100 -> 6 x 0.81/0.9 = 5.4; full at 90 -> 9 more, gains 0.6
        ("DOSSIER_RECEIVING_SATISFACTION", 81, 100),
        # r2 0/0 -> 0; one online service with a dossier makes it 1/1: gains 4
        ("ONLINE_SERVICE_WITH_DOSSIERS", 0, 0),
    ])
    s = score_from_counts(c)
    lv = levers(c, s)
    a = _lever(lv, "PAYMENT_DOSSIER")
    assert a["points_missing"] == pytest.approx(5.22)
    assert a["points_gained"] == pytest.approx(4.72)
    assert a["extra_needed"] == 79
    assert a["action"] == "tăng thêm 79 hồ sơ thanh toán trực tuyến"
    reuse = _lever(lv, "REUSED_DIGITIZED_DATA")
    assert reuse["points_gained"] == pytest.approx(0.75) and reuse["extra_needed"] == 30
    assert _lever(lv, "PROGRESS_ON_TIME")["extra_needed"] == 10
    sat = _lever(lv, "DOSSIER_RECEIVING_SATISFACTION")
    assert sat["points_gained"] == pytest.approx(0.6) and sat["extra_needed"] == 9
    r2 = _lever(lv, "ONLINE_SERVICE_WITH_DOSSIERS")
    assert r2["points_gained"] == pytest.approx(4.0) and r2["extra_needed"] == 1
    # full components gain nothing; B and C are at their maxima
    assert _lever(lv, "PAYMENT_PROCEDURE")["points_gained"] == 0
    assert _lever(lv, "PAYMENT_PROCEDURE_WITH_DOSSIERS")["action"] == "đã đạt điểm tối đa"
    # sorted by points gained: A 4.72, r2 4, progress 2, reuse 0.75, satisfaction 0.6, then zeros,
    # unavailable components (no counts) last
    assert list(lv["metric"][:5]) == [
        "PAYMENT_DOSSIER", "ONLINE_SERVICE_WITH_DOSSIERS", "PROGRESS_ON_TIME",
        "REUSED_DIGITIZED_DATA", "DOSSIER_RECEIVING_SATISFACTION",
    ]
    assert not lv["available"].iloc[-1]
    assert lv["action"].iloc[-1] == "không có dữ liệu"


def test_levers_thousands_in_vietnamese():
    # 0 / 2000 paid online -> 2 000 more for full marks (nothing else in the group)
    c = counts([("PAYMENT_DOSSIER", 0, 2000)])
    lv = levers(c, score_from_counts(c))
    assert _lever(lv, "PAYMENT_DOSSIER")["action"] == "tăng thêm 2.000 hồ sơ thanh toán trực tuyến"


# -- counts from the department's own data ------------------------------------------------------

MARCH = Period.parse("2023-03")
PA, PB = "Phòng A", "Phòng B"
T = pd.Timestamp
NaT = pd.NaT


def frame(table: str, rows: list[dict], drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows in canonical dtypes; columns not given are <NA> (an export without the column)."""
    data = {}
    for spec in TABLES[table]:
        if spec.name in drop:
            continue
        values = [r.get(spec.name, pd.NA) for r in rows]
        if spec.dtype.startswith("datetime"):
            values = [NaT if v is pd.NA else v for v in values]
        data[spec.name] = pd.Series(values, dtype=spec.dtype)
    return pd.DataFrame(data)


FLAGS = ("fee_required", "paid_online", "digitized", "electronic_result", "synced_national",
         "apology_issued", "reused_digitized_data", "citizen_data_connected",
         "from_national_storage")


def dossier(i, dept, code, received, due, completed=NaT, channel="in_person", rating=pd.NA,
            **flags):
    row = {
        "dossier_id": f"d{i}", "procedure_code": code, "procedure_name": code, "field": "F",
        "department": dept, "channel": channel, "received_at": T(received), "due_at": T(due),
        "completed_at": T(completed) if completed is not NaT else NaT,
        "status": "resolved" if completed is not NaT else "processing", "rating": rating,
        "source_file": "x.csv", "source_row": i + 1,
    }
    row.update({f: bool(flags.get(f, False)) for f in FLAGS})
    return row


def sample_dossiers() -> pd.DataFrame:
    return frame("dossiers", [
        # d1 A: received and resolved on time in March, online, fee paid online, everything yes
        dossier(1, PA, "X1", "2023-03-02 09:00", "2023-03-10 17:00", "2023-03-09 10:00",
                "online", "very_satisfied", fee_required=1, paid_online=1, digitized=1,
                electronic_result=1, synced_national=1, reused_digitized_data=1,
                citizen_data_connected=1, from_national_storage=1),
        # d2 A: resolved late (20/03 > due 15/03), fee not paid online, synced
        dossier(2, PA, "X1", "2023-03-05 08:00", "2023-03-15 17:00", "2023-03-20 10:00",
                fee_required=1, synced_national=1),
        # d3 B: received in February, pending at the end, due 05/04: within time
        dossier(3, PB, "X2", "2023-02-20 08:00", "2023-04-05 17:00"),
        # d4 B: received in March, pending, due 20/03: overdue at the end; online, fee unpaid
        dossier(4, PB, "X2", "2023-03-10 08:00", "2023-03-20 17:00", channel="online",
                fee_required=1),
        # d5 B: received 31/03 23:30, completed 01/04 00:10: pending at the end of March
        dossier(5, PB, "X3", "2023-03-31 23:30", "2023-04-10 17:00", "2023-04-01 00:10",
                "online"),
        # d6 A: January, outside the period entirely
        dossier(6, PA, "X1", "2023-01-10 08:00", "2023-01-20 17:00", "2023-01-15 10:00"),
        # d7 A: resolved on time but rated unsatisfied
        dossier(7, PA, "X1", "2023-03-03 08:00", "2023-03-13 17:00", "2023-03-12 10:00",
                rating="unsatisfied"),
        # d8 B: resolved on time, online, digitised, but a PAKN complains about it (f1)
        dossier(8, PB, "X2", "2023-03-06 08:00", "2023-03-16 17:00", "2023-03-10 10:00",
                "online", digitized=1),
    ])


def proc(code, year, level, fee, pay, citizen, effective, decided, public, complete):
    return {
        "procedure_code": code, "procedure_name": code, "field": "F", "service_level": level,
        "fee_required": fee, "online_payment": pay, "citizen_data_connected": citizen,
        "legal_effective_date": T(effective) if effective else NaT,
        "published_decision_date": T(decided) if decided else NaT,
        "made_public_date": T(public) if public else NaT,
        "content_complete": complete, "year": year, "source_file": "p.csv", "source_row": 2,
    }


def sample_procedures() -> pd.DataFrame:
    return frame("procedures", [
        # X1: decided Mon 20/02 before effect 01/03 (on time); public Mon 27/02 = 20/02 + 5
        # working days (on time)
        proc("X1", 2023, "full", True, True, True, "2023-03-01", "2023-02-20", "2023-02-27", True),
        # X2: decided Thu 02/03 after effect 01/03 (late); public Fri 10/03 > Thu 09/03 (late)
        proc("X2", 2023, "partial", True, False, False, "2023-03-01", "2023-03-02",
             "2023-03-10", False),
        # X3: no online service, no fee, no dates
        proc("X3", 2023, "none", False, False, False, None, None, None, True),
        # X4: fee, online payment, full online, never had a dossier; on time both ways
        proc("X4", 2023, "full", True, True, False, "2023-01-01", "2022-12-20", "2022-12-21", True),
        # the 2022 catalogue must be ignored for a 2023 period
        proc("X1", 2022, "none", False, False, False, None, None, None, False),
    ])


def sample_feedback() -> pd.DataFrame:
    def fb(i, received, due, handled=None, rating=pd.NA, dossier_id=pd.NA):
        return {"feedback_id": f"f{i}", "received_at": T(received), "due_at": T(due),
                "handled_at": T(handled) if handled else NaT, "subject": "procedure",
                "rating": rating, "dossier_id": dossier_id, "source_file": "f.csv",
                "source_row": i + 1}

    return frame("feedback", [
        fb(1, "2023-03-01", "2023-03-10", "2023-03-08", "satisfied", "d8"),  # on time, about d8 (B)
        fb(2, "2023-03-05", "2023-03-15", "2023-03-20", "unsatisfied"),  # late, unsatisfied
        fb(3, "2023-03-20", "2023-03-25", None, pd.NA, "d4"),  # open and overdue at the end (B)
        fb(4, "2023-03-25", "2023-04-05"),  # open, within time: not counted
        fb(5, "2023-02-01", "2023-02-10", "2023-02-09"),  # February
    ])


def sample_data(feedback: bool = True) -> ProcessedData:
    return ProcessedData(sample_dossiers(), sample_procedures(),
                         sample_feedback() if feedback else None, {})


def as_dict(c: pd.DataFrame, unit: str) -> dict[str, tuple[float, float]]:
    part = c[c["unit"] == unit]
    return {m: (n, d) for m, n, d in zip(part["metric"], part["numerator"], part["denominator"],
                                          strict=True)}


def test_counts_from_data_overall_by_hand():
    got = as_dict(counts_from_data(sample_data(), MARCH), "Toàn Sở")
    expected = {
        # resolved in March: d1, d2, d7, d8 (d2 late); pending at the end: d3, d4, d5 (d4 overdue)
        # -> (3 + 2) / (4 + 3)
        "PROGRESS_ON_TIME": (5, 7),
        "PAYMENT_DOSSIER": (1, 3),  # received fee dossiers d1, d2, d4; paid online d1
        "PAYMENT_PROCEDURE": (2, 3),  # fee procedures X1, X2, X4; online payment X1, X4
        "PAYMENT_PROCEDURE_WITH_DOSSIERS": (2, 3),  # X1, X2 had March dossiers; X4 none
        # resolved d1, d2, d7, d8: d2 late, d7 unsatisfied, d8 complained -> only d1
        "DOSSIER_RECEIVING_SATISFACTION": (1, 4),
        "PETITION_PROCESSING_ON_TIME": (1, 3),  # handled f1 (on time), f2 (late); f3 open overdue
        "PETITION_HANDLING_SATISFACTION": (1, 2),  # f1 satisfied, f2 unsatisfied
        "ORIGINAL_RESULT_AVAILABLE": (1, 4),  # d1 of the four resolved
        "SO_HOA_GIAY_TO_GIAI_QUYET": (2, 6),  # received d1, d2, d4, d5, d7, d8; digitised d1, d8
        "REUSED_DIGITIZED_DATA": (1, 6),
        "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": (1, 4),  # online received d1, d4, d5, d8
        "CITIZEN_DATA_CONNECTED_DOSSIER": (1, 6),
        "CITIZEN_DATA_CONNECTED_FORMALITY": (1, 4),  # X1 of X1..X4
        "PUBLISH_ON_TIME": (2, 3),  # X1, X4 on time, X2 late; X3 has no date
        "PUBLIC_UPDATE_ON_TIME": (2, 3),  # X1 (27/02 = limit), X4 (21/12 <= 27/12); X2 late
        "PUBLIC_CONTENT_FULL": (3, 4),  # X1, X3, X4
        "DOSSIER_SYNC": (2, 6),  # d1, d2
        "ONLINE_SERVICE_PROVIDED": (3, 4),  # X1 full, X2 partial, X4 full
        "ONLINE_SERVICE_WITH_DOSSIERS": (2, 3),  # X1 (d1 online), X2 (d4, d8 online); X4 none
        "ONLINE_DOSSIER_SHARE": (4, 6),  # d1, d4, d5, d8
    }
    for metric, (num, den) in expected.items():
        assert got[metric] == (num, den), metric
    assert all(math.isnan(v) for v in got["ELECTRONIC_CERTIFIED_COPY"])


def test_counts_from_data_by_department_by_hand():
    c = counts_from_data(sample_data(), MARCH, by="department")
    assert list(dict.fromkeys(c["unit"])) == [PA, PB]
    a, b = as_dict(c, PA), as_dict(c, PB)
    assert a["PROGRESS_ON_TIME"] == (2, 3)  # d1, d7 on time of d1, d2, d7
    assert b["PROGRESS_ON_TIME"] == (3, 4)  # d8 resolved on time, pending d3, d5 ok, d4 overdue
    assert a["DOSSIER_RECEIVING_SATISFACTION"] == (1, 3)
    assert a["ONLINE_DOSSIER_SHARE"] == (1, 3)
    # catalogue: A handled X1 only; B handled X2 and X3
    assert a["PAYMENT_PROCEDURE"] == (1, 1)
    assert b["PAYMENT_PROCEDURE"] == (0, 1)
    assert b["ONLINE_SERVICE_PROVIDED"] == (1, 2)
    assert b["PAYMENT_PROCEDURE_WITH_DOSSIERS"] == (1, 1)
    # PAKN go to the department of their dossier: f1 (d8), f3 (d4) -> B; A had none -> 0/0
    assert a["PETITION_PROCESSING_ON_TIME"] == (0, 0)
    assert b["PETITION_PROCESSING_ON_TIME"] == (1, 2)
    assert b["PETITION_HANDLING_SATISFACTION"] == (1, 1)
    s = score_from_counts(c)
    assert score(s, "PETITION_PROCESSING_ON_TIME", PA) == 6.0  # no PAKN: full marks


def test_counts_from_data_missing_inputs_are_not_available():
    d = sample_dossiers()
    d["reused_digitized_data"] = pd.Series(pd.NA, index=d.index, dtype="boolean")
    p = sample_procedures().drop(columns=["made_public_date"])
    data = ProcessedData(d, p, None, {})
    got = as_dict(counts_from_data(data, MARCH), "Toàn Sở")
    for metric in ("REUSED_DIGITIZED_DATA", "PUBLIC_UPDATE_ON_TIME", "PETITION_PROCESSING_ON_TIME",
                   "PETITION_HANDLING_SATISFACTION"):
        assert all(math.isnan(v) for v in got[metric]), metric
    s = score_from_counts(counts_from_data(data, MARCH))
    assert bool(row(s, "REUSED_DIGITIZED_DATA", "Toàn Sở")["available"]) is False
    assert bool(row(s, "TOTAL", "Toàn Sở")["complete"]) is False
    # and still countable metrics are there: digitised 2/6
    assert got["SO_HOA_GIAY_TO_GIAI_QUYET"] == (2, 6)


def test_catalogue_year_fallback_and_absence():
    p = sample_procedures()
    only_2022 = ProcessedData(sample_dossiers(), p[p["year"] == 2022], None, {})
    got = as_dict(counts_from_data(only_2022, MARCH), "Toàn Sở")
    assert got["ONLINE_SERVICE_PROVIDED"] == (0, 1)  # the 2022 X1 row: no online service
    later = p.assign(year=pd.Series([2024] * len(p), dtype="Int64"))
    got = as_dict(counts_from_data(ProcessedData(sample_dossiers(), later, None, {}), MARCH),
                  "Toàn Sở")
    assert all(math.isnan(v) for v in got["ONLINE_SERVICE_PROVIDED"])


def test_empty_feedback_table_means_no_pakn_full_marks():
    data = ProcessedData(sample_dossiers(), sample_procedures(), sample_feedback().iloc[0:0], {})
    s = score_from_counts(counts_from_data(data, MARCH))
    assert score(s, "PETITION_PROCESSING_ON_TIME", "Toàn Sở") == 6.0
    assert score(s, "PETITION_HANDLING_SATISFACTION", "Toàn Sở") == 6.0


def test_index_section_frames():
    frames = index_section_frames(sample_data(), MARCH)
    summary = frames["summary"]
    assert list(summary["metric"]) == [g.code for g in GROUPS] + ["TOTAL"]
    # progress 20 x 5/7
    assert float(summary.loc[summary["metric"] == "PROGRESS", "score"].iloc[0]) == pytest.approx(
        100 / 7)
    # trend: January, February, March x (6 groups + TOTAL)
    assert list(dict.fromkeys(frames["trend"]["period"])) == ["2023-01", "2023-02", "2023-03"]
    assert len(frames["trend"]) == 3 * 7
    assert set(frames["departments"]["unit"]) == {PA, PB}
    lv = frames["levers"]
    assert lv["points_gained"].is_monotonic_decreasing or lv["points_gained"].isna().any()
    # progress lever: 5/7 -> 7/7 needs 2 more on time, gains 20 - 14.29 = 5.71
    prog = _lever(lv, "PROGRESS_ON_TIME")
    assert prog["extra_needed"] == 2 and prog["points_gained"] == pytest.approx(40 / 7)


def test_cli_period_csv_round_trip(tmp_path, capsys):
    data = sample_data()
    data.dossiers.to_parquet(tmp_path / "dossiers.parquet")
    data.procedures.to_parquet(tmp_path / "procedures.parquet")
    data.feedback.to_parquet(tmp_path / "feedback.parquet")
    assert main(["index766", "--period", "2023-03", "--processed", str(tmp_path),
                 "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out))
    got = out.set_index(["unit", "metric"])
    assert got.loc[("Toàn Sở", "PROGRESS_ON_TIME"), "score"] == pytest.approx(100 / 7)
    assert got.loc[("Toàn Sở", "PAYMENT_DOSSIER"), "numerator"] == 1
    assert (out["period"] == "2023-03").all()
    assert main(["index766", "--period", "2023-03", "--by", "department", "--processed",
                 str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "Phòng A" in table and "Phòng B" in table and "Tháng 3/2023" in table


def test_cli_period_without_processed_data(tmp_path, capsys):
    assert main(["index766", "--period", "2023-03", "--processed", str(tmp_path)]) == 1
    assert "cchc ingest" in capsys.readouterr().err


def test_period_without_any_activity():
    # 2021-01: no dossier at all. Overall: dossier metrics 0/0 score 0 (progress 0/0 -> 0);
    # no catalogue for 2021 or earlier -> catalogue metrics not available; by department: no unit.
    data = sample_data()
    jan21 = Period.parse("2021-01")
    got = as_dict(counts_from_data(data, jan21), "Toàn Sở")
    assert got["PROGRESS_ON_TIME"] == (0, 0)
    assert all(math.isnan(v) for v in got["PUBLISH_ON_TIME"])
    assert counts_from_data(data, jan21, by="department").empty
    empty = score_from_counts(counts_from_data(data, jan21, by="department"))
    assert empty.empty and list(empty.columns[:5]) == ["unit", "group", "metric", "score", "max_score"]
