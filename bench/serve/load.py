#!/usr/bin/env python3
"""Load benchmark of `w2v serve`: requests/s and p50/p99 latency at 1, 2, 4 and 8 clients.

  bench/serve/load.py W2V MODEL WAV [--clients 1,2,4,8] [--requests 24] [--serve-args "..."]

MODEL: any CTC model, e.g. a random BASE-sized one from `build/bench/decode/bench_random_ctc
base.pt base` (speed does not depend on the weights); WAV: e.g. build/tests/serve/fixture/speech.wav.

Starts `W2V serve MODEL --port 0 SERVE_ARGS` on 127.0.0.1, then for each client count runs that
many threads, each posting WAV (response_format=json) back to back until --requests requests
are done in all; records each request's latency and checks that every answer has the text the
first one had (same audio, same text at any concurrency). Prints one Markdown table row per
client count plus the machine's load (uptime) before and after, for docs/BENCHMARKS.md. Only
loopback traffic, bounded in count; stdlib only.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid


def multipart(wav):
    boundary = uuid.uuid4().hex
    with open(wav, "rb") as f:
        audio = f.read()
    body = ("--%s\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nw2v\r\n" % boundary).encode()
    body += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\nContent-Type: audio/wav\r\n\r\n"
             % (boundary, os.path.basename(wav))).encode() + audio + ("\r\n--%s--\r\n" % boundary).encode()
    return body, "multipart/form-data; boundary=" + boundary


def percentile(xs, p):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def run_level(url, body, ctype, clients, total):
    latencies, texts, errors = [], [], []
    lock = threading.Lock()
    next_request = [0]

    def client():
        while True:
            with lock:
                if next_request[0] >= total:
                    return
                next_request[0] += 1
            start = time.perf_counter()
            req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    text = json.loads(r.read())["text"]
                with lock:
                    latencies.append(time.perf_counter() - start)
                    texts.append(text)
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, texts, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("w2v")
    ap.add_argument("model")
    ap.add_argument("wav")
    ap.add_argument("--clients", default="1,2,4,8")
    ap.add_argument("--requests", type=int, default=24, help="requests per client count")
    ap.add_argument("--serve-args", default="", help="extra `w2v serve` options, e.g. '--max-concurrency 2'")
    a = ap.parse_args()

    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    server = subprocess.Popen([a.w2v, "serve", a.model, "--port", "0"] + a.serve_args.split(),
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.time() + 300
        port = None
        while port is None:
            with open(log.name) as f:
                m = re.search(r"listening on http://[0-9.]+:(\d+)", f.read())
            if m:
                port = int(m.group(1))
            elif server.poll() is not None or time.time() > deadline:
                sys.exit("w2v serve did not start:\n" + open(log.name).read())
            else:
                time.sleep(0.1)
        url = "http://127.0.0.1:%d/v1/audio/transcriptions" % port
        body, ctype = multipart(a.wav)
        run_level(url, body, ctype, 1, 2)  # warm-up: first-call allocations, page cache
        print("load before: " + os.popen("uptime").read().strip())
        print("| clients | requests | requests/s | p50 latency (s) | p99 latency (s) | errors |")
        print("|---|---|---|---|---|---|")
        reference = None
        for clients in [int(c) for c in a.clients.split(",")]:
            wall, lat, texts, errors = run_level(url, body, ctype, clients, a.requests)
            if texts:
                reference = reference if reference is not None else texts[0]
                differing = sum(t != reference for t in texts)
                if differing:
                    errors.append("%d answers differ from the first text" % differing)
            print("| %d | %d | %.2f | %.3f | %.3f | %s |" % (
                clients, len(lat), len(lat) / wall, statistics.median(lat) if lat else float("nan"),
                percentile(lat, 99) if lat else float("nan"), len(errors) if errors else 0))
            for e in errors[:3]:
                print("  error: " + e, file=sys.stderr)
        print("load after: " + os.popen("uptime").read().strip())
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        os.unlink(log.name)


if __name__ == "__main__":
    main()
