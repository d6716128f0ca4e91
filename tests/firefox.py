"""Open an HTML file in a real headless Firefox (Debian ``firefox-esr``) with the network cut,
over WebDriver BiDi — the remote protocol built into Firefox (``--remote-debugging-port``), so no
geckodriver is needed.

Used by tests/test_firefox.py (and by hand: ``python -m tests.firefox report.html [out.pdf]``).
The profile sends every request through a dead proxy (127.0.0.1:9), loopback included, and
turns off Firefox's own background traffic; every request the page makes is recorded, so a
report that needed a CDN would show it, with console errors and undrawn charts.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser import COUNT_CHARTS_JS
from tests.browser_process import JsonSocket, stop_browser

FIREFOX_NAMES = ("firefox-esr", "firefox")

PREFS = {
    # The network cut: everything through a proxy that does not exist.
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1",
    "network.proxy.ssl_port": 9,
    "network.proxy.no_proxies_on": "",
    "network.proxy.allow_hijacking_localhost": True,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    # Firefox's own traffic, which is not the page's.
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "extensions.update.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    # A printed PDF goes back over the protocol, no dialog.
    "print.always_print_silent": True,
}


def find_firefox() -> str | None:
    for name in FIREFOX_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class FirefoxPage:
    charts: int = 0
    drawn: int = 0
    plotly: str = ""
    text: str = ""
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    probe: object = None
    printed: object = None  # what the page's beforeprint listeners left, see PRINT_WATCH_JS


# Installed before printing: after the report's own beforeprint handler has redrawn the charts
# at the printable width, record each chart's drawn width (the print snapshot follows).
PRINT_WATCH_JS = """(() => {
  window.addEventListener('beforeprint', () => {
    window.__cchcPrinted = Array.from(document.querySelectorAll('.plotly-graph-div')).map(g => {
      const svg = g.querySelector('svg.main-svg');
      return svg ? Number(svg.getAttribute('width')) : 0;
    });
  });
  return true;
})()"""


class _Bidi(JsonSocket):
    """A minimal WebDriver BiDi client; a user prompt (``alert``) is dismissed as it opens."""

    def __init__(self, url: str) -> None:
        super().__init__(url, timeout=60)

    def on_event(self, message: dict) -> None:
        if message.get("method") == "browsingContext.userPromptOpened":
            context = message["params"]["context"]
            self.send_only({"method": "browsingContext.handleUserPrompt",
                            "params": {"context": context, "accept": False}})

    def error_of(self, reply: dict) -> str | None:
        return f"{reply.get('error')}: {reply.get('message')}" if reply.get("type") == "error" else None

    def close_browser(self) -> None:
        self.send("browser.close", {})

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.request(method, {"method": method, "params": params or {}})

    def evaluate(self, context: str, expression: str) -> object:
        result = self.send("script.evaluate", {
            "expression": f"JSON.stringify({expression})", "target": {"context": context},
            "awaitPromise": False, "resultOwnership": "none"})
        if result.get("type") == "exception":
            raise RuntimeError(result.get("exceptionDetails", {}).get("text", "exception"))
        value = result.get("result", {}).get("value")
        return json.loads(value) if isinstance(value, str) else None


def _wait_for_bidi(proc: subprocess.Popen, log: Path, timeout: float = 60) -> str:
    """The WebDriver BiDi address Firefox prints on stderr (a file here: a pipe nobody reads
    would fill up and stall Firefox) when it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        match = re.search(r"WebDriver BiDi listening on (ws://\S+)", text)
        if match:
            return match.group(1).rstrip("/") + "/session"
        if proc.poll() is not None:
            raise RuntimeError(f"firefox exited with {proc.returncode}: {text[-500:]}")
        time.sleep(0.2)
    raise TimeoutError("firefox did not open its WebDriver BiDi port")


