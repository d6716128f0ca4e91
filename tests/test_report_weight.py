"""Reports light enough for any mailbox (issue 15): the vendored partial plotly.js bundle and its
version, the compressed payload, charts queued for plotly.js added at export, the executed
notebook without plotly.js, the sizes, a month + quarter e-mail under 2 MB, and the charts drawn
by the partial bundle exactly as by the full one (headless Chromium)."""

from __future__ import annotations

import base64
import email
import gzip
import json
import re
import tomllib
from pathlib import Path

import nbformat
import pandas as pd
import plotly
import plotly.offline
import pytest
from bs4 import BeautifulSoup

from cchc_lib.publish import charts, export
from tests.test_browser import chromium  # noqa: F401 - the session's Chromium fixture
from tests.test_reports import N_CHARTS, _monthly

ROOT = Path(__file__).resolve().parent.parent


# -- the vendored bundle -----------------------------------------------------------------------


def test_vendored_bundle_is_the_partial_bundle_of_the_plotlyjs_that_python_plotly_embeds():
    """When plotly (Python) is upgraded, its plotly.js changes: the vendored bundle must be
    replaced by plotly.js-basic-dist-min of the same version (see cchc_lib/vendor/plotly)."""
    embedded = plotly.offline.get_plotlyjs_version()
    package = json.loads(export.PLOTLY_PACKAGE.read_text(encoding="utf-8"))
    assert package["name"] == "plotly.js-basic-dist-min"
    assert package["version"] == export.plotly_bundle_version() == embedded
    head = export.PLOTLY_BUNDLE.read_bytes()[:200].decode("utf-8")
    assert f"plotly.js (basic - minified) v{embedded}" in head
    licence = (export.VENDOR_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "MIT" in licence or "Permission is hereby granted" in licence


def test_pyproject_pins_the_plotly_that_was_vendored_for():
    """A pin, so that a fresh install cannot bring another plotly.js silently."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [d for d in deps if re.match(r"plotly\s*==", d)]
    assert pins == [f"plotly=={plotly.__version__}"], deps


def test_payload_is_the_bundle_gzipped_and_base64_encoded():
    payload = export.plotly_payload()
    assert gzip.decompress(base64.b64decode(payload)) == export.PLOTLY_BUNDLE.read_bytes()
    assert len(payload) < 0.5 * export.PLOTLY_BUNDLE.stat().st_size  # 1.19 MB -> about 0.53 MB
    html = export.plotly_html()
    assert html.count(payload) == 1 and "DecompressionStream" in html
    assert f'data-version="{plotly.offline.get_plotlyjs_version()}"' in html


# -- charts queued for the export ---------------------------------------------------------------


def test_show_in_a_report_run_queues_the_chart_and_carries_no_plotlyjs(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setenv(charts.PLOTLYJS_ENV, "export")
    monkeypatch.setattr(charts, "_plotlyjs_sent", False)
    monthly = _monthly({"online_share": [(7, 10, 0.7), (8, 10, 0.8)]})
    charts.show(charts.online_share_chart(monthly))
    (html,) = [obj.data for obj in shown]
    assert "plotly.js v" not in html and len(html) < 50_000
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.DOTALL)
    drawing = [s for s in scripts if "Plotly.newPlot" in s]
    assert len(drawing) == 1
    assert drawing[0].startswith("(window.cchcPlots = window.cchcPlots || []).push(function () {")
    assert drawing[0].endswith("});")
    assert charts._plotlyjs_sent is False  # the interactive path is untouched


def test_defer_plot_script_leaves_other_scripts_alone():
    fragment = ("<div><script>window.PlotlyConfig = {};</script><div id='g'></div>"
                "<script>if (document.getElementById('g')) { Plotly.newPlot('g', [], {}) };</script></div>")
    out = export.defer_plot_script(fragment)
    assert "<script>window.PlotlyConfig = {};</script>" in out
    assert ("<script>(window.cchcPlots = window.cchcPlots || []).push(function () {if "
            "(document.getElementById('g')) { Plotly.newPlot('g', [], {}) };});</script>") in out


def test_export_adds_plotlyjs_only_to_pages_with_charts():
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Không có biểu đồ")])
    assert "cchc-plotlyjs" not in export.export_html(plain)
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": "<script>(window.cchcPlots = window.cchcPlots || [])"
                                           ".push(function () {});</script>"})]
    page = export.export_html(nbformat.v4.new_notebook(cells=[cell]))
    assert len(BeautifulSoup(page, "html.parser").select("script#cchc-plotlyjs")) == 1


# -- the sample's reports -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["2023-03", "2023-Q1", "2023"])
def test_report_weighs_under_a_megabyte_and_its_notebook_carries_no_plotlyjs(rendered_reports, code):
    results, _ = rendered_reports
    result = results[code]
    assert result.html.stat().st_size <= 1_000_000
    soup = BeautifulSoup(result.html.read_text(encoding="utf-8"), "html.parser")
    assert len(soup.select("div.plotly-graph-div")) == N_CHARTS
    assert len(soup.select("script#cchc-plotlyjs")) == 1
    # The record of the run: every chart's figure, no plotly.js.
    record = result.notebook.read_text(encoding="utf-8")
    assert "plotly.js v" not in record and "cchc-plotlyjs" not in record
    assert record.count("Plotly.newPlot") == N_CHARTS
    assert result.notebook.stat().st_size < 300_000


def test_month_and_quarter_email_goes_out_under_two_megabytes(rendered_reports, sample_processed_dir,
                                                              tmp_path, monkeypatch):
    from cchc_lib.cli import main

    monkeypatch.chdir(tmp_path)  # no cchc.toml of the developer's
    results, _ = rendered_reports
    month, quarter = results["2023-03"].html, results["2023-Q1"].html
    eml = tmp_path / "thu.eml"
    code = main(["send", str(month), str(quarter), "--to", "lanhdao@example.vn", "--dry-run", str(eml),
                 "--processed", str(sample_processed_dir), "--max-size", "2"])
    assert code == 0
    raw = eml.read_bytes()
    assert len(raw) < 2_000_000
    message = email.message_from_bytes(raw, policy=email.policy.default)
    attached = {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}
    # Sent as the reports themselves (not squeezed into a zip), each byte for byte.
    assert attached == {month.name: month.read_bytes(), quarter.name: quarter.read_bytes()}


# -- the partial bundle draws what the full bundle draws ------------------------------------------

SHAPES_PROBE = """Array.from(document.querySelectorAll('.plotly-graph-div')).map(g => ({
  paths: g.querySelectorAll('path').length, texts: g.querySelectorAll('text').length,
  patterns: g.querySelectorAll('pattern').length,
  words: Array.from(g.querySelectorAll('text')).map(t => t.textContent).join('|')}))"""


def test_charts_drawn_by_the_partial_bundle_match_the_full_bundle(chromium, rendered_reports,  # noqa: F811
                                                                   tmp_path):
    """The same report page with python plotly's own full plotly.js in place of the partial
    bundle draws every chart with the same SVG paths, texts, fill patterns and words."""
    from tests.browser import open_page

    results, _ = rendered_reports
    page = results["2023-Q1"].html.read_text(encoding="utf-8")
    full_js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    full_payload = base64.b64encode(gzip.compress(full_js, mtime=0)).decode("ascii")
    payload = export.plotly_payload()
    assert page.count(payload) == 1
    full = tmp_path / "full.html"
    full.write_text(page.replace(payload, full_payload), encoding="utf-8")
    partial = open_page(results["2023-Q1"].html, probe=SHAPES_PROBE)
    reference = open_page(full, probe=SHAPES_PROBE)
    for drawn in (partial, reference):
        assert drawn.charts == drawn.drawn == N_CHARTS
        assert drawn.console_errors == []
    assert partial.probe == reference.probe
    assert sum(chart["patterns"] for chart in partial.probe) > 0  # the index charts' hatching


STYLES_PROBE = """Array.from(document.body.querySelectorAll('*'))
  .filter(e => !e.closest('.plotly-graph-div'))
  .map(e => { const cs = getComputedStyle(e), o = {};
    for (let i = 0; i < cs.length; i++) {
      if (!cs[i].startsWith('--')) o[cs[i]] = cs.getPropertyValue(cs[i]);
    }
    return o; })"""


def test_trimmed_css_styles_every_element_as_the_full_jupyterlab_css(chromium, rendered_reports,  # noqa: F811
                                                                      tmp_path):
    """The JupyterLab CSS cut to the rules and custom properties the page uses: every element
    outside the charts has the same computed style, property by property, as with all of it."""
    from tests.browser import open_page

    results, _ = rendered_reports
    nb = nbformat.read(results["2023-Q1"].notebook, as_version=4)
    full = tmp_path / "full.html"
    full.write_text(export.export_html(nb, trim=False), encoding="utf-8")
    trimmed = tmp_path / "trimmed.html"
    trimmed.write_text(export.export_html(nb), encoding="utf-8")
    assert full.stat().st_size - trimmed.stat().st_size > 200_000
    styles = [open_page(path, probe=STYLES_PROBE).probe for path in (full, trimmed)]
    assert len(styles[0]) == len(styles[1]) > 500
    differing = [(i, k) for i, (a, b) in enumerate(zip(*styles, strict=True)) for k in a if a[k] != b.get(k)]
    assert differing == []


def test_trim_css_keeps_what_can_match_and_the_properties_it_uses():
    css = (":root{--used:1px;--via:var(--deep);--deep:red;--unused:blue}"
           ".a{margin:var(--used)}.b .c{color:var(--via)}.a,.zz{padding:0}.zz{color:green}"
           "p:not(.zz){top:0}[data-x='.yy']{left:0}@media print{.zz{x:1}.a{y:2}}")
    trimmed = export.trim_css(css, {"a", "b"})
    assert ".zz" not in trimmed.replace(":not(.zz)", "")
    assert ".a{margin:var(--used)}" in trimmed and ".a{padding:0}" in trimmed
    assert "p:not(.zz){top:0}" in trimmed and '[data-x=".yy"]{left:0}' in trimmed
    assert "@media print{.a{y:2}}" in trimmed
    assert ".b .c" not in trimmed  # c is on no element
    final = export.drop_unused_properties(trimmed)
    assert ":root{--used:1px}" in final  # --via only served .b .c, gone; so is --deep
    assert export.drop_unused_properties(trimmed, elsewhere="style='color: var(--via)'").startswith(
        ":root{--used:1px;--via:var(--deep);--deep:red}")


# -- one warm kernel per batch worker -------------------------------------------------------------


def _state_notebook(path: Path) -> Path:
    from nbformat.v4 import new_code_cell, new_notebook

    params = new_code_cell('period = "2023-01"\ndepartment = None\nprocessed_dir = "."')
    params.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import os\n"
        "assert 'left_by_the_previous_report' not in globals(), 'state of an earlier report'\n"
        "left_by_the_previous_report = period\n"
        "print('kernel', os.getpid(), 'cwd', os.getcwd(), 'plotly', os.environ.get('CCHC_PLOTLYJS'))")
    nb = new_notebook(cells=[params, body], metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_a_batch_worker_runs_its_reports_in_one_kernel_reset_between_them(tmp_path):
    from cchc_lib.publish.batch import render_batch

    notebook = _state_notebook(tmp_path / "state.ipynb")
    results = render_batch(["2023-01", "2023-02", "2023-03"], tmp_path, tmp_path / "out", jobs=1,
                           notebook=notebook)
    assert [r.error for r in results] == [None, None, None]
    records = [nbformat.read(r.notebook, as_version=4) for r in results]
    printed = [rec.cells[2].outputs[0]["text"].split() for rec in records]
    assert len({words[1] for words in printed}) == 1  # the same kernel process for all three
    assert {words[3] for words in printed} == {str(tmp_path)}  # the notebook's own folder
    assert {words[5] for words in printed} == {"export"}
    # Each record reads as a fresh run: execution counts from 1, its own parameters.
    for record, code in zip(records, ["2023-01", "2023-02", "2023-03"], strict=True):
        assert [c.execution_count for c in record.cells if c.cell_type == "code"] == [1, 2, 3]
        assert f'period = "{code}"' in record.cells[1].source


def test_data_cache_rereads_changed_files_and_hands_out_copies(sample_processed_dir, tmp_path):
    import shutil

    from cchc_lib import datacache
    from cchc_lib.index766.counts import index_section_frames
    from cchc_lib.periods import Period
    from cchc_lib.processed import load_processed

    folder = tmp_path / "processed"
    shutil.copytree(sample_processed_dir, folder)
    first = datacache.load_processed(folder)
    first.dossiers["department"] = "đổi trong báo cáo trước"  # a report that alters its data
    second = datacache.load_processed(folder)
    fresh = load_processed(folder)
    pd.testing.assert_frame_equal(second.dossiers, fresh.dossiers)
    # Remembered index frames equal a computation from scratch on data read anew.
    period = Period.parse("2023-Q1")
    for _ in range(2):
        remembered = index_section_frames(datacache.load_processed(folder), period)
        expected = index_section_frames(fresh, period)
        for name in expected:
            pd.testing.assert_frame_equal(remembered[name], expected[name])
    # A file rewritten (here: fewer dossiers) is read again.
    fewer = fresh.dossiers.iloc[: len(fresh.dossiers) // 2]
    fewer.to_parquet(folder / "dossiers.parquet")
    assert len(datacache.load_processed(folder).dossiers) == len(fewer)
    after = index_section_frames(datacache.load_processed(folder), period)
    again = index_section_frames(load_processed(folder), period)
    pd.testing.assert_frame_equal(after["trend"], again["trend"])


# -- the command's quick exit ---------------------------------------------------------------------


def test_cchc_command_flushes_everything_and_keeps_exit_codes_on_its_quick_exit(tmp_path,
                                                                                   sample_processed_dir):
    """`cchc` leaves with os._exit after main(): what it printed is all there, and the exit
    codes are main()'s (1 for a failed report, 2 for an unknown department, 0 otherwise)."""
    import subprocess
    import sys

    def cchc(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cchc_lib", *args], capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)

    schema = cchc("schema", "dossiers")
    assert schema.returncode == 0
    assert schema.stdout.rstrip().splitlines()[-1].strip()  # the last line made it out
    assert "received_at" in schema.stdout
    empty = tmp_path / "processed"
    empty.mkdir()
    missing = cchc("report", "--period", "2023-03", "--processed", str(empty), "--out", str(tmp_path / "r"))
    assert missing.returncode == 1 and "Chưa có dữ liệu đã xử lý" in missing.stderr
    parameters = nbformat.v4.new_code_cell('period = "2023-03"')
    parameters.metadata["tags"] = ["parameters"]
    broken = tmp_path / "hong.ipynb"
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=[
        parameters, nbformat.v4.new_code_cell("raise RuntimeError('kỳ hỏng')")],
        metadata={"kernelspec": kernel}), broken)
    failed = cchc("report", "--period", "2023-03", "--processed", str(sample_processed_dir),
                  "--out", str(tmp_path / "r"), "--notebook", str(broken))
    assert failed.returncode == 1
    assert "Báo cáo 2023-03: lỗi ở ô số 2" in failed.stderr and "RuntimeError: kỳ hỏng" in failed.stderr
    unknown = cchc("report", "--period", "2023-03", "--department", "Phòng Không Có",
                   "--processed", str(empty), "--out", str(tmp_path / "r"))
    assert unknown.returncode == 2 and "Phòng Không Có" in unknown.stderr
