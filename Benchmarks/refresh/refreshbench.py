#!/usr/bin/env python3
"""Helpers of Benchmarks/refresh/run.sh (Python standard library only).

    refreshbench.py import  --url U --key K --integration I --count N --workers W --out ids.tsv
                            (--expires-in SECONDS | --expires-at UNIX_SECONDS)
        Imports N OAuth 2.0 credentials through POST /api/v1/credentials (externalUserId "bench-user-i", refresh token
        "bench-rt-i"), W keep-alive connections at once. --expires-in sets each one's expiry that many seconds after
        its own request; --expires-at gives them all the same expiry. Writes "id<TAB>i" lines.

    refreshbench.py due     --ids ids.tsv (--sqlite PATH | --postgres URL) --out due.json
        Reads each imported credential's refresh_due_at (ms) from the database, before any refresher runs.

    refreshbench.py wait    --fake F --count N --timeout SECONDS [--settle SECONDS]
        Polls the fake provider until N credentials were refreshed (or the timeout), then waits --settle more
        seconds for late duplicates.

    refreshbench.py analyze --fake F --due due.json --started UNIX_SECONDS --metrics URL[,URL…] --label TEXT
                            --case JSON --out result.json
        The figures of one case from the fake's call log, the due times and the instances' /metrics.

    refreshbench.py table   result.json …
        The Markdown tables of the report.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_json(url: str, timeout: float = 30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


# --------------------------------------------------------------------------- import


def cmd_import(a) -> None:
    base = urllib.parse.urlparse(a.url)
    ids: list[tuple[str, int] | None] = [None] * a.count
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(a.count))

    def worker() -> None:
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
        headers = {"Authorization": f"Bearer {a.key}", "Content-Type": "application/json", "Accept": "application/json"}
        while True:
            with lock:
                if errors:
                    return
                i = next(next_index, None)
            if i is None:
                return
            expires = a.expires_at if a.expires_at is not None else time.time() + a.expires_in
            body = json.dumps({
                "integration": a.integration, "externalUserId": f"bench-user-{i}", "type": "oauth2",
                "accessToken": f"bench-at-{i}", "refreshToken": f"bench-rt-{i}", "expiresAt": iso(expires),
            })
            try:
                conn.request("POST", "/api/v1/credentials", body=body, headers=headers)
                r = conn.getresponse()
                text = r.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"credential {i}: {type(exc).__name__}: {exc}")
                return
            if r.status != 201:
                with lock:
                    errors.append(f"credential {i}: HTTP {r.status}: {text[:300]!r}")
                return
            ids[i] = (json.loads(text)["id"], i)

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("import failed: " + errors[0])
    took = time.time() - started
    with open(a.out, "w") as f:
        for cid, i in ids:  # type: ignore[misc]
            f.write(f"{cid}\t{i}\n")
    print(f"imported {a.count} credentials in {took:.1f}s ({a.count / took:.0f}/s)", file=sys.stderr)


# --------------------------------------------------------------------------- due times


def cmd_due(a) -> None:
    index = {}
    with open(a.ids) as f:
        for line in f:
            cid, i = line.rstrip("\n").split("\t")
            index[cid] = int(i)
    query = "SELECT id, refresh_due_at FROM credentials"
    if a.sqlite:
        db = sqlite3.connect(f"file:{a.sqlite}?mode=ro", uri=True)
        rows = db.execute(query).fetchall()
        db.close()
    else:
        out = subprocess.run(["psql", a.postgres, "-X", "-At", "-F", "\t", "-c", query], check=True, capture_output=True, text=True).stdout
        rows = [line.split("\t") for line in out.splitlines() if line]
    due = {}
    for cid, ms in rows:
        if cid in index:
            if ms in (None, ""):
                sys.exit(f"credential {index[cid]} has no refresh due time")
            due[index[cid]] = int(ms)
    if len(due) != len(index):
        sys.exit(f"found {len(due)} of {len(index)} imported credentials in the database")
    with open(a.out, "w") as f:
        json.dump(due, f)
    values = sorted(due.values())
    now = time.time() * 1000
    print(f"due times: {len(values)} credentials, from {(values[0] - now) / 1000:+.1f}s to {(values[-1] - now) / 1000:+.1f}s from now",
          file=sys.stderr)


# --------------------------------------------------------------------------- waiting


def cmd_wait(a) -> None:
    deadline = time.time() + a.timeout
    last_print = 0.0
    stats = {}
    while time.time() < deadline:
        stats = fetch_json(a.fake + "/_stats?calls=0")
        if stats["distinctBases"] >= a.count:
            break
        if time.time() - last_print >= 10:
            print(f"  … {stats['distinctBases']} of {a.count} credentials refreshed", file=sys.stderr)
            last_print = time.time()
        time.sleep(0.5)
    else:
        print(f"timed out: {stats.get('distinctBases')} of {a.count} credentials refreshed", file=sys.stderr)
    time.sleep(a.settle)


# --------------------------------------------------------------------------- analysis


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def scrape(url: str) -> list[tuple[str, str, float]]:
    with urllib.request.urlopen(url, timeout=30) as r:
        text = r.read().decode()
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = METRIC.match(line)
        if m and m.group(1).startswith("latchkey_refresh"):
            out.append((m.group(1), m.group(2) or "", float(m.group(3))))
    return out


def cmd_analyze(a) -> None:
    stats = fetch_json(a.fake + "/_stats")
    with open(a.due) as f:
        due = {int(k): v / 1000 for k, v in json.load(f).items()}
    calls = stats["calls"]
    first_call: dict[int, float] = {}
    per_base: dict[int, int] = {}
    unknown = 0
    for t, token in calls:
        m = re.fullmatch(r"bench-rt-(\d+)(?:\.\d+)?", token)
        if not m:
            unknown += 1
            continue
        i = int(m.group(1))
        per_base[i] = per_base.get(i, 0) + 1
        first_call.setdefault(i, t)
    refreshed = len(first_call)
    times = sorted(first_call.values())
    first, last = (times[0], times[-1]) if times else (math.nan, math.nan)
    span = last - first
    lags = sorted(t - max(due[i], a.started) for i, t in first_call.items() if i in due)
    # Per second: the busiest and the median second of the window.
    buckets: dict[int, int] = {}
    for t in times:
        buckets[int(t - first)] = buckets.get(int(t - first), 0) + 1
    full_seconds = [buckets.get(s, 0) for s in range(int(span))] if span >= 1 else []

    instances = []
    lag_sum = lag_count = 0.0
    lag_le5 = 0.0
    for url in a.metrics.split(","):
        m = scrape(url)
        inst = {"successes": 0.0, "attempts": 0.0, "failures": 0.0}
        for name, labels, value in m:
            if name == "latchkey_refresh_successes_total" and 'trigger="proactive"' in labels:
                inst["successes"] += value
            elif name == "latchkey_refresh_attempts_total" and 'trigger="proactive"' in labels:
                inst["attempts"] += value
            elif name == "latchkey_refresh_failures_total":
                inst["failures"] += value
            elif name == "latchkey_refresh_lag_seconds_sum":
                lag_sum += value
            elif name == "latchkey_refresh_lag_seconds_count":
                lag_count += value
            elif name == "latchkey_refresh_lag_seconds_bucket" and re.search(r'le="5(\.0)?"', labels):
                lag_le5 += value
        instances.append(inst)

    due_values = sorted(due.values())
    result = {
        "case": json.loads(a.case),
        "label": a.label,
        "count": len(due),
        "refreshCalls": stats["refreshCalls"],
        "refreshed": refreshed,
        "unknownTokens": unknown,
        "sameTokenAgain": stats["sameTokenAgain"],
        "duplicates": stats["refreshCalls"] - refreshed - unknown,
        "credentialsMoreThanOnce": sum(1 for n in per_base.values() if n > 1),
        "first": first, "last": last, "span": span,
        "rate": (refreshed / span) if span > 0 else math.nan,
        "peakSecond": max(full_seconds) if full_seconds else None,
        "medianSecond": sorted(full_seconds)[len(full_seconds) // 2] if full_seconds else None,
        "startToFirst": first - a.started, "startToLast": last - a.started,
        "dueFrom": due_values[0] - a.started, "dueTo": due_values[-1] - a.started,
        "lagP50": percentile(lags, 50), "lagP99": percentile(lags, 99), "lagMax": lags[-1] if lags else math.nan,
        "instances": instances,
        "metricLagMean": (lag_sum / lag_count) if lag_count else None,
        "metricLagCount": lag_count,
        "metricLagLe5": lag_le5,
    }
    with open(a.out, "w") as f:
        json.dump(result, f)
    print(f"{a.label}: {refreshed}/{len(due)} refreshed in {span:.1f}s = {result['rate']:.0f}/s; duplicates {result['duplicates']}; "
          f"lag p50 {result['lagP50']:.2f}s p99 {result['lagP99']:.2f}s; successes per instance "
          f"{'/'.join(str(int(i['successes'])) for i in instances)}; failures {sum(i['failures'] for i in instances):.0f}",
          file=sys.stderr)


# --------------------------------------------------------------------------- report


def fmt(x, digits=1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def cmd_table(a) -> None:
    results = []
    for path in a.results:
        with open(path) as f:
            results.append(json.load(f))
    print("| Case | Store | Instances | Concurrency per instance | Credentials refreshed | Refreshes/s (first → last) "
          "| Busiest second | Duplicate refreshes | Lag p50 s | Lag p99 s | Lag max s | Budget ≥ 200/s, 0 duplicates |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        c = r["case"]
        if c["scenario"] == "backlog":
            verdict = "met" if r["rate"] >= 200 and r["duplicates"] == 0 and r["refreshed"] == r["count"] else "**missed**"
        else:
            verdict = "0 duplicates" if r["duplicates"] == 0 else "**duplicates**"
            verdict += " (arrival-bound, not a throughput figure)"
        print(f"| {r['label']} | {c['store']} | {c['instances']} | {c['concurrency']} | {r['refreshed']:,} of {r['count']:,} "
              f"| {fmt(r['rate'])} | {r['peakSecond'] if r['peakSecond'] is not None else '–'} | {r['duplicates']} "
              f"| {fmt(r['lagP50'], 2)} | {fmt(r['lagP99'], 2)} | {fmt(r['lagMax'], 2)} | {verdict} |")
    print()
    print("| Case | Due times, s from the instances' start | Start → first refresh, s | Start → last refresh, s "
          "| Same refresh token presented twice | Credentials refreshed more than once | Successes per instance (metrics) "
          "| Failures (metrics) | Lag mean s (metrics) | Lag ≤ 5 s (metrics) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in results:
        inst = r["instances"]
        per_instance = " / ".join(f"{int(i['successes']):,}" for i in inst)
        le5 = f"{r['metricLagLe5'] / r['metricLagCount'] * 100:.1f} %" if r["metricLagCount"] else "–"
        print(f"| {r['label']} | {r['dueFrom']:+.0f} … {r['dueTo']:+.0f} | {fmt(r['startToFirst'], 2)} | {fmt(r['startToLast'], 1)} "
              f"| {r['sameTokenAgain']} | {r['credentialsMoreThanOnce']} | {per_instance} "
              f"| {int(sum(i['failures'] for i in inst))} | {fmt(r['metricLagMean'], 2)} | {le5} |")


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("import")
    s.add_argument("--url", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--integration", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--workers", type=int, default=8)
    s.add_argument("--expires-in", type=float)
    s.add_argument("--expires-at", type=float)
    s.add_argument("--out", required=True)
    s = sub.add_parser("due")
    s.add_argument("--ids", required=True)
    s.add_argument("--sqlite")
    s.add_argument("--postgres")
    s.add_argument("--out", required=True)
    s = sub.add_parser("wait")
    s.add_argument("--fake", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--timeout", type=float, required=True)
    s.add_argument("--settle", type=float, default=3)
    s = sub.add_parser("analyze")
    s.add_argument("--fake", required=True)
    s.add_argument("--due", required=True)
    s.add_argument("--started", type=float, required=True)
    s.add_argument("--metrics", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--case", required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("table")
    s.add_argument("results", nargs="+")
    a = p.parse_args()
    if a.cmd == "import" and (a.expires_in is None) == (a.expires_at is None):
        p.error("import needs one of --expires-in and --expires-at")
    if a.cmd == "due" and (a.sqlite is None) == (a.postgres is None):
        p.error("due needs one of --sqlite and --postgres")
    {"import": cmd_import, "due": cmd_due, "wait": cmd_wait, "analyze": cmd_analyze, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    main()
