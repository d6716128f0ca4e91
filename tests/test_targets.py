"""Targets as data: the 2023 plan file, both levels where text and table disagree, a new year
without code, and the comparison rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc_lib.indicators import INDICATORS
from cchc_lib.targets import Target, TargetsError, check, load_targets, status_for, target_text_vi


def test_2023_plan_levels_and_sources():
    t = load_targets(2023)
    assert t.available and "122/KH-SKH" in t.plan
    sat = t.get("satisfaction_rate")
    assert (sat.op, sat.value, sat.source, sat.value_min, sat.source_min) == \
        (">=", 0.95, "III.2", 0.85, "Biểu II.6")
    pay = t.get("online_payment_share")
    # the text's figure decides by default: 10% (III.2); the table's 15% is the other one
    assert (pay.value, pay.source, pay.value_min, pay.source_min) == (0.10, "III.2", 0.15, "Biểu II.8")
    work = t.get("online_workfile_share")
    assert (work.value, work.value_min, work.source, work.source_min) == (1.0, 0.80, "III.6", "Biểu VI")
    assert (t.get("ontime_rate").value, t.get("early_rate").value) == (1.0, 0.80)
    assert (t.get("avg_wait_minutes").op, t.get("avg_wait_minutes").value) == ("<=", 25)
    assert (t.get("postgraduate_share").op, t.get("postgraduate_share").value) == (">", 0.22)
    assert t.get("national_integration_share").relative_to_previous_year == pytest.approx(0.20)
    assert t.get("digitized_share").no_number
    assert t.get("late_rate") is None  # the plan sets none


def test_every_targeted_indicator_exists_in_the_engine_or_other_plan_targets():
    others = {"esigned_document_share", "online_workfile_share", "degree_share", "postgraduate_share",
              "state_mgmt_trained_share", "digital_id_share", "security_trained_share",
              "feedback_ontime_rate", "plan_task_completion"}
    from cchc_lib.manual_figures import SPECS

    assert set(load_targets(2023).entries) <= set(INDICATORS) | others | set(SPECS)


def test_year_without_file_has_no_targets():
    t = load_targets(2031)
    assert not t.available
    assert t.get("ontime_rate") is None
    assert target_text_vi(None, "rate", 2031) == "Chưa có chỉ tiêu kế hoạch năm 2031"


def test_new_year_is_a_new_file(tmp_path):
    (tmp_path / "2024.yaml").write_text(
        "plan: Kế hoạch 2024\nindicators:\n  ontime_rate:\n    op: '>='\n    target: 0.98\n"
        "    source: II.2\n", encoding="utf-8")
    t = load_targets(2024, directory=tmp_path)
    assert t.available and t.get("ontime_rate").value == 0.98
    with pytest.raises(ValueError):
        (tmp_path / "2025.yaml").write_text("indicators:\n  x:\n    op: '=>'\n    target: 1\n")
        load_targets(2025, directory=tmp_path)


def test_comparisons_with_rounding_tolerance():
    assert check(7 / 10 * 1.0, ">=", 0.7)
    assert check(0.1 + 0.2 + 0.4, ">=", 0.7)  # 0.7000000000000001 / 0.6999999999999999 both meet 70%
    assert not check(0.6999, ">=", 0.7)
    assert check(25.0, "<=", 25)
    assert not check(25.5, "<=", 25)
    assert not check(0.22, ">", 0.22)  # "trên 22%": exactly 22% is not above
    assert check(0.2201, ">", 0.22)
    assert check(0, "==", 0) and not check(1, "==", 0)
    assert check(float("nan"), ">=", 0.7) is None
    assert status_for(0.9, ">=", 0.95) == "Chưa đạt"
    assert status_for(0.96, ">=", 0.95) == "Đạt"
    assert status_for(0.5, None, None) == ""


def test_target_texts():
    t = load_targets(2023)
    assert target_text_vi(t.get("satisfaction_rate"), "rate", 2023) == \
        ("theo mục III.2: ≥ 95%; theo Biểu II.6: ≥ 85% "
         "(Kế hoạch ghi không thống nhất; đánh giá theo mục III.2)")
    assert target_text_vi(t.get("avg_wait_minutes"), "minutes", 2023) == "≤ 25 phút (Biểu II.6)"
    integ = t.get("national_integration_share")
    # 2022: 45,5% -> 2023 target 65,5%
    assert target_text_vi(integ, "rate", 2023, 0.455) == \
        "≥ 65,5%: năm 2022 45,5% + 20 điểm % (III.2, Biểu II.8)"
    assert integ.resolved(0.455).value == pytest.approx(0.655)
    assert integ.resolved(0.9).value == 1.0  # capped at 100%
    assert Target("x", ">=", None).resolved(None).value is None


def profile_with_targets(tmp_path: Path, targets: Path) -> Path:
    """The packaged profile with another targets folder (its other folder made absolute)."""
    from cchc_lib.config import DEFAULT_PROFILE

    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    assert 'targets = "../targets"' in text and 'plan_tasks = "../data"' in text
    text = text.replace('targets = "../targets"', f'targets = "{targets}"').replace(
        'plan_tasks = "../data"', f'plan_tasks = "{DEFAULT_PROFILE.parent.parent / "data"}"')
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = ("plan: Kế hoạch 2024\nyear: 2024\nindicators:\n  ontime_rate:\n    op: '>='\n    target: 1.0\n"
        "    source: II.2\n")


@pytest.mark.parametrize(("text", "after_the_path"), [
    # The open bracket runs on into the next line, where the parser stops at "source:".
    (GOOD.replace("target: 1.0", "target: [1.0"), " không đúng cú pháp YAML (dòng 7, cột 11)"),
    ("- ontime_rate\n", " phải gồm các mục plan, year, indicators"),
    # A misspelt section used to leave every indicator without a target, silently.
    (GOOD.replace("indicators:", "indicatorz:"),
     ": mục 'indicatorz' không có; các mục: plan, year, indicators"),
    (GOOD.replace("    source:", "    sourse:"),
     ": ontime_rate: khóa 'sourse' không có; các khóa: op, target, source, figures, decides, "
     "derived_from, relative_to_previous_year, note_vi, no_number, target_min, source_min"),
    (GOOD.replace("'>='", "'=>'"), ": ontime_rate.op '=>' không có; dùng một trong: >=, <=, >, <, =="),
    (GOOD.replace("1.0", "một trăm"),
     ": ontime_rate.target phải là một số (tỉ lệ viết dạng 0.95 cho 95%), không phải 'một trăm'"),
    (GOOD.replace("1.0", ".nan"), ": ontime_rate.target phải là một số hữu hạn, không phải 'nan'"),
    (GOOD.replace("    target: 1.0\n", "    figures: [{target: 1.0, source: II.2}]\n"),
     ": ontime_rate.figures phải liệt kê đúng hai con số, mỗi số có target và source"),
    ("indicators:\n  ontime_rate: 1.0\n",
     ": ontime_rate phải là các dòng 'khóa: giá trị' (op, target, source ...)"),
])
def test_a_broken_targets_file_names_the_file_the_indicator_and_the_key(tmp_path, text, after_the_path):
    path = tmp_path / "2024.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TargetsError) as info:
        load_targets(2024, directory=tmp_path)
    assert str(info.value) == f"tệp chỉ tiêu {path}{after_the_path}"


def test_commands_say_a_broken_targets_file_in_one_line_before_any_report_runs(tmp_path, capsys, monkeypatch,
                                                                               sample_processed_dir):
    from cchc_lib.cli import main
    from cchc_lib.config import DEFAULT_PROFILE, PROFILE_ENV

    monkeypatch.setenv(PROFILE_ENV, str(DEFAULT_PROFILE))  # restored afterwards (--profile sets it)

    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "2023.yaml").write_text(GOOD.replace("'>='", "'=>'"), encoding="utf-8")
    profile = profile_with_targets(tmp_path, targets)
    expected = (f"Lỗi: tệp chỉ tiêu {targets / '2023.yaml'}: ontime_rate.op '=>' không có; "
                "dùng một trong: >=, <=, >, <, ==\n")
    for command in (["indicators", "--period", "2023-03", "--processed", str(sample_processed_dir)],
                    ["report", "--period", "2023-03", "--processed", str(sample_processed_dir),
                     "--out", str(tmp_path / "r")]):
        assert main([*command, "--profile", str(profile)]) == 2
        assert capsys.readouterr().err == expected
    assert not (tmp_path / "r").exists()  # no report started


def test_a_misspelt_indicator_name_is_said_with_the_nearest_name(tmp_path, capsys, monkeypatch,
                                                                 sample_processed_dir):
    """A name nothing computes would leave that indicator without a target, silently."""
    from cchc_lib.cli import main
    from cchc_lib.config import DEFAULT_PROFILE, EXAMPLE_PROFILE, PROFILE_ENV
    from cchc_lib.plan import check_target_names

    monkeypatch.setenv(PROFILE_ENV, str(DEFAULT_PROFILE))  # restored afterwards (--profile sets it)

    check_target_names(2023)  # the packaged plan names only known indicators
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "2023.yaml").write_text(GOOD.replace("ontime_rate", "ontime_rat"), encoding="utf-8")
    profile = profile_with_targets(tmp_path, targets)
    assert main(["indicators", "--period", "2023-03", "--processed", str(sample_processed_dir),
                 "--profile", str(profile)]) == 2
    assert capsys.readouterr().err == (
        f"Lỗi: tệp chỉ tiêu {targets / '2023.yaml'}: chỉ tiêu 'ontime_rat' không có trong danh mục "
        "chỉ tiêu (có phải 'ontime_rate'?)\n")
    monkeypatch.setenv(PROFILE_ENV, str(EXAMPLE_PROFILE))
    check_target_names(2023)  # the example agency's plan too
