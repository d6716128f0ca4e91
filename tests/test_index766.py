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
from cchc_lib.index766 import (
    COMPONENTS,
    GROUPS,
    IndexInputError,
    levers,
    read_counts_csv,
    score_from_counts,
)


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
    ])
    with pytest.raises(IndexInputError) as err:
        score_from_counts(bad)
    message = str(err.value)
    assert "Dòng 3" in message and "NOT_A_METRIC" in message
    assert "Dòng 4" in message and "abc" in message
    assert "Dòng 5" in message and "số âm" in message
    assert "Dòng 6" in message and "lớn hơn mẫu số" in message
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
    assert a["action"] == "thêm 79 hồ sơ thanh toán trực tuyến"
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
    assert _lever(lv, "PAYMENT_DOSSIER")["action"] == "thêm 2.000 hồ sơ thanh toán trực tuyến"
