"""The published HTML in a real headless Chromium with the network cut: every chart drawn by
the embedded plotly.js, no console errors, no request leaving the file, markup shown as text."""

from __future__ import annotations

import re

import pytest

from tests.browser import find_chromium, open_page
from tests.browser_process import installed_or_skip
from tests.report_fixtures import MARKUP_NAME
from tests.test_reports import N_CHARTS


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Debian chromium, installed when missing (as `make browser` does).

    Where nobody can install it (an analyst's machine without root), the browser checks are
    skipped with a message saying how to get them; as root (CI) a failed install fails."""
    return installed_or_skip(find_chromium, "chromium", "browser checks")


def _assert_drawn_offline(page) -> None:
    assert page.charts == N_CHARTS
    assert page.drawn == page.charts, f"{page.drawn}/{page.charts} charts drawn"
    assert page.plotly == "object"
    assert page.console_errors == []
    assert page.dialogs == []
    assert page.requests and all(url.startswith("file://") for url in page.requests), page.requests


@pytest.mark.parametrize("code", ["2023-Q1", "2023"])
def test_sample_report_draws_every_chart_offline(chromium, rendered_reports, code):
    results, _ = rendered_reports
    page = open_page(results[code].html)
    _assert_drawn_offline(page)
    assert "Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang" in page.text


def test_markup_in_a_procedure_name_shows_as_text(chromium, planted_report):
    result, _, _ = planted_report
    probe = """({
      tags: document.querySelectorAll('table.late b, table.late script').length,
      cell: document.querySelector('table.late tbody tr td:nth-child(2)').textContent,
      ticks: Array.from(document.querySelectorAll('.xtick text')).map(t => t.textContent)
    })"""
    page = open_page(result.html, probe=probe)
    _assert_drawn_offline(page)
    assert page.probe["tags"] == 0
    assert page.probe["cell"] == MARKUP_NAME
    assert MARKUP_NAME in page.text
    # The Pareto axis shows the name as typed (shortened to 38 characters), not bold text.
    assert MARKUP_NAME[:30] in "".join(page.probe["ticks"])


# Measured in the printed layout (print media at the A4 printable width): how far each chart's
# drawing and each table reach, and every word of a table cell broken across two lines (what
# a column squeezed to a letter's width does). Hyphens and slashes are fair places to break.
PRINT_PROBE = """(() => {
  const page = document.documentElement.clientWidth;
  const right = (el) => el ? Math.ceil(el.getBoundingClientRect().right) : 0;
  const graphs = Array.from(document.querySelectorAll('.plotly-graph-div'));
  const split = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.parentElement.closest('td, th') ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/[^\\s\\/-]+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
      if (lines.size > 1) split.push(m[0]);
    }
  }
  return {page, scroll: document.body.scrollWidth, split,
    graphs: graphs.map(g => Math.max(right(g), right(g.querySelector('svg.main-svg')))),
    tables: Array.from(document.querySelectorAll('table')).map(right)};
})()"""


def test_quarterly_report_prints_on_a4(chromium, rendered_reports, tmp_path):
    """Printed to A4 portrait, nothing is cut off at the right and no table column is squeezed
    to a letter per line; the PDF is A4."""
    from tests.browser import A4_PRINTABLE

    results, _ = rendered_reports
    pdf = tmp_path / "q1.pdf"
    page = open_page(results["2023-Q1"].html, probe=PRINT_PROBE, print_media=True, pdf=pdf)
    _assert_drawn_offline(page)
    probe = page.probe
    assert probe["page"] <= A4_PRINTABLE
    assert probe["scroll"] <= probe["page"]
    assert len(probe["graphs"]) == N_CHARTS
    assert max(probe["graphs"]) <= probe["page"], probe["graphs"]
    assert probe["tables"] and max(probe["tables"]) <= probe["page"], probe["tables"]
    assert probe["split"] == []
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = {tuple(round(float(v)) for v in box.split()[2:])
             for box in re.findall(rb"/MediaBox \[([^\]]*)\]", data)}
    assert boxes == {(595, 842)}  # A4 portrait in points, every page


def test_plan_task_table_badges_and_headers_stay_in_their_columns(chromium, sample_processed_dir,
                                                                   tmp_path):
    """On screen and on A4, every state badge lies inside its own cell (it wraps rather than
    running over the completion date) and no header's text runs into the next header."""
    from cchc_lib.publish.plan_report import render_plan_report

    result = render_plan_report(2023, None, sample_processed_dir, tmp_path)
    probe = """(() => {
      const inside = (inner, outer) => {
        const a = inner.getBoundingClientRect(), b = outer.getBoundingClientRect();
        return a.left >= b.left - 0.5 && a.right <= b.right + 0.5;
      };
      const tables = Array.from(document.querySelectorAll('table.tasks'));
      const badges = tables.flatMap(t => Array.from(t.querySelectorAll('td .status')));
      const heads = tables.flatMap(t => Array.from(t.querySelectorAll('th')));
      return {
        badges: badges.length,
        outside: badges.filter(b => !inside(b, b.closest('td'))).map(b => b.textContent),
        overflowing: heads.filter(h => h.scrollWidth > h.clientWidth).map(h => h.textContent),
        states: badges.map(b => b.textContent),
      };
    })()"""
    for print_media in (False, True):
        page = open_page(result.html, probe=probe, print_media=print_media)
        assert page.console_errors == []
        assert page.probe["badges"] >= 21  # the plan's 21 tasks
        assert "Hoàn thành đúng hạn" in page.probe["states"]
        assert page.probe["outside"] == [], print_media
        assert page.probe["overflowing"] == [], print_media
