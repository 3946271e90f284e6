#!/usr/bin/env python3
"""The page of `w2v serve` in a real browser.

  browser_test.py W2V_BINARY FIXTURE_DIR

Starts `w2v serve FIXTURE_DIR/model.pt`, then Debian's chromium (headless) through chromedriver's
WebDriver protocol (plain HTTP + JSON, so only the standard library is needed): loads the page,
picks FIXTURE_DIR/speech.wav in its file input, presses Transcribe, waits for the answer and reads
the transcript and the word table from the page. They must equal what the API itself answers for
the same request (stream=true, verbose_json with word times). Then it records 1.5 s from chromium's synthetic
microphone with the Record button and transcribes that: the server must accept the WAV the page
wrote, of about that length. A screenshot is left beside the fixture (page.png). Exits non-zero
with the reason on any failure.
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C WebDriver element key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=60):
    data = None
    headers = dict(headers or {})
    if body is not None and not isinstance(body, bytes):
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif body is not None:
        data = body
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class WebDriver:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.session = None

    def call(self, method, path, body=None):
        status, raw = http(method, self.base + path, body if body is not None else ({} if method == "POST" else None))
        value = json.loads(raw)["value"] if raw else None
        if status != 200:
            raise RuntimeError("webdriver %s %s: %s %s" % (method, path, status, value))
        return value

    def start(self, user_data_dir):
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + user_data_dir, "--window-size=1000,900",
                # a synthetic microphone (a beep), allowed without a prompt, for the Record button
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium", "args": args}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def s(self, path):
        return "/session/%s%s" % (self.session, path)

    def find(self, css):
        return self.call("POST", self.s("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def script(self, code, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": code, "args": list(args)})


def wait_for_port(proc, log_path, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(log_path) as f:
            m = re.search(r"listening on http://[0-9.]+:(\d+)", f.read())
        if m:
            return int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(log_path) as f:
        raise RuntimeError("w2v serve did not start:\n" + f.read())


def api_streamed(port, wav):
    """The API's own answer to what the page sends (stream=true, verbose_json, word times): the
    last event, transcript.text.done."""
    boundary = uuid.uuid4().hex
    with open(wav, "rb") as f:
        audio = f.read()
    parts = []
    for name, value in [("response_format", "verbose_json"), ("timestamp_granularities[]", "word"), ("stream", "true")]:
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, name, value)).encode())
    parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"speech.wav\"\r\n"
                  "Content-Type: audio/wav\r\n\r\n" % boundary).encode() + audio + b"\r\n")
    body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
    status, raw = http("POST", "http://127.0.0.1:%d/v1/audio/transcriptions" % port, body,
                       {"Content-Type": "multipart/form-data; boundary=" + boundary})
    if status != 200:
        raise RuntimeError("API answered %d: %s" % (status, raw[:500]))
    events = [json.loads(line[6:]) for line in raw.decode().split("\n") if line.startswith("data: ")]
    if not events or events[-1]["type"] != "transcript.text.done":
        raise RuntimeError("the API's event stream did not end with transcript.text.done: %s" % raw[-300:])
    return events[-1]


def main():
    w2v, fixture = sys.argv[1], os.path.abspath(sys.argv[2])
    wav = os.path.join(fixture, "speech.wav")
    work = tempfile.mkdtemp(prefix="w2v_browser_")
    server_log = os.path.join(work, "serve.log")
    procs = []
    try:
        with open(server_log, "w") as log:
            server = subprocess.Popen([w2v, "serve", os.path.join(fixture, "model.pt"), "--port", "0"],
                                      stdout=subprocess.DEVNULL, stderr=log)
        procs.append(server)
        port = wait_for_port(server, server_log)

        driver_port = free_port()
        driver = subprocess.Popen(["chromedriver", "--port=%d" % driver_port], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(driver)
        wd = WebDriver(driver_port)
        deadline = time.time() + 30
        while True:
            try:
                if wd.call("GET", "/status")["ready"]:
                    break
            except (OSError, RuntimeError):
                pass
            if time.time() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        wd.start(os.path.join(work, "profile"))

        wd.call("POST", wd.s("/url"), {"url": "http://127.0.0.1:%d/" % port})
        # The page asks /v1/models for the model's name.
        deadline = time.time() + 20
        while wd.script("return document.getElementById('model').textContent") != "model":
            if time.time() > deadline:
                raise RuntimeError("the page did not show the model name")
            time.sleep(0.1)

        def transcribe():
            wd.script("document.body.dataset.state = ''")
            wd.call("POST", wd.s("/element/%s/click" % wd.find("#send")), {})
            deadline = time.time() + 120
            state = None
            while state not in ("done", "failed"):
                if time.time() > deadline:
                    raise RuntimeError("no transcript on the page after 120 s")
                time.sleep(0.1)
                state = wd.script("return document.body.dataset.state || null")
            status = wd.script("return document.getElementById('status').textContent")
            if state != "done":
                raise RuntimeError("the page reports: " + status)
            return status

        wd.call("POST", wd.s("/element/%s/value" % wd.find("#file")), {"text": wav})
        status = transcribe()
        shot = wd.call("GET", wd.s("/screenshot"))
        with open(os.path.join(fixture, "page.png"), "wb") as f:
            f.write(base64.b64decode(shot))
        text = wd.script("return document.getElementById('text').textContent")
        rows = wd.script("return Array.from(document.querySelectorAll('#words tbody tr'))"
                         ".map(r => Array.from(r.cells).map(c => c.textContent))")

        # The microphone: record about 1.5 s of the fake device, send the WAV the page writes.
        record = wd.find("#record")

        def wait_status(prefix):
            deadline = time.time() + 30
            while not wd.script("return document.getElementById('status').textContent").startswith(prefix):
                if time.time() > deadline:
                    raise RuntimeError("the page never said " + prefix)
                time.sleep(0.05)

        wd.call("POST", wd.s("/element/%s/click" % record), {})
        wait_status("Recording")
        time.sleep(1.5)
        wd.call("POST", wd.s("/element/%s/click" % record), {})
        wait_status("microphone.wav ready")
        mic_status = transcribe()
        seconds = float(re.search(r"in ([0-9.]+) s of audio", mic_status).group(1))
        if not 1.0 <= seconds <= 3.0:
            raise RuntimeError("the recording lasted %.2f s, expected about 1.5 s (%s)" % (seconds, mic_status))
        wd.call("DELETE", wd.s(""))

        expected = api_streamed(port, wav)
        if not expected["text"] or text != expected["text"]:
            raise RuntimeError("page text %r != API text %r" % (text, expected["text"]))
        want = [[str(i + 1), w["word"], "%.2f" % w["start"], "%.2f" % w["end"], "%.2f" % w["confidence"]]
                for i, w in enumerate(expected["words"])]
        if rows != want:
            raise RuntimeError("page words %r != API words %r" % (rows, want))
        server.send_signal(signal.SIGTERM)
        if server.wait(timeout=60) != 0:
            raise RuntimeError("w2v serve exited with %d" % server.returncode)
        print("browser_test: the page showed %d words: %s (%s); microphone: %s" % (len(rows), text, status, mic_status))
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
