"""Publishing: an executed notebook -> one self-contained HTML file (nbconvert), with plotly.js
added once, here, instead of travelling in the notebook's outputs.

A report notebook run by :mod:`cchc_lib.publish.runner` draws its charts through
:func:`cchc_lib.publish.charts.show` in *deferred* mode: each chart is a ``<div>`` plus a small
script that queues its ``Plotly.newPlot`` call on ``window.cchcPlots``. :func:`export_html` then
puts into the page the plotly.js the charts need — the official partial bundle
``plotly.js-basic-dist-min`` (scatter, bar, pie), vendored in ``cchc_lib/vendor/plotly/`` with its
licence, of exactly the plotly.js version that the installed Python plotly embeds — gzip-compressed
and base64-encoded. A few lines of script unpack it with the browser's own ``DecompressionStream``
(Chromium 80+, Firefox 113+), run it, then draw the queued charts. Nothing is fetched: the page
opens offline from an e-mail attachment.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import os
import re
import threading
from functools import lru_cache
from typing import Any

from cchc_lib.config import TEMPLATES_DIR
from cchc_lib.config import VENDOR_DIR as PACKAGE_VENDOR_DIR

TEMPLATE_NAME = "cchc"
VENDOR_DIR = PACKAGE_VENDOR_DIR / "plotly"
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
        f'<script type="application/octet-stream" id="cchc-plotlyjs" data-version="{version}" '
        f'data-encoding="gzip+base64">{plotly_payload()}</script>\n'
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
        # The notebook validated once, after the preprocessors, not after each of the dozen
        # (most of them disabled): a twelfth of the validating, the same check.
        optimistic_validation=True,
    )


_exporter_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # A batch worker is forked; a lock held by the parent's warm-up thread would never open.
    global _exporter_lock
    _exporter_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


@lru_cache(maxsize=1)
def _exporter():
    # Built once per process: a batch worker exports many reports with the same template.
    return html_exporter()


def warm_exporter() -> None:
    """Build the exporter and compile its templates by exporting an empty notebook (what the
    first export of a process would otherwise wait for)."""
    import nbformat

    try:
        export_html(nbformat.v4.new_notebook(), trim=False)
    except Exception:  # noqa: BLE001 - the real export reports any problem
        pass


# -- the page's CSS: only the rules it can use ---------------------------------------------------

# The JupyterLab theme CSS that the lab template inlines (240 KB) styles editors, widgets, menus,
# code and much else a report never shows. Blocks this large are trimmed to the rules whose
# selectors can match the page; the report's own CSS (cchc.css, small) is left as written.
TRIM_CSS_ABOVE = 50_000
_STYLE_BLOCK = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL)
_CLASS_ATTR = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_NOT_A_CLASS = re.compile(r"\([^()]*\)|\[[^\]]*\]|\"[^\"]*\"|'[^']*'")
_CLASS_NAME = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")


def page_classes(html: str) -> set[str]:
    """Every class name written in the page's markup."""
    return {name for a, b in _CLASS_ATTR.findall(html) for name in (a or b).split()}


def _selector_can_match(selector: str, classes: set[str] | frozenset[str]) -> bool:
    # Classes inside :not(...), :is(...) or [attr="..."] do not have to be on the page.
    needed = _CLASS_NAME.findall(_NOT_A_CLASS.sub("", selector))
    return all(name in classes for name in needed)


_NESTING = ("media", "supports", "layer")


def _parse_rules(rules: Any) -> tuple[Any, ...]:
    """tinycss2 rules as plain tuples: ("rule", selectors, body), ("at", keyword, prelude,
    nested) or ("raw", text) — parsed once, filtered for many pages."""
    import tinycss2

    out: list[tuple[Any, ...]] = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = tuple(s.strip() for s in tinycss2.serialize(rule.prelude).split(","))
            out.append(("rule", selectors, tinycss2.serialize(rule.content)))
        elif rule.type == "at-rule":
            if rule.lower_at_keyword in _NESTING and rule.content is not None:
                nested = _parse_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                               skip_whitespace=True))
                out.append(("at", rule.at_keyword, tinycss2.serialize(rule.prelude), nested))
            else:
                out.append(("raw", rule.serialize()))
    return tuple(out)


@lru_cache(maxsize=4)
def _parsed_stylesheet(css: str) -> tuple:
    # Every report of a process inlines the same JupyterLab CSS: tokenised once (0.2-0.5 s).
    import tinycss2

    return _parse_rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def _trim_rules(rules: tuple, classes: frozenset[str]) -> str:
    kept = []
    for rule in rules:
        if rule[0] == "rule":
            usable = [s for s in rule[1] if s and _selector_can_match(s, classes)]
            if usable:
                kept.append(",".join(usable) + "{" + rule[2] + "}")
        elif rule[0] == "at":
            inner = _trim_rules(rule[3], classes)
            if inner:
                kept.append(f"@{rule[1]}{rule[2]}{{{inner}}}")
        else:
            kept.append(rule[1])
    return "".join(kept)


