"""The explorer in a real JupyterLab and a real headless Chromium, offline: open the notebook,
run all cells, change the department control on the page, and check that the chart's data in the
page became that department's numbers. A screenshot is kept in tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import pytest

from cchc_lib.indicators import compute_many
from cchc_lib.periods import Period, periods_between
from tests.browser import find_chromium

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEPARTMENT = "Phòng Kinh tế ngành"

KERNEL_READY = """(() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.connectionStatus === 'connected' && k.status === 'idle' && w.content
            && w.content.widgets && w.content.widgets.length);
})()"""

# The online-share line of the chart as plotly holds it in the page (the trace's meta is the
# indicator id), or null while the figure is not drawn yet.
CHART_DATA = """(() => {
  const g = document.querySelector('.js-plotly-plot');
  if (!g || !g.data || !g.data.length || !g.querySelector('svg.main-svg')) return null;
  const t = g.data.find(t => t.meta === 'online_share');
  return t ? {x: Array.from(t.x), y: Array.from(t.y, v => (v === null ? null : Number(v)))} : null;
})()"""

PICK_DEPARTMENT = """(() => {
  const box = Array.from(document.querySelectorAll('.widget-dropdown'))
    .find(b => (b.querySelector('label') || {}).textContent === 'Phòng');
  const select = box.querySelector('select');
  const i = Array.from(select.options).findIndex(o => o.value === %s);
  select.selectedIndex = i;
  select.dispatchEvent(new Event('change', {bubbles: true}));
  return i;
})()"""


DROPDOWNS = """Array.from(document.querySelectorAll('.widget-dropdown')).map(b => ({
  label: (b.querySelector('label') || {}).textContent,
  options: Array.from(b.querySelectorAll('option'), o => [o.value, o.textContent])}))"""


@pytest.fixture(scope="module")
def chromium():
    if find_chromium() is None:
        pytest.skip("chromium not installed (make browser)")


def _expected(data, department: str | None) -> list[float]:
    """The online share by month of 2023 straight from the engine: the whole department, or one
    department's group of the by-department breakdown (another path than the explorer's filter)."""
    months = periods_between(Period.parse("2023-01"), Period.parse("2023-12"), "month")
    rows = compute_many(data, months, by="overall" if department is None else "department",
                        with_changes=False)
    rows = rows[rows["indicator"] == "online_share"]
    if department is not None:
        rows = rows[rows["group"] == department]
    return rows["value"].astype(float).tolist()


def _close(page_values: list, expected: list[float]) -> bool:
    pairs = zip(page_values, expected, strict=False)
    return len(page_values) == len(expected) and all(
        v is not None and math.isclose(v, e, abs_tol=1e-12) for v, e in pairs)


def test_department_control_in_jupyterlab_redraws_the_chart(chromium, sample_processed,
                                                            sample_processed_dir, tmp_path):
    from tests.lab_browser import chromium_page, jupyterlab

    root = tmp_path / "lab"
    (root / "notebooks").mkdir(parents=True)
    (root / "data").mkdir()
    shutil.copy(NOTEBOOK, root / "notebooks" / "explore.ipynb")
    (root / "data" / "processed").symlink_to(sample_processed_dir, target_is_directory=True)
    overall, department = _expected(sample_processed, None), _expected(sample_processed, DEPARTMENT)
    assert overall != department

    with jupyterlab(root) as (base, token), \
            chromium_page(f"{base}/lab/tree/notebooks/explore.ipynb?token={token}") as page:
        page.wait_for(KERNEL_READY, 120, "the notebook and its cchc kernel")
        page.eval("window.jupyterapp.commands.execute('notebook:run-all-cells')", await_promise=True)
        before = page.wait_for(CHART_DATA, 180, "the explorer's chart")
        assert before["x"] == [f"T{m}/2023" for m in range(1, 13)]
        assert _close(before["y"], overall), (before["y"], overall)

        picked = page.eval(PICK_DEPARTMENT % json.dumps(DEPARTMENT))
        assert picked > 0, page.eval(DROPDOWNS)
        deadline, after = time.monotonic() + 60, before
        while time.monotonic() < deadline and not _close(after["y"], department):
            page.cdp.pump(0.5)
            after = page.eval(CHART_DATA) or after
        page.cdp.pump(1.0)  # let the tables under the chart settle for the screenshot
        shot = page.screenshot(ARTIFACTS / "explorer-jupyterlab.png")
        assert _close(after["y"], department), (after["y"], department)
        text = page.eval("document.body.innerText")
        requests, exceptions = page.requests(), page.exceptions()

    assert shot.stat().st_size > 10_000
    assert DEPARTMENT in text and "Tháng 12/2023" in text  # the table under the chart
    offsite = [u for u in requests if not u.startswith((base, "data:", "blob:", "about:"))]
    assert offsite == []
    assert exceptions == []
