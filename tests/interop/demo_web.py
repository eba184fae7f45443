#!/usr/bin/env python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
#
# The race page in a real browser: `streamml demo --web 0` (a small run, on
# the embedded cluster or STREAMML_TEST_BOOTSTRAP) and Debian's chromium,
# headless, driven over the DevTools protocol. The page must get probability
# updates over Server-Sent Events while the demo runs and show a race with
# its runners; a screenshot of it is kept in the build directory
# ($STREAMML_BUILD_DIR/demo-web.png, the one docs/demo-web.png shows). When
# the demo ends, the page must say so and the demo must exit 0 although the
# page is still open. If chromium cannot start, the test fails.
#
# Everything waits on a condition with a generous deadline (chromium's cold
# start on a busy 2-core machine takes 10 s and more), never a fixed sleep.
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

STREAMML = os.environ["STREAMML"]
BUILD_DIR = os.environ.get("STREAMML_BUILD_DIR", ".")
BOOTSTRAP = os.environ.get("STREAMML_TEST_BOOTSTRAP", "")

CHROMIUM_START_S = 120  # until chromium says where its DevTools listen
PAGE_S = 240            # until the page shows a race with probabilities (the demo trains first)
DEMO_END_S = 300        # until the demo exits


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def wait_for(what, deadline_s, check, interval_s=0.25):
    """Polls check() until it returns a true value; fails naming `what` after deadline_s."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            fail(f"{what}: not within {deadline_s} s")
        time.sleep(interval_s)


class DevTools:
    """A minimal client of the Chrome DevTools protocol over one WebSocket (RFC 6455, text frames)."""

    def __init__(self, ws_url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", ws_url)
        if not m:
            fail(f"unexpected DevTools URL {ws_url}")
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                fail("DevTools closed the WebSocket handshake")
            response += chunk
        if b" 101 " not in response.split(b"\r\n", 1)[0]:
            fail(f"DevTools refused the WebSocket: {response[:200]!r}")
        self.buffer = response.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                fail("DevTools closed the WebSocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, text):
        payload = text.encode()
        header = bytes([0x81])  # FIN, text
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                fail("DevTools closed the WebSocket")
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:
                    return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    fail(f"DevTools {method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            fail(f"page script failed: {expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


def main():
    if shutil.which("chromium") is None:
        fail("chromium is not installed (scripts/deps.sh installs it)")
    work = tempfile.mkdtemp(prefix="streamml-demo-web.")
    demo = chromium = None
    try:
        # A small run that lasts long enough to watch: 6 live races, a few at once, at 10x.
        args = [STREAMML, "demo", "--web", "0", "--seed", "5", "--history-races", "40", "--live-races", "6",
                "--concurrent-races", "3", "--speed", "10", "--epochs", "2", "--plain",
                "--out", os.path.join(work, "out"), "--topic-prefix", f"web-{os.getpid()}"]
        if BOOTSTRAP:
            args += ["-b", BOOTSTRAP]
        demo_out = open(os.path.join(work, "demo.out"), "w+")
        demo = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url_box = {}

        def read_demo():
            for line in demo.stdout:
                demo_out.write(line)
                demo_out.flush()
                m = re.search(r"the race live at (http://\S+)", line)
                if m:
                    url_box["url"] = m.group(1)

        reader = threading.Thread(target=read_demo, daemon=True)
        reader.start()

        def demo_output():
            demo_out.seek(0)
            return demo_out.read()[-4000:]

        def demo_url():
            if demo.poll() is not None and "url" not in url_box:
                fail(f"streamml demo exited with {demo.returncode} before serving the page:\n{demo_output()}")
            return url_box.get("url")

        url = wait_for("streamml demo says where the page is", 120, demo_url)

        profile = os.path.join(work, "chromium")
        chromium_log = open(os.path.join(work, "chromium.log"), "w+")
        chromium = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}",
             "--window-size=1280,800", url],
            stdout=chromium_log, stderr=subprocess.STDOUT)

        def devtools_port():
            if chromium.poll() is not None:
                chromium_log.seek(0)
                fail(f"chromium could not start (exit {chromium.returncode}):\n{chromium_log.read()[-4000:]}")
            try:
                with open(os.path.join(profile, "DevToolsActivePort")) as f:
                    first = f.readline().strip()
                    return int(first) if first else None
            except (FileNotFoundError, ValueError):
                return None

        port = wait_for("chromium starts and opens its DevTools port", CHROMIUM_START_S, devtools_port)

        def page_target():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
                    targets = json.load(r)
            except OSError:
                return None
            for t in targets:
                if t.get("type") == "page" and t.get("url", "").startswith(url):
                    return t["webSocketDebuggerUrl"]
            return None

        tools = DevTools(wait_for("chromium opens the page", CHROMIUM_START_S, page_target))

        # At least one probability update over SSE, and a race on the page with its runners.
        def race_shown():
            if demo.poll() is not None:
                fail(f"the demo ended (exit {demo.returncode}) before the page showed a race:\n{demo_output()}")
            return tools.evaluate("""(() => {
                const updates = Number((document.body || {dataset: {}}).dataset.probabilityUpdates);
                const race = document.querySelector('article.race');
                if (updates < 1 || !race) return null;
                const runners = race.querySelectorAll('.track .runner').length;
                const bars = race.querySelectorAll('.probs .prob-bar').length;
                if (runners < 2 || bars !== runners) return null;
                const sum = [...race.querySelectorAll('.probs .prob-bar')]
                    .reduce((s, b) => s + Number(b.dataset.p), 0);
                return {race: race.dataset.race, runners, bars, sum, updates,
                        progress: document.getElementById('progress-races').textContent};
            })()""")

        shown = wait_for("the page shows a race with its runners and their probabilities", PAGE_S, race_shown, 0.5)
        print(f"page: race {shown['race']}: {shown['runners']} runners, probabilities sum to {shown['sum']:.4f}, "
              f"{shown['updates']} probability update(s); {shown['progress']}")
        if abs(shown["sum"] - 1.0) > 0.01:
            fail(f"the page's probabilities of race {shown['race']} sum to {shown['sum']}")
        if not re.match(r"races \d+/6 finished", shown["progress"]):
            fail(f"progress line on the page: {shown['progress']!r}")

        # Updates keep coming over the same stream, then the screenshot.
        first = shown["updates"]
        wait_for("a second probability update", PAGE_S,
                 lambda: tools.evaluate("Number((document.body || {dataset: {}}).dataset.probabilityUpdates)") > first, 0.5)
        # For the screenshot (docs/demo-web.png), a moment with a finished race and others running when one
        # comes within a minute; else the page as it is.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and demo.poll() is None and not tools.evaluate(
                "document.querySelectorAll('#results li').length >= 1 && "
                "document.querySelectorAll('article.race').length >= 2"):
            time.sleep(0.5)
        tools.call("Emulation.setDeviceMetricsOverride", width=1280, height=800, deviceScaleFactor=1, mobile=False)
        shot = tools.call("Page.captureScreenshot", format="png")
        png = base64.b64decode(shot["data"])
        if not png.startswith(b"\x89PNG"):
            fail("the screenshot is not a PNG")
        screenshot = os.path.join(BUILD_DIR, "demo-web.png")
        with open(screenshot, "wb") as f:
            f.write(png)
        print(f"screenshot: {screenshot} ({len(png)} bytes)")

        # The demo ends with the page still open: it exits 0, and the page says it is over.
        try:
            code = demo.wait(timeout=DEMO_END_S)
        except subprocess.TimeoutExpired:
            fail(f"the demo did not end within {DEMO_END_S} s with the page open:\n{demo_output()}")
        reader.join(timeout=30)
        if code != 0:
            fail(f"streamml demo exited with {code}:\n{demo_output()}")
        wait_for("the page says the demo finished", 60,
                 lambda: tools.evaluate("(document.body || {dataset: {}}).dataset.done") == "1", 0.5)
        results = tools.evaluate("document.querySelectorAll('#results li').length")
        if results < 1:
            fail("the page lists no finished race")
        print(f"demo exited 0; the page shows it finished, with {results} result(s)")
    finally:
        for process in (chromium, demo):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
