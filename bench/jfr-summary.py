#!/usr/bin/env python3
"""jfr-summary.py RECORDING.jfr REQUESTS_PER_SECOND [TOP] - the tables bench/profile.sh prints.

CPU: jdk.ExecutionSample stacks, each frame counted once per sample it appears in (inclusive) and
for the top frame (self). Allocation per request: jdk.ThreadAllocationStatistics gives each thread's
allocated bytes so far, every second; the growth over the recording, summed over the event loops
(relay-worker-*) and over every thread, divided by the requests served in that time (the client's
req/s times the recording's length). Allocation sites: jdk.ObjectAllocationSample weights (bytes
allocated since the thread's previous sample), by class and by the first frames outside the JDK.
"""
import collections
import re
import subprocess
import sys

jfr, rps = sys.argv[1], float(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) > 3 else 25


def events(kind, depth=64):
    out = subprocess.run(["jfr", "print", "--events", kind, "--stack-depth", str(depth), jfr],
                         capture_output=True, text=True, check=True).stdout
    ev = None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith(kind + " {") or s == kind + " {":
            if ev is not None:
                yield ev
            ev = {"stack": []}
        elif ev is None:
            continue
        elif re.match(r"[\w.$]+\.[\w<>$]+\(", s):
            ev["stack"].append(re.sub(r"\s+line:.*", "", s).split("(")[0])
        elif " = " in s and not s.startswith("stackTrace"):
            k, v = s.split(" = ", 1)
            ev.setdefault(k.strip(), v.strip())
    if ev is not None:
        yield ev


def size(text):
    m = re.match(r"([\d.,]+)\s*(bytes|kB|MB|GB)?", text)
    if not m:
        return 0.0
    n = float(m.group(1).replace(",", ""))
    return n * {"bytes": 1, None: 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[m.group(2)]


def seconds(ts):  # "04:21:33.123" (JFR prints wall-clock times)
    h, m, s = ts.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


samples = list(events("jdk.ExecutionSample"))
inclusive, self_ = collections.Counter(), collections.Counter()
for e in samples:
    st = e["stack"]
    if st:
        self_[st[0]] += 1
    for f in set(st):
        inclusive[f] += 1
n = max(1, len(samples))
print(f"## CPU: {len(samples)} samples (JFR, 10 ms)\n")
print("| inclusive % | frame |\n|---:|---|")
shown = 0
for f, c in inclusive.most_common():
    if c > 0.7 * n:
        continue  # the event loop and the read dispatch every sample is under: no information
    print(f"| {100 * c / n:.1f} | `{f}` |")
    shown += 1
    if shown == top:
        break
print("\n| self % | frame |\n|---:|---|")
for f, c in self_.most_common(top):
    print(f"| {100 * c / n:.1f} | `{f}` |")

first, last = {}, {}
for e in events("jdk.ThreadAllocationStatistics", 0):
    thread = e.get("thread", "?").split('"')[1] if '"' in e.get("thread", "") else e.get("thread", "?")
    t = seconds(e["startTime"].split()[0]) if "startTime" in e else 0.0
    b = size(e.get("allocated", "0"))
    if thread not in first or t < first[thread][0]:
        first[thread] = (t, b)
    if thread not in last or t > last[thread][0]:
        last[thread] = (t, b)
span = max((last[t][0] - first[t][0]) for t in last) if last else 0.0
grown = {t: last[t][1] - first[t][1] for t in last}
loops = sum(v for t, v in grown.items() if t.startswith("relay-worker"))
everything = sum(grown.values())
requests = rps * span
print(f"\n## Allocation per request ({span:.0f} s recorded, {rps:.0f} req/s, {requests:.0f} requests)\n")
if requests > 0:
    print("| threads | bytes per request |\n|---|---:|")
    print(f"| event loops (relay-worker-*) | {loops / requests:.0f} |")
    print(f"| whole process | {everything / requests:.0f} |")
    for t, v in sorted(grown.items(), key=lambda kv: -kv[1])[:6]:
        print(f"| {t} | {v / requests:.0f} |")

by_class, by_site = collections.Counter(), collections.Counter()
for e in events("jdk.ObjectAllocationSample", 12):
    w = size(e.get("weight", "0"))
    cls = e.get("objectClass", "?").split()[0]
    by_class[cls] += w
    frames = [f for f in e["stack"] if not f.startswith(("java.", "jdk.", "sun."))][:3]
    by_site[cls + " ← " + " ← ".join(f.rsplit(".", 2)[-2] + "." + f.rsplit(".", 1)[-1] for f in frames)] += w
total = sum(by_class.values()) or 1
print("\n## Allocation by class (sampled weight)\n\n| % | class |\n|---:|---|")
for k, v in by_class.most_common(top):
    print(f"| {100 * v / total:.1f} | `{k}` |")
print("\n## Allocation sites (class ← first frames outside the JDK)\n\n| % | site |\n|---:|---|")
for k, v in by_site.most_common(top):
    print(f"| {100 * v / total:.1f} | `{k}` |")
