"""The agency profile: another department's name, plan, units and targets come from its own
file (the example profile shipped in cchc_lib/profiles/example-so-tu-phap/), with no code
change, down to a rendered report."""

from __future__ import annotations

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cchc_lib import config
from cchc_lib.config import ConfigError, load_profile
from cchc_lib.periods import Period

EXAMPLE = config.EXAMPLE_PROFILE


@pytest.fixture
def example_profile(monkeypatch):
    """The example agency as this run's profile; the default comes back after the test."""
    monkeypatch.setenv(config.PROFILE_ENV, str(EXAMPLE))
    return config.profile()


def test_default_profile_is_the_department_of_planning_and_investment(monkeypatch):
    monkeypatch.delenv(config.PROFILE_ENV, raising=False)
    agency = config.profile()
    assert agency.name == "Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang"
    assert agency.plan_number == "122/KH-SKH" and agency.plan_date == "28/01/2023"
    assert agency.targets_dir == config.PACKAGE_DIR / "targets"
    assert "Phòng Đăng ký kinh doanh" in agency.units
    assert [i for i, _ in agency.index_indicators] == ["ontime_rate", "online_share", "satisfaction_rate"]


def test_example_profile_reads_its_own_file():
    agency = load_profile(EXAMPLE)
    assert agency.name == "Sở Tư pháp tỉnh Hà Giang" and agency.province == "Hà Giang"
    assert agency.plan_number == "45/KH-STP" and agency.plan_date == "10/02/2023"
    assert agency.targets_dir == EXAMPLE.parent / "targets"
    assert agency.units == ("Phòng Hành chính tư pháp", "Phòng Bổ trợ tư pháp",
                            "Phòng Xây dựng và kiểm tra văn bản")
    assert agency.mail_indicators == ("ontime_rate", "online_resolved_share", "satisfaction_rate",
                                      "avg_wait_minutes")


