#!/usr/bin/env python3
"""tools/bench/report.py - the report of `make bench` (tools/bench.sh).

Reads the figures the run recorded (raw.tsv: row, target, value, note; value
"-" when a run failed, "SKIP" when it could not run) and writes:
  - the table on stdout: one line per row, a column per stack, the ratios
    tapstack/kernel, tapstack/lwIP, tapstack/floor, and how tapstack's and
    the kernel's figures moved since the last run ("vs last");
  - results.json: {"meta": {...}, "rows": [one object per row]};
  - ratios.svg: a bar chart of the ratios on a log scale around 1.0.
A ratio is always tapstack's figure over the other's; each row says whether
higher or lower is better (ping and memory: lower).
"""
import argparse
import json
import math
import os
import sys
from xml.sax.saxutils import escape

TARGETS = [("ts", "tapstack"), ("ts_nooff", "no-offload"),
           ("ts_run", "ts-run"), ("kernel", "kernel"),
           ("lwip", "lwIP"), ("floor", "TAP floor")]
REFS = [("kernel", "ts/kern"), ("lwip", "ts/lwIP"), ("floor", "ts/floor")]


def row_defs():
    rows = [
        ("bulk_up", "bulk host->stack", "Gbit/s", "higher"),
        ("bulk_down", "bulk stack->host", "Gbit/s", "higher"),
        ("ping", "ping round trip", "us", "lower"),
        ("rr64", "64-byte RR, 1 outstanding", "trips/s", "higher"),
        ("http", "HTTP requests/s (wrk -c32)", "req/s", "higher"),
        ("cps", "connections/s (connect,1B,close)", "conn/s", "higher"),
        ("iperf_up", "iperf3 host->stack", "Gbit/s", "higher"),
        ("iperf_down", "iperf3 stack->host (-R)", "Gbit/s", "higher"),
        ("loop_bulk", "loopback bulk (ts-loop)", "Gbit/s", "higher"),
        ("loop_rr", "loopback 64-byte RR (ts-loop)", "trips/s", "higher"),
        ("loop_iperf", "loopback iperf3 127.0.0.1", "Gbit/s", "higher"),
    ]
    for lvl, n in (("1k", "1,000"), ("10k", "10,000"), ("100k", "100,000")):
        rows += [
            ("held_" + lvl, "connections held of " + n, "conns", "higher"),
            ("mem_" + lvl, "memory per idle conn, " + n, "bytes", "lower"),
            ("rr_" + lvl, "64-byte RR, " + n + " held", "trips/s", "higher"),
        ]
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def read_raw(path):
    figs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            row, target, value = parts[:3]
            note = parts[3] if len(parts) > 3 else ""
            figs[(row, target)] = (value, note)
    return figs


def build_rows(figs, prev):
    out = []
    prev_rows = {r["id"]: r for r in prev.get("rows", [])} if prev else {}
    for rid, title, unit, better in row_defs():
        vals = {t: figs[(rid, t)] for t, _ in TARGETS if (rid, t) in figs}
        if not vals:
            continue
        row = {"id": rid, "title": title, "unit": unit, "better": better,
               "values": {t: (num(v) if num(v) is not None else v)
                          for t, (v, _) in vals.items()},
               "notes": {t: n for t, (_, n) in vals.items() if n},
               "ratios": {}, "vs_last": {}}
        for src in ("ts", "ts_nooff", "ts_run"):
            a = num(vals.get(src, ("", ""))[0])
            for ref, _ in REFS:
                b = num(vals.get(ref, ("", ""))[0])
                if a is not None and b:
                    row["ratios"][src + "/" + ref] = round(a / b, 3)
        old = prev_rows.get(rid, {}).get("values", {})
        for t, (v, _) in vals.items():
            a, b = num(v), num(old.get(t))
            if a is not None and b:
                row["vs_last"][t] = round(a / b - 1, 4)
        out.append(row)
    return out


def fmt(v, unit):
    if isinstance(v, str):
        return v
    if v is None:
        return "-"
    if unit == "Gbit/s":
        return "%.2f" % v
    if unit == "us":
        return "%.1f" % v
    return "{:,.0f}".format(v)


def pct(x):
    return "-" if x is None else "%+.0f%%" % (100 * x)


def ratio_cell(r, ref):
    """tapstack's ratio; where only the preload path ran (iperf3), its."""
    if "ts/" + ref in r["ratios"]:
        return "%.3f" % r["ratios"]["ts/" + ref]
    if "ts" not in r["values"] and "ts_run/" + ref in r["ratios"]:
        return "%.3f*" % r["ratios"]["ts_run/" + ref]
    return "-"


