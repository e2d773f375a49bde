"""Prints line and branch coverage per header from a gcovr JSON summary."""
import json
import sys

with open(sys.argv[1]) as f:
    s = json.load(f)
rows = sorted(s["files"], key=lambda r: r["filename"])
print("%-14s %17s %7s %17s %7s" % ("header", "lines", "", "branches", ""))
for r in rows + [dict(s, filename="total")]:
    print("%-14s %8d / %6d %6.1f%% %8d / %6d %6.1f%%" % (
        r["filename"], r["line_covered"], r["line_total"], r["line_percent"],
        r["branch_covered"], r["branch_total"], r["branch_percent"]))
