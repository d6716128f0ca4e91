"""Publishing: an executed notebook -> one self-contained HTML file (nbconvert), with plotly.js
added once, here, instead of travelling in the notebook's outputs.

A report notebook run by :mod:`cchc_lib.runner` draws its charts through :func:`cchc_lib.charts.show`
in *deferred* mode: each chart is a ``<div>`` plus a small script that queues its ``Plotly.newPlot``
call on ``window.cchcPlots``. :func:`export_html` then puts into the page the plotly.js the charts
need — the official partial bundle ``plotly.js-basic-dist-min`` (scatter, bar, pie), vendored in
``cchc_lib/vendor/plotly/`` with its licence, of exactly the plotly.js version that the installed
Python plotly embeds — gzip-compressed and base64-encoded. A few lines of script unpack it with
the browser's own ``DecompressionStream`` (Chromium 80+, Firefox 113+), run it, then draw the
queued charts. Nothing is fetched: the page opens offline from an e-mail attachment.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "cchc"
VENDOR_DIR = PACKAGE_DIR / "vendor" / "plotly"
PLOTLY_BUNDLE = VENDOR_DIR / "plotly-basic.min.js"
PLOTLY_PACKAGE = VENDOR_DIR / "package.json"

# The queue a deferred chart pushes its drawing function onto (see charts.show).
PLOT_QUEUE = "cchcPlots"

# Unpacks the bundle, runs it as a classic script (so it defines window.Plotly as a <script>
# would), then draws every queued chart and lets later ones draw at once. A browser without
# DecompressionStream (none in the supported set: Chromium, Firefox ESR) gets a note in place of
# each chart instead of a silent blank.
LOADER_JS = """(function () {
  var payload = document.getElementById('cchc-plotlyjs');
  function drawQueued() {
    var queued = window.cchcPlots || [];
    window.cchcPlots = {push: function (draw) { draw(); }};
    queued.forEach(function (draw) { draw(); });
  }
  if (!payload || !window.DecompressionStream || !window.Response || !window.Blob) {
    Array.prototype.forEach.call(document.querySelectorAll('.plotly-graph-div'), function (div) {
      div.textContent = 'Biểu đồ cần trình duyệt mới hơn (Chrome, Edge, Firefox bản hiện hành).';
    });
    return;
  }
  var text = atob(payload.textContent.replace(/\\s+/g, ''));
  var bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  new Response(stream).text().then(function (code) {
    var script = document.createElement('script');
    script.textContent = code;
    document.head.appendChild(script);
    drawQueued();
  });
})();"""


def plotly_bundle_version() -> str:
    """The plotly.js version of the vendored partial bundle (from its npm package.json)."""
    return json.loads(PLOTLY_PACKAGE.read_text(encoding="utf-8"))["version"]


@lru_cache(maxsize=1)
def plotly_payload() -> str:
    """The vendored bundle gzip-compressed (deterministically: no timestamp) and base64-encoded."""
    packed = gzip.compress(PLOTLY_BUNDLE.read_bytes(), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def plotly_html() -> str:
    """The HTML that brings plotly.js into a page and draws its deferred charts."""
    version = plotly_bundle_version()
    return (
        f"<!-- plotly.js {version} (plotly.js-basic-dist-min, MIT licence, (c) Plotly, Inc.), "
        "gzip + base64 -->\n"
        f"<script type='application/octet-stream' id='cchc-plotlyjs' data-version='{version}' "
        f"data-encoding='gzip+base64'>{plotly_payload()}</script>\n"
        f"<script>{LOADER_JS}</script>\n"
    )


def defer_plot_script(fragment: str) -> str:
    """A plotly HTML fragment (``to_html(include_plotlyjs=False)``) whose drawing script waits on
    ``window.cchcPlots`` until plotly.js is there, instead of calling ``Plotly.newPlot`` at once.
    The figure JSON inside is already safe in a script (plotly writes ``</`` as ``<\\/``)."""

    def wrap(match: re.Match) -> str:
        opening, body = match.group(1), match.group(2)
        if "Plotly.newPlot" not in body:
            return match.group(0)
        return (f"{opening}(window.{PLOT_QUEUE} = window.{PLOT_QUEUE} || []).push(function () {{"
                f"{body}}});</script>")

    return re.sub(r"(<script[^>]*>)(.*?)</script>", wrap, fragment, flags=re.DOTALL)


def has_deferred_charts(nb) -> bool:
    """Whether any output of the notebook queues a chart for plotly.js added at export."""
    marker = f"window.{PLOT_QUEUE}"
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = output.get("data", {}).get("text/html", "")
            if marker in ("".join(text) if isinstance(text, list) else text):
                return True
    return False


def html_exporter():
    """nbconvert's HTMLExporter on the project template: lab look, no inputs, no prompts, no
    require.js / MathJax / mermaid / widget scripts (all CDN), print CSS, ``lang="vi"``."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code="vi",
        mathjax_url="",
        require_js_url="",
        embed_images=True,
        anchor_link_text="",
    )


@lru_cache(maxsize=1)
def _exporter():
    # Built once per process: a batch worker exports many reports with the same template.
    return html_exporter()


def export_html(nb, title: str | None = None) -> str:
    """Executed notebook -> HTML. Warnings a kernel printed on stderr are diagnostics for the
    record (kept in the .ipynb), not report content. plotly.js is added (once, compressed) when
    the notebook has deferred charts."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    if title:
        nb.metadata["title"] = title
    resources = {"cchc_plotlyjs": plotly_html() if has_deferred_charts(nb) else ""}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return body
