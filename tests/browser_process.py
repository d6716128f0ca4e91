"""What the Chromium (DevTools) and Firefox (WebDriver BiDi) drivers of the tests share: a JSON
message client over one websocket, the headless Chromium command line, stopping a browser and
removing its profile, and the session fixture's "installed, installable or skipped" rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


class JsonSocket:
    """Numbered JSON requests over one websocket; replies matched by id, events kept in arrival
    order. Subclasses say what a reply's error looks like and may answer events as they come."""

    def __init__(self, url: str, timeout: float) -> None:
        import websocket

        self.timeout = timeout
        self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        self.replies: dict[int, dict] = {}

    def on_event(self, message: dict) -> None:
        """Called for every event as it arrives (a dialog to dismiss, say)."""

    def close_browser(self) -> None:
        """Ask the browser to quit (each protocol has its own command)."""
        raise NotImplementedError

    def error_of(self, reply: dict) -> str | None:
        return str(reply["error"]) if "error" in reply else None

    def _receive(self) -> None:
        message = json.loads(self.ws.recv())
        if "id" in message and message.get("type") != "event":
            self.replies[message["id"]] = message
            return
        self.events.append(message)
        self.on_event(message)

    def send_only(self, message: dict) -> int:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, **message}))
        return self.next_id

    def request(self, method: str, message: dict) -> dict:
        number = self.send_only(message)
        while number not in self.replies:
            self._receive()
        reply = self.replies.pop(number)
        error = self.error_of(reply)
        if error is not None:
            raise RuntimeError(f"{method}: {error}")
        return reply.get("result", {})

    def pump(self, seconds: float) -> None:
        """Collect events for a while."""
        import websocket

        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.ws.settimeout(left)
            try:
                self._receive()
            except websocket.WebSocketTimeoutException:
                break
        self.ws.settimeout(self.timeout)

    def close(self) -> None:
        self.ws.close()


def chromium_command(binary: str, profile: Path, width: int, height: int, *,
                     loopback_through_proxy: bool) -> list[str]:
    """Headless Chromium with every request sent to a dead proxy (127.0.0.1:9): the network is
    cut. ``loopback_through_proxy`` cuts loopback too (a report file needs none); JupyterLab on
    localhost needs it reachable."""
    bypass = ["--proxy-bypass-list=<-loopback>"] if loopback_through_proxy else []
    return [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--no-first-run", "--mute-audio",
            f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", *bypass,
            "--remote-debugging-port=0", "--remote-allow-origins=*", f"--window-size={width},{height}",
            "about:blank"]


def stop_browser(proc: subprocess.Popen, profile: Path, client: JsonSocket | None, wait: float) -> None:
    """Ask the browser to close over its protocol, kill it if it does not, remove its profile."""
    if client is not None:
        try:
            client.close_browser()
        except Exception:  # noqa: BLE001 - the process is killed below anyway
            pass
        client.close()
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(profile, ignore_errors=True)


def installed_or_skip(find: Callable[[], str | None], package: str, what: str) -> str:
    """The browser's path, installing Debian's ``package`` when it is missing (as `make browser`
    does). Where nobody can install it (an analyst's machine without root) the checks are skipped
    with a message saying how to get them; as root (CI) a failed install fails."""
    path = find()
    can_install = shutil.which("apt-get") is not None and os.geteuid() == 0
    if path is None and can_install:
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                       + package, shell=True, check=False, capture_output=True, timeout=900)
        path = find()
    if path is None and not can_install:
        pytest.skip(f"{package} is missing and this user cannot install it: "
                    f"`sudo apt-get install {package}` (Debian/Ubuntu) to run the {what}")
    if path is None:
        pytest.fail(f"{package} is not installed and could not be installed (make browser)")
    return path
