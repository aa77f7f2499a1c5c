#!/usr/bin/env python3
"""Markdown table of p50 per exchange from one or more dcpbench JSON reports (repetitions of the
same sweep), with the spread across repetitions and the reference kernel's anchors
(shared/docs/anchors.md, one H200, sim, graph, PDL on, S=2, bf16) where they exist.

usage: anchor_table.py [--impl native] [--launch graph] [--pdl on] REPORT.json [REPORT.json ...]
"""
import argparse
import json
import sys

# Reference kernel, H200, sim mode, graph replays, PDL on, S=2, bf16 (anchors.md), µs.
REFERENCE_GRAPH_US = {
    (2, 1, 128): 1.63, (2, 16, 128): 1.85, (2, 64, 128): 1.98, (2, 128, 128): 2.62,
    (2, 1, 512): 1.66, (2, 128, 512): 2.85, (4, 1, 128): 2.03, (4, 128, 128): 3.10,
    (4, 128, 512): 3.72,
}
REFERENCE_EAGER_US = {
    (2, 1, 128): 14.7, (2, 16, 128): 16.1, (2, 64, 128): 16.5, (2, 128, 128): 17.3,
    (2, 1, 512): 15.3, (2, 128, 512): 16.8, (4, 1, 128): 27.2, (4, 128, 128): 26.5,
    (4, 128, 512): 33.9,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", default="native")
    ap.add_argument("--launch", default="graph")
    ap.add_argument("--pdl", default="on")
    ap.add_argument("reports", nargs="+")
    a = ap.parse_args()
    pdl = {"on": True, "off": False}[a.pdl]
    rows = {}
    floors = {}
    for path in a.reports:
        rep = json.load(open(path))
        for r in rep["results"]:
            if r["impl"] != a.impl or r["launch"] != a.launch or r["status"] != "ok":
                continue
            if r["pdl"] is not None and r["pdl"] != pdl:
                continue
            k = (r["cp_size"], r["batch"], r["head_dim"], r["stats_dim"], r["dtype"])
            rows.setdefault(k, []).append(r["timing"]["stats"]["p50"] * 1e6)
        for f in rep.get("launch_floors", []):
            if f["launch"] == a.launch:
                floors.setdefault(f["cp_size"], []).append(f["timing"]["stats"]["p50"] * 1e6)
    ref = REFERENCE_GRAPH_US if a.launch == "graph" else REFERENCE_EAGER_US
    print(f"| cp | B | D | S | dtype | {a.impl} {a.launch} p50 (µs, median of runs) | spread | runs | reference | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in sorted(rows):
        v = sorted(rows[k])
        med = v[len(v) // 2]
        spread = (v[-1] - v[0]) / med * 100 if med else 0
        rk = (k[0], k[1], k[2])
        rv = ref.get(rk) if k[3] == 2 and k[4] == "bf16" else None
        ratio = f"{med / rv:.2f}x" if rv else ""
        print(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {k[4]} | {med:.2f} | {spread:.1f} % | {len(v)} | "
              f"{rv if rv else ''} | {ratio} |")
    for cp in sorted(floors):
        v = sorted(floors[cp])
        print(f"\nempty-kernel floor ({a.launch}, {cp} stream(s)): {v[len(v)//2]:.2f} µs (runs: "
              + ", ".join(f"{x:.2f}" for x in v) + ")")


if __name__ == "__main__":
    sys.exit(main())
