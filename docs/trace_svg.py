#!/usr/bin/env python3
"""Draws a trace written by aio_trace_write_json (aio_trace.h) as an SVG
timeline: one row per task, in the order the tasks first appear, with each
step as a bar, and the loop's waits on the first row.

    python3 docs/trace_svg.py TRACE.json > TRACE.svg

Only the standard library is used.  Perfetto (ui.perfetto.dev) and
chrome://tracing open the same file interactively.
"""
import json
import sys
from xml.sax.saxutils import escape

WIDTH, LABEL, ROW, TOP, BOTTOM = 1000, 150, 18, 30, 30
COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: trace_svg.py TRACE.json")
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    names, order, bars = {}, [0], []
    for e in events:
        tid = e.get("tid", 0)
        if e["ph"] == "M" and e["name"] == "thread_name":
            names[tid] = e["args"]["name"]
        if tid not in order:
            order.append(tid)
        if e["ph"] == "X":
            bars.append((tid, float(e["ts"]), float(e["dur"])))
    if not bars:
        sys.exit("trace_svg.py: no steps or waits in the trace")
    t0 = min(b[1] for b in bars)
    t1 = max(b[1] + b[2] for b in bars)
    span = max(t1 - t0, 1e-9)
    plot = WIDTH - LABEL - 10
    height = TOP + ROW * len(order) + BOTTOM
    row = {tid: i for i, tid in enumerate(order)}
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
           % (WIDTH, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="13">aio trace: %d steps and waits over %.2f ms</text>'
           % (LABEL, len(bars), span / 1000.0)]
    for tid in order:
        y = TOP + row[tid] * ROW
        if tid == 0:
            label = "loop waits"
        else:
            label = names.get(tid, "")
            if not label or label == "task %d" % tid:
                label = "task %x" % tid  # unnamed: its address
        out.append('<text x="5" y="%d">%s</text>' % (y + 12, escape(label)))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#eee"/>' % (LABEL, y + ROW - 1, WIDTH - 10, y + ROW - 1))
    for tid, ts, dur in bars:
        x = LABEL + (ts - t0) / span * plot
        w = max(dur / span * plot, 0.6)
        y = TOP + row[tid] * ROW + 2
        colour = "#bbbbbb" if tid == 0 else COLOURS[row[tid] % len(COLOURS)]
        out.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"/>' % (x, y, w, ROW - 5, colour))
    ybase = TOP + ROW * len(order) + 14
    for k in range(6):
        x = LABEL + plot * k / 5.0
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%.2f ms</text>' % (x, ybase, span * k / 5.0 / 1000.0))
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
