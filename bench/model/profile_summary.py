#!/usr/bin/python3
"""Sums a LibTorch chrome trace (bench_model --profile) per operator: self time (an operator's
time minus the operators it called) and share of the forward, largest first.
usage: profile_summary.py TRACE.json [TOP (15)]"""
import collections
import json
import sys

trace = json.load(open(sys.argv[1]))
events = [e for e in (trace["traceEvents"] if isinstance(trace, dict) else trace) if e.get("ph") == "X"]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
self_us = collections.Counter()
calls = collections.Counter()
by_thread = collections.defaultdict(list)
for e in events:
    by_thread[e.get("tid")].append(e)
total = 0.0
for evs in by_thread.values():
    evs.sort(key=lambda e: (e["ts"], -e["dur"]))
    stack = []  # open operators: (end time, name)
    for e in evs:
        while stack and stack[-1][0] <= e["ts"]:
            stack.pop()
        if stack:
            self_us[stack[-1][1]] -= e["dur"]  # the caller's self time excludes this callee
        else:
            total += e["dur"]
        self_us[e["name"]] += e["dur"]
        calls[e["name"]] += 1
        stack.append((e["ts"] + e["dur"], e["name"]))
print(f"{total / 1e3:.1f} ms in top-level operators")
for name, us in self_us.most_common(top):
    print(f"{100 * us / total:5.1f} %  {us / 1e3:8.1f} ms  {calls[name]:5d} calls  {name}")
