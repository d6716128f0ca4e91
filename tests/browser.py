"""Open an HTML file in a real headless Chromium with the network cut, over the DevTools protocol.

Used by tests/test_browser.py (and handy by hand: ``python -m tests.browser report.html``).
Chromium runs with a dead proxy (127.0.0.1:9) for every non-loopback request, so a report that
needed a CDN would show failed requests, console errors and undrawn charts.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser_process import JsonSocket, chromium_command, stop_browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")

COUNT_CHARTS_JS = """(() => {
  const divs = Array.from(document.querySelectorAll('div.plotly-graph-div'));
  return JSON.stringify({
    charts: divs.length,
    drawn: divs.filter(d => d.querySelector('svg.main-svg')).length,
    plotly: typeof window.Plotly,
    ready: document.readyState,
    text: document.body ? document.body.innerText : ''
  });
})()"""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageResult:
    charts: int = 0
    drawn: int = 0
    plotly: str = ""
    text: str = ""
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    screenshots: list[bytes] = field(default_factory=list)
    probe: object = None


class _Cdp(JsonSocket):
    """A minimal DevTools client, flattened sessions. JavaScript dialogs (``alert``) are recorded
    and dismissed as they open, so they cannot block the page."""

    def __init__(self, url: str) -> None:
        super().__init__(url, timeout=30)

    def on_event(self, message: dict) -> None:
        if message.get("method") == "Page.javascriptDialogOpening":
            self.send("Page.handleJavaScriptDialog", {"accept": False}, message.get("sessionId"))

    def close_browser(self) -> None:
        self.send("Browser.close")

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        message = {"method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        return self.request(method, message)


def _wait_for_port(profile: Path, proc: subprocess.Popen, timeout: float = 30) -> str:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists():
            lines = marker.read_text().split("\n")
            if len(lines) >= 2 and lines[1]:
                return f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


# A4 portrait at 96 px/inch: 210 mm = 794 px; the printable width inside the report's @page
# margins (12 mm each side) is 186 mm = 703 px.
A4_WIDTH, A4_HEIGHT, A4_PRINTABLE = 794, 1123, 703


def open_page(html: Path, *, timeout: float = 90, screenshot: bool = False, probe: str | None = None,
              width: int = 1280, height: int = 900, print_media: bool = False,
              pdf: Path | None = None) -> PageResult:
    """Load ``html`` offline in headless Chromium and wait until every plotly chart has an SVG
    (or the timeout); report charts, console errors, network requests and JS dialogs, and the
    JSON value of the JavaScript expression ``probe`` evaluated at the end.

    ``pdf``: print the page to that file on A4 paper (``Page.printToPDF``) before probing.
    ``print_media``: then emulate print media at the A4 printable width, as a printer lays the
    page out, so that ``probe`` measures the printed layout."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium not installed (make browser)")
    profile = Path(tempfile.mkdtemp(prefix="cchc-chromium-"))
    args = chromium_command(binary, profile, width, height, loopback_through_proxy=True)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = PageResult()
    cdp = None
    try:
        cdp = _Cdp(_wait_for_port(profile, proc))
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.send(f"{domain}.enable", session=session)
        cdp.send("Page.navigate", {"url": Path(html).resolve().as_uri()}, session=session)
        deadline = time.monotonic() + timeout
        state: dict = {}
        while time.monotonic() < deadline:
            cdp.pump(0.5)
            value = cdp.send("Runtime.evaluate", {"expression": COUNT_CHARTS_JS, "returnByValue": True},
                             session=session).get("result", {}).get("value")
            state = json.loads(value) if value else {}
            if state.get("ready") == "complete" and state.get("drawn") == state.get("charts"):
                break
        cdp.pump(1.0)  # late errors, if any
        if pdf is not None:
            printed = cdp.send("Page.printToPDF", {
                "paperWidth": 8.27, "paperHeight": 11.69, "printBackground": True,
                "preferCSSPageSize": True}, session=session)
            Path(pdf).write_bytes(base64.b64decode(printed["data"]))
        if print_media:
            cdp.send("Emulation.setDeviceMetricsOverride", {
                "width": A4_PRINTABLE, "height": A4_HEIGHT, "deviceScaleFactor": 1, "mobile": False},
                session=session)
            cdp.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
            cdp.pump(1.5)  # the page's print-media listeners redraw the charts
        result.charts = state.get("charts", 0)
        result.drawn = state.get("drawn", 0)
        result.plotly = state.get("plotly", "")
        result.text = state.get("text", "")
        if probe:
            value = cdp.send("Runtime.evaluate", {"expression": f"JSON.stringify({probe})",
                                                  "returnByValue": True}, session=session)
            result.probe = json.loads(value.get("result", {}).get("value") or "null")
        if screenshot:
            result.screenshots = []
            full = json.loads(cdp.send("Runtime.evaluate", {
                "expression": "JSON.stringify(document.documentElement.scrollHeight)",
                "returnByValue": True}, session=session)["result"]["value"])
            for top in range(0, full, 1600):
                clip = {"x": 0, "y": top, "width": width, "height": min(1600, full - top), "scale": 1}
                shot = cdp.send("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                           "captureBeyondViewport": True}, session=session)
                result.screenshots.append(base64.b64decode(shot["data"]))
        for event in cdp.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                result.console_errors.append(
                    details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                result.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                      for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                result.console_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                result.requests.append(params.get("request", {}).get("url", ""))
            elif method == "Page.javascriptDialogOpening":
                result.dialogs.append(params.get("message", ""))
    finally:
        stop_browser(proc, profile, cdp, wait=10)
    return result


if __name__ == "__main__":  # pragma: no cover - manual use
    page = open_page(Path(sys.argv[1]), screenshot=len(sys.argv) > 2)
    for i, png in enumerate(page.screenshots):
        Path(f"{sys.argv[2]}-{i}.png").write_bytes(png)
    print(json.dumps({k: v for k, v in page.__dict__.items() if k not in ("text", "screenshots")},
                     ensure_ascii=False, indent=1))
    os._exit(0)
