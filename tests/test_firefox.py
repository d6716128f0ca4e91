"""The published HTML in a real headless Firefox (Debian firefox-esr) with the network cut:
every chart drawn by the compressed plotly.js, no console errors, no request leaving the file,
and printed on A4 with the charts redrawn at the printable width."""

from __future__ import annotations

import pytest

from tests.browser import A4_PRINTABLE
from tests.browser_process import installed_or_skip
from tests.firefox import find_firefox, open_page, pdf_page_boxes
from tests.report_fixtures import MARKUP_NAME
from tests.test_reports import N_CHARTS


@pytest.fixture(scope="session")
def firefox() -> str:
    """Debian's firefox-esr, installed when missing (as `make browser` does); skipped with a
    message where nobody can install it, a failure as root (CI) when the install fails."""
    return installed_or_skip(find_firefox, "firefox-esr", "Firefox checks")


def _assert_drawn_offline(page) -> None:
    assert page.charts == N_CHARTS
    assert page.drawn == page.charts, f"{page.drawn}/{page.charts} charts drawn"
    assert page.plotly == "object"
    assert page.console_errors == []
    assert page.dialogs == []
    # Only the page's own inline data (the lab CSS's embedded font), never the network.
    assert all(url.startswith(("file://", "data:")) for url in page.requests), page.requests


@pytest.mark.parametrize("code", ["2023-Q1", "2023"])
def test_sample_report_draws_every_chart_offline_in_firefox(firefox, rendered_reports, code):
    results, _ = rendered_reports
    probe = "Array.from(document.querySelectorAll('svg.main-svg .xtick text')).length"
    page = open_page(results[code].html, probe=probe)
    _assert_drawn_offline(page)
    assert page.probe > 0  # axes written, not only an empty SVG
    assert "Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang" in page.text


def test_markup_in_a_procedure_name_shows_as_text_in_firefox(firefox, planted_report):
    result, _, _ = planted_report
    probe = """({tags: document.querySelectorAll('table.late b, table.late script').length,
                 cell: document.querySelector('table.late tbody tr td:nth-child(2)').textContent})"""
    page = open_page(result.html, probe=probe)
    _assert_drawn_offline(page)
    assert page.probe == {"tags": 0, "cell": MARKUP_NAME}


def test_quarterly_report_prints_on_a4_in_firefox(firefox, rendered_reports, tmp_path):
    """Printed on A4 portrait: every page of the PDF is A4 and, when the print starts, every
    chart is redrawn within the printable width (the page's beforeprint handler)."""
    results, _ = rendered_reports
    pdf = tmp_path / "q1-firefox.pdf"
    page = open_page(results["2023-Q1"].html, pdf=pdf)
    _assert_drawn_offline(page)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = pdf_page_boxes(data)
    assert len(boxes) >= 3  # a quarterly report runs over several pages
    # A4 portrait is 595.3 x 841.9 points; Firefox rounds the width up.
    assert all(box[:2] == (0, 0) and box[2] in (595, 596) and box[3] == 842 for box in boxes), boxes
    assert len(page.printed) == N_CHARTS
    assert all(0 < width <= A4_PRINTABLE for width in page.printed), page.printed
