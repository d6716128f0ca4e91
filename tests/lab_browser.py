"""JupyterLab on localhost driven by a real headless Chromium over DevTools (the explorer's
browser test). The server listens on 127.0.0.1 on a free port with a random token; Chromium's
proxy is a dead address, so only loopback (exempt from the proxy) can be reached: any request to
the network would fail and is recorded.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.browser import _Cdp, _wait_for_port, find_chromium
from tests.browser_process import chromium_command, stop_browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyterlab(root: Path, timeout: float = 120):
    """Start ``jupyter lab`` serving ``root``; yield (base url, token); stop it afterwards.
    Its config, data, runtime and workspace folders are private temporary ones."""
    port, token = free_port(), secrets.token_hex(16)
    home = Path(tempfile.mkdtemp(prefix="cchc-lab-"))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "JUPYTER_PLATFORM_DIRS": "1"}
    # window.jupyterapp for the test to run commands; no news feed, update check or PyPI
    # extension manager (each would reach for the network); root allowed (CI containers).
    config = {"LabApp": {"expose_app_in_browser": True, "news_url": None, "extension_manager": "readonly",
                         "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
              "ServerApp": {"allow_root": True, "port_retries": 0}}
    (home / "config").mkdir(parents=True)
    for name in ("jupyter_server_config.json", "jupyter_lab_config.json"):
        (home / "config" / name).write_text(json.dumps(config), encoding="utf-8")
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    log = open(home / "lab.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n"
                                       + (home / "lab.log").read_text(errors="replace")[-3000:]) from None
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


class Page:
    """One Chromium tab: evaluate JavaScript, wait for a condition, take a screenshot."""

    def __init__(self, cdp: _Cdp, session: str) -> None:
        self.cdp, self.session = cdp, session

    def eval(self, expression: str, await_promise: bool = False) -> object:
        wrapped = (f"Promise.resolve({expression}).then(v => JSON.stringify(v === undefined ? null : v))"
                   if await_promise else f"JSON.stringify(({expression}) ?? null)")
        reply = self.cdp.send("Runtime.evaluate", {
            "expression": wrapped,
            "returnByValue": True, "awaitPromise": await_promise}, session=self.session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]}: {reply['exceptionDetails'].get('text')}")
        value = reply.get("result", {}).get("value")
        return json.loads(value) if value else None

    def wait_for(self, expression: str, timeout: float, what: str) -> object:
        """Poll ``expression`` until it is truthy (errors count as not yet); return its value."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            self.cdp.pump(0.5)
            try:
                value = self.eval(expression)
            except RuntimeError as exc:
                last_error, value = str(exc), None
            if value:
                return value
        raise TimeoutError(f"timed out waiting for {what} {last_error}")

    def screenshot(self, path: Path) -> Path:
        shot = self.cdp.send("Page.captureScreenshot", {"format": "png"}, session=self.session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.cdp.events
                if e.get("method") == "Network.requestWillBeSent"]

    def exceptions(self) -> list[str]:
        return [e["params"]["exceptionDetails"].get("exception", {}).get("description", "")
                or e["params"]["exceptionDetails"].get("text", "")
                for e in self.cdp.events if e.get("method") == "Runtime.exceptionThrown"]


@contextmanager
def chromium_page(url: str, width: int = 1400, height: int = 2200):
    """A headless Chromium tab opened on ``url``; only loopback is reachable."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium not installed (make browser)")
    profile = Path(tempfile.mkdtemp(prefix="cchc-chromium-"))
    args = chromium_command(binary, profile, width, height, loopback_through_proxy=False)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cdp = None
    try:
        cdp = _Cdp(_wait_for_port(profile, proc))
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            cdp.send(f"{domain}.enable", session=session)
        cdp.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                        "deviceScaleFactor": 1, "mobile": False},
                 session=session)
        cdp.send("Page.navigate", {"url": url}, session=session)
        yield Page(cdp, session)
    finally:
        stop_browser(proc, profile, cdp, wait=10)