def print_table(rows, meta, have_prev):
    shown = [(t, name) for t, name in TARGETS
             if any(t in r["values"] for r in rows)]
    head = "%-34s %-7s" % ("figure", "unit")
    head += "".join(" %11s" % name for _, name in shown)
    head += "".join(" %8s" % lab for _, lab in REFS)
    head += " %9s %9s" % ("ts vs last", "kern vs") if have_prev else ""
    print("== make bench: %s s per run%s, %s CPUs (%s), load %s, %s" % (
        meta.get("bench_time"),
        ", median of %s" % meta["repeat"] if meta.get("repeat", "1") != "1" else "",
        meta.get("cpus"),
        "pinned" if meta.get("pinned") else "not pinned", meta.get("load"),
        meta.get("git")))
    print(head)
    for r in rows:
        line = "%-34s %-7s" % (r["title"], r["unit"])
        line += "".join(" %11s" % fmt(r["values"].get(t, "n/a"), r["unit"])
                        for t, _ in shown)
        line += "".join(" %8s" % ratio_cell(r, ref) for ref, _ in REFS)
        if have_prev:
            line += " %9s %9s" % (pct(r["vs_last"].get("ts")),
                                  pct(r["vs_last"].get("kernel")))
        print(line)
    print("(ratio = tapstack's figure over the other's, * = ts-run's, the"
          " preload path's;\n ping and memory: lower is better, so a ratio"
          " below 1 is tapstack ahead there;\n n/a: not measured on that"
          " stack, -: the run failed, SKIP: it could not run here)")
    notes = {}
    for r in rows:
        for t, n in r["notes"].items():
            notes.setdefault((t, n), []).append(r["id"])
    for (t, n), ids in notes.items():
        print("  note: %s (%s): %s" % (t, ",".join(ids), n))


def add_cpu(rows, path):
    """The stack process's CPU during each run (100 = one core busy)."""
    if not path or not os.path.exists(path):
        return
    by_id = {r["id"]: r for r in rows}
    for (rid, target), (value, _) in read_raw(path).items():
        if rid in by_id and num(value) is not None:
            by_id[rid].setdefault("cpu_percent", {})[target] = num(value)


def add_samples(rows, path):
    """Every sample behind a median (BENCH_REPEAT > 1)."""
    if not path or not os.path.exists(path):
        return
    by_id = {r["id"]: r for r in rows}
    for (rid, target), (value, _) in read_raw(path).items():
        if rid in by_id:
            by_id[rid].setdefault("samples", {})[target] = [
                num(v) if num(v) is not None else v for v in value.split()]


def print_cpu(rows):
    have = [r for r in rows if r.get("cpu_percent")]
    if not have:
        return
    targets = [t for t, _ in TARGETS if any(t in r["cpu_percent"] for r in have)]
    print("CPU of the stack's process during the run (100% = one core busy):")
    for t in targets:
        print("  %-10s %s" % (dict(TARGETS)[t], ", ".join(
            "%s %.0f%%" % (r["id"], r["cpu_percent"][t])
            for r in have if t in r["cpu_percent"])))


def svg_chart(rows):
    """Horizontal bars of every ratio, log scale 0.01..100 around 1.0."""
    bars = []
    for r in rows:
        for ref, lab in REFS:
            x = r["ratios"].get("ts/" + ref)
            if x is None and "ts" not in r["values"]:
                x = r["ratios"].get("ts_run/" + ref)
                lab = lab.replace("ts/", "ts-run/")
            if x and x > 0:
                good = x >= 1 if r["better"] == "higher" else x <= 1
                bars.append(("%s, %s%s" % (r["title"], lab,
                             " (lower is better)" if r["better"] == "lower" else ""),
                             x, good))
    left, width, bar_h, top = 330, 420, 16, 40
    height = top + max(1, len(bars)) * (bar_h + 6) + 30

    def xpos(v):
        v = min(max(v, 0.01), 100.0)
        return left + (math.log10(v) + 2) / 4 * width

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (left + width + 70, height),
           '<rect width="100%" height="100%" fill="#fff"/>',
           '<text x="10" y="20" font-size="14">tapstack / other stack'
           ' (log scale; green: tapstack ahead)</text>']
    for g in (0.01, 0.1, 1, 10, 100):
        x = xpos(g)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>' % (
            x, top - 8, x, height - 20, "#000" if g == 1 else "#ccc"))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (
            x, height - 6, g))
    for i, (label, x, good) in enumerate(bars):
        y = top + i * (bar_h + 6)
        x0, x1 = sorted((xpos(1), xpos(x)))
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (
            left - 6, y + 12, escape(label)))
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (
            x0, y, max(x1 - x0, 1), bar_h, "#3a3" if good else "#c33"))
        out.append('<text x="%.1f" y="%d">%.3f</text>' % (
            max(x1, xpos(1)) + 4, y + 12, x))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--prev")
    ap.add_argument("--cpu", help="row, target, CPU %% of the stack process")
    ap.add_argument("--samples", help="row, target, every sample (BENCH_REPEAT)")
    ap.add_argument("--meta", action="append", default=[])
    a = ap.parse_args()
    meta = dict(m.split("=", 1) for m in a.meta if "=" in m)
    prev = None
    if a.prev and os.path.exists(a.prev):
        try:
            with open(a.prev, encoding="utf-8") as f:
                prev = json.load(f)
        except (OSError, ValueError) as e:
            print("report: ignoring %s: %s" % (a.prev, e), file=sys.stderr)
    rows = build_rows(read_raw(a.raw), prev)
    add_cpu(rows, a.cpu)
    add_samples(rows, a.samples)
    print_table(rows, meta, prev is not None)
    print_cpu(rows)
    if prev is not None:
        print("vs last: against %s (%s, %s)" % (
            a.prev, prev.get("meta", {}).get("date", "?"),
            prev.get("meta", {}).get("git", "?")))
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
        f.write("\n")
    with open(a.svg, "w", encoding="utf-8") as f:
        f.write(svg_chart(rows))
    print("results: %s, chart: %s" % (a.json, a.svg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