def test_profile_with_an_unknown_key_names_file_and_key(tmp_path):
    path = tmp_path / "agency.toml"
    path.write_text('name = "Sở X"\nplan_number = "1/KH"\ntargets = "t"\nagencyy = "typo"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agency\.toml.*agencyy"):
        load_profile(path)
    path.write_text('name = "Sở X"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="plan_number, targets"):
        load_profile(path)


def test_example_targets_decide_the_status(example_profile, sample_processed):
    """The same data judged against the example's made-up plan: on-time ≥ 98% (II.1), wait
    ≤ 20 minutes, and no target at all for what that plan does not name."""
    from cchc_lib.indicators import compute_indicators

    frame = compute_indicators(sample_processed, Period.parse("2023-Q1")).set_index("indicator")
    assert frame.loc["ontime_rate", "target"] == pytest.approx(0.98)
    assert frame.loc["ontime_rate", "target_text_vi"] == "≥ 98% (II.1)"
    assert frame.loc["avg_wait_minutes", "target_text_vi"] == "≤ 20 phút (II.4)"
    assert pd.isna(frame.loc["synced_share", "target"])  # the default plan's 100% is not this plan's
    value = frame.loc["ontime_rate", "value"]
    assert frame.loc["ontime_rate", "status"] == ("Đạt" if value >= 0.98 else "Chưa đạt")


def test_example_mail_summary_speaks_for_that_agency(example_profile, sample_processed):
    from cchc_lib.indicators import compute_indicators
    from cchc_lib.publish import mail

    period = Period.parse("2023-03")
    summary = mail.summarise(compute_indicators(sample_processed, period), period)
    assert summary.rows["indicator"].tolist() == ["ontime_rate", "online_resolved_share",
                                                  "satisfaction_rate", "avg_wait_minutes"]
    text, page = mail.summary_text([summary]), mail.summary_html([summary])
    assert text.startswith("Kính gửi Ban Giám đốc Sở và các phòng, đơn vị,")
    assert "Văn phòng Sở Tư pháp trân trọng gửi" in text and "của Sở Tư pháp tỉnh Hà Giang" in text
    assert "Tuyên Quang" not in text and "Tuyên Quang" not in page
    assert mail.default_subject([period]).endswith("— Sở Tư pháp tỉnh Hà Giang")


@pytest.mark.integration
def test_example_profile_renders_a_report_with_no_code_change(monkeypatch, sample_processed_dir,
                                                             tmp_path, capsys):
    """`cchc report --profile <example>` on the sample data: the report and the index page carry
    the example agency's name, plan and targets, and nothing of the default agency's."""
    from cchc_lib.cli import main

    monkeypatch.setenv(config.PROFILE_ENV, str(config.DEFAULT_PROFILE))  # restored afterwards
    out = tmp_path / "reports"
    assert main(["report", "--period", "2023-Q1", "--profile", str(EXAMPLE),
                 "--processed", str(sample_processed_dir), "--out", str(out), "--jobs", "1"]) == 0
    page = (out / "2023-Q1" / "bao-cao-2023-Q1.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert soup.title.get_text().endswith("— Sở Tư pháp tỉnh Hà Giang")
    text = " ".join(soup.get_text(" ").split())
    assert "so với Kế hoạch 45/KH-STP" in text and "122/KH-SKH" not in text
    assert "Tuyên Quang" not in text
    rows = {}
    for tr in soup.select("table.scorecard tbody tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        rows[cells[0]] = cells
    assert rows["Tỷ lệ hồ sơ giải quyết đúng hạn"][2] == "≥ 98% (II.1)"


@pytest.mark.integration
def test_example_profile_index_page_has_its_key_indicators(example_profile, sample_processed_dir, tmp_path):
    from cchc_lib.publish.runner import ReportResult
    from cchc_lib.publish.site import write_index

    html = tmp_path / "2023-03" / "bao-cao-2023-03.html"
    html.parent.mkdir()
    html.write_text("<html></html>", encoding="utf-8")
    index = write_index([ReportResult("2023-03", html=html, size=html.stat().st_size)], tmp_path, 2023,
                        sample_processed_dir)
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    heads = [th.get_text(strip=True) for th in soup.select("table thead th")]
    assert heads == ["Kỳ báo cáo", "Hồ sơ tiếp nhận", "Đúng hạn", "Giải quyết trực tuyến", "Thời gian chờ",
                     "Dung lượng"]
    assert "Sở Tư pháp tỉnh Hà Giang" in soup.title.get_text()
    wait = soup.select("table tbody tr")[0].find_all("td")[4].get_text(strip=True)
    assert wait.endswith(" phút")


def test_a_bad_profile_on_the_command_line_exits_2_naming_the_file(tmp_path, capsys, monkeypatch):
    from cchc_lib.cli import main

    monkeypatch.setenv(config.PROFILE_ENV, str(config.DEFAULT_PROFILE))  # restored afterwards
    missing = tmp_path / "khong-co.toml"
    assert main(["indicators", "--period", "2023-03", "--profile", str(missing),
                 "--processed", str(tmp_path)]) == 2
    assert f"Không tìm thấy tệp hồ sơ cơ quan (profile): {missing}" in capsys.readouterr().err


def test_a_unit_of_the_agency_without_dossiers_is_named_as_such(example_profile):
    """The profile's units are the agency's own: asking for one that handled nothing yet says so,
    instead of "no such department"."""
    from cchc_lib.publish.batch import UnknownDepartmentError, resolve_department

    with pytest.raises(UnknownDepartmentError) as info:
        resolve_department("phong bo tro tu phap", ["Phòng Hành chính tư pháp"])
    assert str(info.value) == (
        "Phòng Bổ trợ tư pháp (Sở Tư pháp tỉnh Hà Giang) chưa có hồ sơ nào trong dữ liệu đã nhập: "
        "chưa lập được báo cáo riêng cho phòng. Các phòng có trong dữ liệu: Phòng Hành chính tư pháp.")
    with pytest.raises(UnknownDepartmentError, match="Không có phòng «Phòng Kế toán»"):
        resolve_department("Phòng Kế toán", ["Phòng Hành chính tư pháp"])
    assert resolve_department("PHÒNG hành chính TƯ PHÁP", ["Phòng Hành chính tư pháp"]) == \
        "Phòng Hành chính tư pháp"


def _minimal_profile(targets: str, extra: str = "", keys: str = "") -> str:
    return (f'name = "Sở Thử"\nplan_number = "1/KH-ST"\ntargets = "{targets}"\n{extra}'
            f"[key_indicators]\n{keys}")


@pytest.mark.parametrize(("extra", "keys", "says"), [
    # A text where a list goes was read letter by letter.
    ('units = "Phòng A"\n', "", 'khóa units phải là một danh sách tên ["...", "..."]'),
    ("", 'index = ["ontime_rate", "Đúng hạn"]\n',
     'khóa key_indicators.index phải là một danh sách cặp ["mã chỉ tiêu", "tiêu đề cột"]'),
    ("", 'mail = [["ontime_rate"]]\n', 'khóa key_indicators.mail phải là một danh sách tên ["...", "..."]'),
    ("", 'email = ["ontime_rate"]\n',
     "khóa key_indicators phải là một bảng [key_indicators] chỉ gồm index và mail"),
    # A mistyped folder left every indicator "without a target", silently.
    ('plan_tasks = "du-lieu"\n', "", "không có thư mục {tmp}/du-lieu (khóa plan_tasks)"),
])
def test_a_profile_of_the_wrong_shape_says_which_key(tmp_path, extra, keys, says):
    path = tmp_path / "profile.toml"
    path.write_text(_minimal_profile(str(config.DEFAULT_PROFILE.parent.parent / "targets"), extra, keys),
                    encoding="utf-8")
    with pytest.raises(config.ConfigError) as info:
        config.load_profile(path)
    assert str(info.value) == f"Tệp hồ sơ cơ quan {path}: {says.format(tmp=tmp_path)}."


def test_a_profile_whose_targets_folder_is_missing_says_so(tmp_path):
    path = tmp_path / "profile.toml"
    path.write_text(_minimal_profile("muc-tieu"), encoding="utf-8")
    with pytest.raises(config.ConfigError) as info:
        config.load_profile(path)
    assert str(info.value) == (f"Tệp hồ sơ cơ quan {path}: không có thư mục {tmp_path / 'muc-tieu'} "
                               "(khóa targets).")
    (tmp_path / "muc-tieu").mkdir()
    assert config.load_profile(path).targets_dir == tmp_path / "muc-tieu"