def open_page(html: Path, *, timeout: float = 120, probe: str | None = None, pdf: Path | None = None,
              width: int = 1280, height: int = 900) -> FirefoxPage:
    """Load ``html`` offline in headless Firefox and wait until every plotly chart has an SVG (or
    the timeout); report charts, console errors, requests and dialogs, and the JSON value of the
    JavaScript expression ``probe``. ``pdf``: print the page on A4 portrait to that file (the
    page's print handlers run; what they drew is in ``printed``)."""
    binary = find_firefox()
    if binary is None:
        raise FileNotFoundError("firefox-esr not installed (make browser)")
    profile = Path(tempfile.mkdtemp(prefix="cchc-firefox-"))
    (profile / "user.js").write_text(
        "".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in PREFS.items()), encoding="utf-8")
    env = {**os.environ, "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1"}
    log = profile.parent / f"{profile.name}.log"
    stderr = open(log, "wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [binary, "--headless", "--no-remote", "--profile", str(profile), "--remote-debugging-port", "0",
         "--width", str(width), "--height", str(height), "about:blank"],
        stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    page = FirefoxPage()
    bidi = None
    try:
        bidi = _Bidi(_wait_for_bidi(proc, log))
        bidi.send("session.new", {"capabilities": {}})
        bidi.send("session.subscribe", {"events": [
            "log.entryAdded", "network.beforeRequestSent", "browsingContext.userPromptOpened"]})
        context = bidi.send("browsingContext.getTree", {})["contexts"][0]["context"]
        bidi.send("browsingContext.setViewport", {"context": context,
                                                  "viewport": {"width": width, "height": height}})
        bidi.send("browsingContext.navigate", {"context": context, "url": Path(html).resolve().as_uri(),
                                               "wait": "complete"})
        deadline = time.monotonic() + timeout
        state: dict = {}
        while time.monotonic() < deadline:
            state = json.loads(bidi.evaluate(context, COUNT_CHARTS_JS) or "{}")
            if state.get("ready") == "complete" and state.get("drawn") == state.get("charts"):
                break
            time.sleep(0.3)
        time.sleep(1.0)  # late errors, if any
        page.charts = state.get("charts", 0)
        page.drawn = state.get("drawn", 0)
        page.plotly = state.get("plotly", "")
        page.text = state.get("text", "")
        if probe:
            page.probe = bidi.evaluate(context, probe)
        if pdf is not None:
            bidi.evaluate(context, PRINT_WATCH_JS)
            printed = bidi.send("browsingContext.print", {
                "context": context, "background": True, "orientation": "portrait",
                "page": {"width": 21.0, "height": 29.7}})
            Path(pdf).write_bytes(base64.b64decode(printed["data"]))
            page.printed = bidi.evaluate(context, "window.__cchcPrinted || null")
        bidi.send("session.unsubscribe", {"events": ["log.entryAdded", "network.beforeRequestSent"]})
        for event in bidi.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "log.entryAdded" and params.get("level") == "error":
                page.console_errors.append(params.get("text") or "error")
            elif method == "network.beforeRequestSent":
                page.requests.append(params.get("request", {}).get("url", ""))
            elif method == "browsingContext.userPromptOpened":
                page.dialogs.append(params.get("message", ""))
    finally:
        stop_browser(proc, profile, bidi, wait=20)
        stderr.close()
        log.unlink(missing_ok=True)
    return page


if __name__ == "__main__":  # pragma: no cover - manual use
    result = open_page(Path(sys.argv[1]), pdf=Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(json.dumps({k: v for k, v in result.__dict__.items() if k != "text"}, ensure_ascii=False,
                     indent=1))


def pdf_page_boxes(data: bytes) -> list[tuple[int, ...]]:
    """The MediaBox of every page object of a PDF (in points, rounded), reading inside the
    compressed object streams Firefox writes as well as plain objects."""
    import zlib

    texts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            texts.append(zlib.decompressobj().decompress(data[match.end():match.end() + 5_000_000]))
        except zlib.error:
            continue
    boxes = []
    for text in texts:
        for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", text):
            boxes.append(tuple(round(float(v)) for v in box.split()))
    return boxes