def trim_css(css: str, classes: set[str]) -> str:
    """``css`` without the rules none of whose selectors can match an element of a page with
    these ``classes`` (custom properties on :root and element rules are kept)."""
    return _trim_css(css, frozenset(classes))


@lru_cache(maxsize=8)
def _trim_css(css: str, classes: frozenset[str]) -> str:
    return _trim_rules(_parsed_stylesheet(css), classes)


_VAR_REF = re.compile(r"var\(\s*(--[_a-zA-Z0-9-]+)")


def drop_unused_properties(css: str, elsewhere: str = "") -> str:
    """``css`` without the custom properties (``--jp-...: value``) that nothing uses: neither a
    declaration of ``css`` nor ``elsewhere`` (the rest of the page), directly or through another
    custom property that is used."""
    return _drop_unused(css, frozenset(_VAR_REF.findall(elsewhere)))


@lru_cache(maxsize=8)
def _drop_unused(css: str, used_elsewhere: frozenset[str]) -> str:
    import tinycss2

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)

    def declarations(rule):
        return [d for d in tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                           skip_whitespace=True)
                if d.type == "declaration"]

    def walk(rule_list):
        for rule in rule_list:
            if rule.type == "qualified-rule":
                yield rule
            elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword in (
                    "media", "supports", "layer"):
                yield from walk(tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                         skip_whitespace=True))

    defined: dict[str, list[str]] = {}
    used = set(used_elsewhere)
    for rule in walk(rules):
        for decl in declarations(rule):
            value = tinycss2.serialize(decl.value)
            if decl.name.startswith("--"):
                defined.setdefault(decl.name, []).append(value)
            else:
                used.update(_VAR_REF.findall(value))
    pending = list(used)
    while pending:  # what a used property's value uses is used too
        for value in defined.get(pending.pop(), []):
            for name in _VAR_REF.findall(value):
                if name not in used:
                    used.add(name)
                    pending.append(name)

    def rebuild(rule_list) -> str:
        out = []
        for rule in rule_list:
            if rule.type == "qualified-rule":
                kept = [d for d in declarations(rule) if not d.name.startswith("--") or d.name in used]
                if kept:
                    body = ";".join(f"{d.name}:{tinycss2.serialize(d.value).strip()}"
                                    + ("!important" if d.important else "") for d in kept)
                    out.append(tinycss2.serialize(rule.prelude).strip() + "{" + body + "}")
            elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword in (
                    "media", "supports", "layer"):
                inner = rebuild(tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                         skip_whitespace=True))
                if inner:
                    out.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{inner}}}")
            else:
                out.append(rule.serialize())
        return "".join(out)

    return rebuild(rules)


def trim_page_css(html: str) -> str:
    """The page with its large inlined style blocks trimmed to what the page uses: the rules
    that can match its elements, the custom properties those rules use."""
    classes = page_classes(html)
    blocks = [m for m in _STYLE_BLOCK.finditer(html) if len(m.group(2)) > TRIM_CSS_ABOVE]
    if not blocks:
        return html
    trimmed = [trim_css(m.group(2), classes) for m in blocks]
    # The rest of the page (the report's own CSS, inline styles) may use custom properties too.
    rest, last = [], 0
    for m in blocks:
        rest.append(html[last:m.start(2)])
        last = m.end(2)
    rest.append(html[last:])
    elsewhere = "".join(rest)
    out, last = [], 0
    for m, css in zip(blocks, trimmed, strict=True):
        others = "".join(t for t in trimmed if t is not css)
        out.append(html[last:m.start(2)])
        out.append(drop_unused_properties(css, elsewhere + others))
        last = m.end(2)
    out.append(html[last:])
    return "".join(out)


def export_html(nb, title: str | None = None, trim: bool = True) -> str:
    """Executed notebook -> HTML. Warnings a kernel printed on stderr are diagnostics for the
    record (kept in the .ipynb), not report content. plotly.js is added (once, compressed) when
    the notebook has deferred charts; with ``trim``, the JupyterLab CSS is cut to the rules
    the page can use."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    if title:
        nb.metadata["title"] = title
    resources = {"cchc_plotlyjs": plotly_html() if has_deferred_charts(nb) else ""}
    with _exporter_lock:  # one export at a time: the warm-up may run on another thread
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return trim_page_css(body) if trim else body
