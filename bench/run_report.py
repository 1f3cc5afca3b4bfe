#!/usr/bin/env python3
"""The report step of bench/run: one result directory in, the generated
section of docs/benchmarks.md and the charts' data and gnuplot script out.

    run_report.py --results DIR --out FILE --charts DIR --terminal pngcairo|png
    run_report.py --line RUN.json STATUS      one line about one run (console)

DIR holds what bench/run wrote: info.tsv (key, tab, value), manifest.tsv
(one run a line: id, label, mode, server, status, exit status, JSON file,
parley-bench arguments, a note on how the server stopped) and each run's
JSON from parley-bench. Only the text between the bench/run markers of FILE
is replaced; a FILE without them gets them before its first second-level
heading. charts.gp, written into DIR, draws throughput.png and latency.png
into --charts when gnuplot runs it from DIR.
Standard library only: Debian's python3 is enough.
"""

import argparse
import json
import math
import os
import platform
import sys

BEGIN = "<!-- bench/run: begin (generated: edit bench/run and bench/run_report.py, not this section) -->"
BEGIN_PREFIX = "<!-- bench/run: begin"
END = "<!-- bench/run: end -->"
NAMES = {"parley": "Parley", "node": "Node.js"}
COLORS = {"parley": "#1f6fb4", "node": "#3c9a3c"}
PERCENTILES = [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9")]
DASH = "–"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- reading -------------------------------------------------------------------

def read_tsv_info(path):
    info = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            info[key] = value
    return info


def read_json(path):
    """The run's JSON, or None when parley-bench left nothing usable."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def read_runs(results):
    runs = []
    with open(os.path.join(results, "manifest.tsv"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            fields += [""] * (9 - len(fields))
            run_id, label, mode, server, status, rc, name, args, note = fields[:9]
            runs.append({
                "id": run_id, "label": label, "mode": mode, "server": server,
                "status": status, "rc": rc, "args": args, "stop_note": note,
                "data": read_json(os.path.join(results, name)),
                "server_log": last_line(os.path.join(results, f"{run_id}.{server}.server.log")),
            })
    return runs


def last_line(path):
    """The last non-empty line of a log, shortened: why a server did not start."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def get(data, *keys):
    """data[k1][k2]..., or None when any level is missing."""
    for key in keys:
        if not isinstance(data, dict) or key not in data or data[key] is None:
            return None
        data = data[key]
    return data


# --- formatting ----------------------------------------------------------------

def count(v):
    return DASH if v is None else f"{v:,.0f}"


def ms(v):
    """Latency in ms to about three significant digits."""
    if v is None:
        return DASH
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def secs(v):
    """Seconds to about three significant digits (the same steps as ms)."""
    return ms(v)


def us(v):
    return DASH if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def ratio(a, b):
    if a is None or b is None or b == 0:
        return DASH
    r = a / b
    return f"{r:.2f}" if r < 10 else f"{r:.1f}"


def failure_reason(run):
    data = run["data"]
    status = run["status"]
    if status == "no-server":
        why = run.get("server_log")
        return "the server did not start or did not answer /api/health" + (f" (its log: `{why}`)" if why else "")
    if status == "timeout":
        return "parley-bench did not finish in time and was stopped"
    reasons = []
    if data:
        reasons += [str(f) for f in data.get("failures") or []]
        if data.get("error"):
            reasons.append(str(data["error"]))
        errors = [str(e) for e in (data.get("errors") or [])[:3]]
        if errors:
            reasons.append("first errors: " + "; ".join(errors))
    if not reasons:
        reasons.append(f"parley-bench exited with status {run['rc']}")
    return "; ".join(reasons)


def ok(run):
    return run["status"] == "ok" and run["data"] is not None


# --- the console line ------------------------------------------------------------

def console_line(path, status):
    data = read_json(path)
    run = {"data": data, "status": status, "rc": "?"}
    if status != "ok" or data is None:
        return f"FAILED ({status}): {failure_reason(run)}"
    mode = data.get("mode")
    if mode == "pairs":
        lat = data.get("receipt_latency_ms") or {}
        return (f"{count(data.get('acked_per_s'))} acked/s, send-to-receipt p50 {ms(lat.get('p50'))} ms"
                f" p99 {ms(lat.get('p99'))} ms, server {us(get(data, 'server', 'cpu_us_per_msg'))} us/msg")
    if mode == "group":
        lat = data.get("delivery_latency_ms") or {}
        return (f"{count(data.get('deliveries_per_s'))} deliveries/s ({count(data.get('acked_per_s'))} messages/s),"
                f" send-to-delivery p50 {ms(lat.get('p50'))} ms p99 {ms(lat.get('p99'))} ms,"
                f" server {us(get(data, 'server', 'cpu_us_per_delivery'))} us/delivery")
    if mode == "http":
        lat = data.get("latency_ms") or {}
        return (f"{count(data.get('requests_per_s'))} requests/s, p50 {ms(lat.get('p50'))} ms"
                f" p99 {ms(lat.get('p99'))} ms, server {us(get(data, 'server', 'cpu_us_per_request'))} us/request")
    if mode == "idle":
        return (f"{count(data.get('connected'))} sockets in {data.get('connect_s')} s,"
                f" server {get(data, 'server', 'rss_kib_per_socket')} KiB/socket")
    return "ok"


# --- the Markdown section ------------------------------------------------------------

def machine(info):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "unknown"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    debian = "unknown"
    try:
        with open("/etc/debian_version", encoding="utf-8") as f:
            debian = "Debian " + f.read().strip()
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    servers = info.get("servers", "").split()
    lines = [
        f"- **CPU**: {cpu}, {usable} cores usable ({os.cpu_count()} online); {ram} RAM",
        f"- **System**: Linux {platform.release()}, {debian}; open-files limit {info.get('nofile', '?')}",
        f"- **Parley**: commit {info.get('commit', '?')}"
        + (f", `{info.get('parleyd', '?')}` ({info.get('parleyd_build_type', '?')}), {info.get('compiler', '?')}"
           if "parley" in servers else " (not run)"),
        "- **Baseline**: "
        + (f"Node.js {info.get('node', '?')}, `bench/peers/node` (Express 5, Socket.IO 4, better-sqlite3)"
           if "node" in servers else "not run"),
        f"- **When**: {info.get('date', '?')}; load average before the run {info.get('loadavg', '?')}",
        "- The servers and `parley-bench` run on the same machine and share its cores;"
        " the *cores* columns say how much of them each used.",
    ]
    return lines


def by_load(runs):
    """[(id, label, mode, {server: run})] in the order the loads ran."""
    loads = {}
    for run in runs:
        loads.setdefault(run["id"], (run["id"], run["label"], run["mode"], {}))[3][run["server"]] = run
    return list(loads.values())


class Notes:
    """Footnotes for failed runs and unclean server stops."""

    def __init__(self):
        self.lines = []

    def add(self, text):
        self.lines.append(text)
        return f"<sup>{len(self.lines)}</sup>"

    def render(self):
        return [f"{i}. {line}" for i, line in enumerate(self.lines, 1)]


def cell_for(run, notes, value):
    """The main cell of a run: its value, or "failed" with a note saying why."""
    label = f"{run['label']} on {NAMES[run['server']]}"
    if not ok(run):
        return "**failed**" + notes.add(f"{label}: {failure_reason(run)}")
    text = value
    if run["stop_note"]:
        text += notes.add(f"{label}: the server {run['stop_note']}")
    return text


def cores(run):
    s = get(run["data"], "server", "cpu_cores")
    g = get(run["data"], "generator", "cpu_cores")
    return f"{'?' if s is None else f'{s:.2f}'} / {'?' if g is None else f'{g:.2f}'}"


def summary_table(loads, servers):
    head = "| load | measure | " + " | ".join(NAMES[s] for s in servers)
    if len(servers) == 2:
        head += " | Parley / Node.js"
    lines = [head + " |", "|" + " --- |" * (head.count("|"))]

    def row(label, measure, values):
        cells = [label, measure] + [v[0] for v in values]
        if len(servers) == 2:
            cells.append(ratio(values[0][1], values[1][1]))
        lines.append("| " + " | ".join(cells) + " |")

    for _, label, mode, by_server in loads:
        def value(key_path, fmt):
            out = []
            for s in servers:
                run = by_server.get(s)
                v = get(run["data"], *key_path) if run and ok(run) else None
                out.append((fmt(v) if run and ok(run) else ("failed" if run else DASH), v))
            return out

        if mode == "pairs":
            row(label, "messages acked/s", value(("acked_per_s",), count))
        elif mode == "group":
            row(label, "deliveries/s", value(("deliveries_per_s",), count))
            row(label, "server µs per delivery (lower is better)", value(("server", "cpu_us_per_delivery"), us))
        elif mode == "http":
            row(label, "requests/s", value(("requests_per_s",), count))
        elif mode == "idle":
            row(label, "sockets connected/s", value(("connect_per_s",), count))
            row(label, "server RSS per socket, KiB (lower is better)",
                value(("server", "rss_kib_per_socket"), lambda v: DASH if v is None else f"{v:.2f}"))
    return lines


def latency_cells(lat):
    return [ms(get(lat, key)) for key, _ in PERCENTILES]


def pairs_table(loads, servers, notes):
    lines = [
        "| load | server | acked/s | p50 | p90 | p99 | p99.9 | ack p50 / p99 | server µs/msg"
        " | generator µs/msg | cores (server / generator) | lost / duplicated | connect (s) |",
        "|" + " --- |" * 13,
    ]
    for _, label, mode, by_server in loads:
        if mode != "pairs":
            continue
        for s in servers:
            run = by_server.get(s)
            if not run:
                continue
            d = run["data"]
            main = cell_for(run, notes, count(get(d, "acked_per_s")))
            if ok(run):
                rest = latency_cells(get(d, "receipt_latency_ms")) + [
                    f"{ms(get(d, 'ack_latency_ms', 'p50'))} / {ms(get(d, 'ack_latency_ms', 'p99'))}",
                    us(get(d, "server", "cpu_us_per_msg")), us(get(d, "generator", "cpu_us_per_msg")),
                    cores(run), f"{get(d, 'lost')} / {get(d, 'duplicated')}", secs(get(d, "connect_s")),
                ]
            else:
                rest = [DASH] * 10
            lines.append("| " + " | ".join([label, NAMES[s], main] + rest) + " |")
    return lines


def group_table(loads, servers, notes):
    lines = [
        "| load | server | deliveries/s | messages/s | receipts/s | p50 | p90 | p99 | p99.9 | ack p50 / p99"
        " | server µs/delivery | server µs/msg | cores (server / generator) | lost / duplicated | connect (s) |",
        "|" + " --- |" * 15,
    ]
    for _, label, mode, by_server in loads:
        if mode != "group":
            continue
        for s in servers:
            run = by_server.get(s)
            if not run:
                continue
            d = run["data"]
            main = cell_for(run, notes, count(get(d, "deliveries_per_s")))
            if ok(run):
                rest = [count(get(d, "acked_per_s")), count(get(d, "receipts_per_s"))]
                rest += latency_cells(get(d, "delivery_latency_ms")) + [
                    f"{ms(get(d, 'ack_latency_ms', 'p50'))} / {ms(get(d, 'ack_latency_ms', 'p99'))}",
                    us(get(d, "server", "cpu_us_per_delivery")), us(get(d, "server", "cpu_us_per_msg")),
                    cores(run), f"{get(d, 'lost')} / {get(d, 'duplicated')}", secs(get(d, "connect_s")),
                ]
            else:
                rest = [DASH] * 12
            lines.append("| " + " | ".join([label, NAMES[s], main] + rest) + " |")
    return lines


def http_table(loads, servers, notes):
    lines = [
        "| load | server | requests/s | p50 | p90 | p99 | p99.9 | server µs/request | generator µs/request"
        " | cores (server / generator) | failed requests |",
        "|" + " --- |" * 11,
    ]
    for _, label, mode, by_server in loads:
        if mode != "http":
            continue
        for s in servers:
            run = by_server.get(s)
            if not run:
                continue
            d = run["data"]
            main = cell_for(run, notes, count(get(d, "requests_per_s")))
            if ok(run):
                rest = latency_cells(get(d, "latency_ms")) + [
                    us(get(d, "server", "cpu_us_per_request")), us(get(d, "generator", "cpu_us_per_request")),
                    cores(run), count(get(d, "failed")),
                ]
            else:
                rest = [DASH] * 8
            lines.append("| " + " | ".join([label, NAMES[s], main] + rest) + " |")
    return lines


def idle_table(loads, servers, notes):
    lines = [
        "| load | server | connected | connect (s) | connects/s | server RSS before → after (MiB)"
        " | server RSS per socket (KiB) | server µs per connect |",
        "|" + " --- |" * 8,
    ]

    def mib(v):
        return "?" if v is None else f"{v / 1024:.1f}"

    for _, label, mode, by_server in loads:
        if mode != "idle":
            continue
        for s in servers:
            run = by_server.get(s)
            if not run:
                continue
            d = run["data"]
            main = cell_for(run, notes, f"{count(get(d, 'connected'))} of {count(get(d, 'sockets'))}")
            if ok(run):
                per_socket = get(d, "server", "rss_kib_per_socket")
                rest = [
                    secs(get(d, "connect_s")), count(get(d, "connect_per_s")),
                    f"{mib(get(d, 'server', 'rss_kib_before'))} → {mib(get(d, 'server', 'rss_kib_after'))}",
                    DASH if per_socket is None else f"{per_socket:.2f}",
                    us(get(d, "server", "connect_cpu_us_per_socket")),
                ]
            else:
                rest = [DASH] * 5
            lines.append("| " + " | ".join([label, NAMES[s], main] + rest) + " |")
    return lines


def commands(info, loads, servers):
    bench = info.get("parley_bench", "parley-bench")
    lines = [
        "```",
        info.get("invocation", "bench/run"),
        "```",
        "",
        "Each load on each server started fresh (`$TMP` a new temporary directory, its working"
        " directory; `$PORT` a free port), then stopped with SIGTERM:",
        "",
        "```",
    ]
    lines += [info[f"server_cmd_{s}"] for s in servers if f"server_cmd_{s}" in info]
    lines += [
        "```",
        "",
        "The load generator, once per load and server (`$URL` `http://127.0.0.1:$PORT`, `$PID` the server's pid):",
        "",
        "```",
    ]
    for _, label, mode, by_server in loads:
        run = next(iter(by_server.values()))
        lines.append(f"{bench} {mode} {run['args']} --url $URL --server-pid $PID")
    lines.append("```")
    return lines


def section(info, runs, out_path, charts_dir):
    servers = [s for s in info.get("servers", "parley node").split() if s in NAMES]
    loads = by_load(runs)
    notes = Notes()
    quick = info.get("quick") == "1"
    out_dir = os.path.dirname(os.path.abspath(out_path))
    rel = os.path.relpath(charts_dir, out_dir)
    node_readme = os.path.relpath(os.path.join(ROOT, "bench/peers/node/README.md"), out_dir)
    bench_readme = os.path.relpath(os.path.join(ROOT, "bench/parley-bench/README.md"), out_dir)
    lines = [BEGIN, "## Parley and the Node.js baseline (`bench/run`)", ""]
    if quick:
        lines += [
            "**Smoke run (`bench/run --quick`): short runs and small loads, not for comparison.**",
            "",
        ]
    lines += [
        "The same loads against `parleyd` and against the Node.js baseline"
        f" ([bench/peers/node]({node_readme})), one after the other in one run of"
        f" `bench/run`, driven by `parley-bench` ([its README]({bench_readme})):"
        f" {info.get('duration', '?')} s measured after {info.get('warmup', '?')} s of warm-up"
        " per load (idle: connect, settle, hold). Single runs.",
        "",
        f"![Throughput by load, Parley and Node.js]({rel}/throughput.png)",
        f"![Latency percentiles by load, Parley and Node.js]({rel}/latency.png)",
        "",
    ]
    lines += machine(info)
    lines += ["", "### Summary", ""]
    lines += summary_table(loads, servers)
    lines += [
        "",
        "### Messages over Socket.IO (`pairs`)",
        "",
        "`pairs N x W`: N sender/receiver pairs of users, one WebSocket each; each sender keeps W"
        " `message:send` un-acked. *acked/s*: sends the server acknowledged (after the durable"
        " commit) per second. Latency (ms): from the send to the receiver's `message:received`;"
        " *ack*: from the send to the server's ack to the sender."
        " CPU per message: CPU time over the interval divided by the acked messages. *lost /"
        " duplicated* must be 0; *connect*: time to open all 2N sockets.",
        "",
    ]
    lines += pairs_table(loads, servers, notes)
    if any(mode == "group" for _, _, mode, _ in loads):
        lines += [
            "",
            "### Groups over Socket.IO (`group`, Parley only: the baseline has no groups)",
            "",
            "`group M x S x W`: one group of M members, one WebSocket each; S of them keep W"
            " `message:send` un-acked. *deliveries/s*: `message:received` counted at every member per"
            " second (each acked message makes M-1); *receipts/s*: `message:delivered` back at the"
            " senders. Latency (ms): from the send to each member's `message:received`. Server µs per"
            " delivery and per message: its CPU time over the interval divided by each.",
            "",
        ]
        lines += group_table(loads, servers, notes)
    lines += [
        "",
        "### REST (`http`)",
        "",
        "Keep-alive HTTP/1.1 connections, one request at a time each: *send* is"
        " `POST /api/messages/send` (201 after the commit), *history* is"
        " `GET /api/messages/<peerId>?limit=50` on a conversation of 50 messages. Latency (ms):"
        " of each request.",
        "",
    ]
    lines += http_table(loads, servers, notes)
    lines += [
        "",
        "### Idle sockets (`idle`)",
        "",
        "Authenticated Socket.IO sockets held open. *RSS per socket*: the server's RSS growth"
        " from before the first socket to after the last (plus the settle time), divided by the"
        " sockets; *µs per connect*: the server's CPU time over the connect phase per socket.",
        "",
    ]
    lines += idle_table(loads, servers, notes)
    if notes.lines:
        lines += ["", "Notes:", ""] + notes.render()
    lines += ["", "### Commands", ""]
    lines += commands(info, loads, servers)
    lines += [
        "",
        "Raw results (each run's JSON, exact command line, and the server's and generator's"
        " output) are left in `build/bench-results/<time>/` on the machine that ran them.",
        END,
    ]
    return "\n".join(lines) + "\n"


def replace_section(path, text):
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    begin = doc.find(BEGIN_PREFIX)
    end = doc.find(END)
    if begin >= 0 and end > begin:
        doc = doc[:begin] + text.rstrip("\n") + doc[end + len(END):]
    elif begin >= 0 or end >= 0:
        sys.exit(f"run_report.py: {path} has only one of the bench/run markers; fix it by hand")
    else:
        # Before the first second-level heading: after the intro.
        at = doc.find("\n## ")
        at = len(doc) if at < 0 else at + 1
        doc = doc[:at] + text + "\n" + doc[at:]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(doc)
    os.replace(tmp, path)


# --- charts ------------------------------------------------------------------------

def short(v):
    """A rate to three significant digits: 423, 4.20k, 20.0k, 115k."""
    if v < 1000:
        return f"{v:.0f}"
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if v >= div:
            x = v / div
            return (f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}") + unit
    return f"{v:.0f}"


def gp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def charts(info, runs, results, charts_dir, terminal):
    servers = [s for s in info.get("servers", "parley node").split() if s in NAMES]
    loads = by_load(runs)
    quick = " (smoke run, --quick)" if info.get("quick") == "1" else ""

    def value(run, *keys):
        return get(run["data"], *keys) if run and ok(run) else None

    # Throughput: the loads that have one (pairs: acked/s, http: requests/s).
    rows = []
    for _, label, mode, by_server in loads:
        key = {"pairs": "acked_per_s", "http": "requests_per_s"}.get(mode)
        if key:
            rows.append((label, [value(by_server.get(s), key) for s in servers]))
    present = [v for _, values in rows for v in values if v]
    y_min = 10 ** math.floor(math.log10(min(present))) if present else 1
    y_max = 10 ** math.ceil(math.log10(max(present) * 1.5)) if present else 10
    # Columns: load, one value per server, then per server the bar's label
    # and where it goes ("failed" near the axis for a run without a value).
    with open(os.path.join(results, "throughput.dat"), "w", encoding="utf-8") as f:
        f.write("# load " + " ".join(servers) + " labels... positions...\n")
        for label, values in rows:
            texts = [gp_string(short(v) if v else "failed") for v in values]
            where = [f"{v:.1f}" if v else f"{y_min * 1.25:g}" for v in values]
            f.write(" ".join([gp_string(label)] + ["-" if v is None else f"{v:.1f}" for v in values]
                             + texts + where) + "\n")

    # Latency: one block per load with a percentile a line.
    panels = []
    with open(os.path.join(results, "latency.dat"), "w", encoding="utf-8") as f:
        for _, label, mode, by_server in loads:
            key = {"pairs": "receipt_latency_ms", "http": "latency_ms"}.get(mode)
            if not key:
                continue
            cols = [value(by_server.get(s), key) for s in servers]
            if not any(cols):
                continue
            if panels:
                f.write("\n\n")
            for pkey, pname in PERCENTILES:
                vals = [get(c, pkey) if c else None for c in cols]
                f.write(gp_string(pname) + " " + " ".join("-" if v is None else f"{v}" for v in vals) + "\n")
            what = "send to receipt" if mode == "pairs" else "request"
            panels.append((label + f" ({what})", [s for s, c in zip(servers, cols) if c],
                           [s for s, c in zip(servers, cols) if not c and by_server.get(s)]))
    lat_values = [get(get(run["data"], k), p) for run in runs if ok(run)
                  for k in ("receipt_latency_ms", "latency_ms") for p, _ in PERCENTILES]
    lat_values = [v for v in lat_values if v]

    out = os.path.abspath(charts_dir)
    font = ' font "sans,10"' if terminal == "pngcairo" else ""
    gp = [
        "# Written by bench/run_report.py; run from this directory: gnuplot charts.gp",
        'set datafile missing "-"',
        "set style fill solid 0.85 border -1",
        "set grid ytics mytics",
        "set key top left",
        "",
        f"set terminal {terminal} size 1100,560{font}",
        f"set output {gp_string(os.path.join(out, 'throughput.png'))}",
        f"set title {gp_string('Throughput by load' + quick + ': messages acked/s (pairs), requests/s (http)')}",
        "set logscale y",
        "set ylabel \"per second (log scale)\"",
        "set format y \"%.0s%c\"",
        "set xtics nomirror",
        "set boxwidth 0.36",
        f"set xrange [-0.6:{max(len(rows), 1) - 0.4}]",
    ]
    gp.append(f"set yrange [{y_min:g}:{y_max:g}]")
    plots = []
    n = len(servers)
    for i, s in enumerate(servers):
        col, text, where = i + 2, i + 2 + n, i + 2 + 2 * n
        offset = (i - (n - 1) / 2) * 0.38
        xtic = ":xtic(1)" if not plots else ""
        # gnuplot stops on a plot with no valid point: no boxes for a
        # server whose every run failed, only its "failed" labels.
        if any(values[i] for _, values in rows):
            plots.append(f"'throughput.dat' using ($0{offset:+.2f}):{col}{xtic} with boxes"
                         f" lc rgb '{COLORS[s]}' title '{NAMES[s]}'")
            xtic = ""
        plots.append(f"'throughput.dat' using ($0{offset:+.2f}):{where}:{text}{xtic} with labels offset 0,0.7 notitle")
    if rows:
        gp.append("plot " + ", \\\n     ".join(plots))
    else:
        gp += ["unset logscale y", "unset ytics", "set yrange [0:1]",
               "set label 1 \"no successful run\" at graph 0.5, 0.5 center", "plot 2 notitle", "unset label 1"]
    gp += ["", "unset xrange", "unset yrange", "unset title", "unset xtics", "set xtics nomirror", "set ytics"]

    cols_n = min(3, max(len(panels), 1))
    rows_n = max(1, math.ceil(len(panels) / cols_n))
    gp += [
        f"set terminal {terminal} size {380 * cols_n + 40},{330 * rows_n + 40}{font}",
        f"set output {gp_string(os.path.join(out, 'latency.png'))}",
        "set logscale y",
        "set ylabel \"ms (log scale)\"",
        "# Below each panel: the lines may run anywhere inside it.",
        "set key below horizontal",
        "set format y \"%g\"",
        "set xrange [-0.3:3.3]",
    ]
    if lat_values:
        gp.append(f"set yrange [{10 ** math.floor(math.log10(min(lat_values)))}:{10 ** math.ceil(math.log10(max(lat_values) * 1.2))}]")
    gp.append(f"set multiplot layout {rows_n},{cols_n} title {gp_string('Latency percentiles by load' + quick)}")
    if not panels:
        gp += ["unset logscale y", "unset xtics", "unset ytics", "unset ylabel", "set yrange [0:1]",
               "set label 1 \"no successful run\" at graph 0.5, 0.5 center", "plot 2 notitle"]
    for index, (title, with_data, failed) in enumerate(panels):
        gp.append(f"set title {gp_string(title)}")
        if failed:
            text = ", ".join(NAMES[s] for s in failed) + ": failed"
            gp.append(f"set label 2 {gp_string(text)} at graph 0.97, 0.08 right")
        else:
            gp.append("unset label 2")
        plots = []
        for i, s in enumerate(servers):
            if s not in with_data:
                continue
            xtic = ":xtic(1)" if not plots else ""
            plots.append(f"'latency.dat' index {index} using 0:{i + 2}{xtic} with linespoints lw 2 pt 7"
                         f" lc rgb '{COLORS[s]}' title '{NAMES[s]}'")
        gp.append("plot " + ", ".join(plots))
    gp.append("unset multiplot")
    with open(os.path.join(results, "charts.gp"), "w", encoding="utf-8") as f:
        f.write("\n".join(gp) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", nargs=2, metavar=("JSON", "STATUS"))
    parser.add_argument("--results")
    parser.add_argument("--out")
    parser.add_argument("--charts")
    parser.add_argument("--terminal", default="pngcairo", choices=["pngcairo", "png"])
    args = parser.parse_args()
    if args.line:
        print(console_line(*args.line))
        return
    if not (args.results and args.out and args.charts):
        parser.error("--results, --out and --charts are required")
    info = read_tsv_info(os.path.join(args.results, "info.tsv"))
    runs = read_runs(args.results)
    replace_section(args.out, section(info, runs, args.out, args.charts))
    charts(info, runs, args.results, args.charts, args.terminal)


if __name__ == "__main__":
    main()
