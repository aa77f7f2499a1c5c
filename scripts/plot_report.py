#!/usr/bin/env python3
"""Plot dcpbench reports.

Turns one or more run reports (schema "dcpbench-report" 1.x, from `dcpbench run --json`) and
comparison files (schema "dcpbench-compare" 1.x, from `dcpbench compare --json`) into PNGs:

  latency_<exchange group>.png  p50 latency vs batch, one line per report/impl variant, with a
                                p5-p95 band; one file per (cp, head_dim, stats_dim, dtype, launch)
  speedup_<exchange group>.png  native speedup over each baseline vs batch, with the 95 % CI
  compare_<name>.png            p50 latency change per compared row, coloured by verdict, with
                                the p50 threshold

Rows without timing (skipped, failed) are left out. Needs matplotlib (Debian: python3-matplotlib);
uses the Agg backend, so no display is needed.

Usage: plot_report.py [REPORT.json ...] [--compare COMPARE.json ...] --out DIR
Exit codes: 0 done (also when there was nothing to plot), 2 unreadable or unsupported input,
3 matplotlib missing.
"""

import argparse
import json
import os
import re
import sys

REPORT_SCHEMA = "dcpbench-report"
COMPARE_SCHEMA = "dcpbench-compare"
SUPPORTED_MAJOR = 1

VERDICT_COLOURS = {
    "SAME": "#9e9e9e",
    "FASTER": "#2e7d32",
    "SLOWER": "#c62828",
    "NOISY": "#f9a825",
    "MISSING": "#6a1b9a",
    "NEW": "#1565c0",
    "VERIFY_CHANGED": "#000000",
    "SKIPPED": "#cfcfcf",
}


class InputError(Exception):
    pass


def load(path, schema):
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read JSON: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("schema"), dict):
        raise InputError(f"{path}: not a dcpbench file (no schema section)")
    name = data["schema"].get("name")
    version = str(data["schema"].get("version", ""))
    if name != schema:
        raise InputError(f"{path}: schema '{name}', expected '{schema}'")
    major = version.split(".")[0]
    if major != str(SUPPORTED_MAJOR):
        raise InputError(f"{path}: schema version {version} is not supported (reads {SUPPORTED_MAJOR}.x)")
    return data


def label_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def group_of(row):
    """The exchange without the batch: (cp, head_dim, stats_dim, dtype, launch)."""
    return (row.get("cp_size"), row.get("head_dim"), row.get("stats_dim"), row.get("dtype"),
            row.get("launch"))


def group_name(g):
    cp, d, s, dtype, launch = g
    return f"cp{cp}_d{d}_s{s}_{dtype}_{launch}"


def group_title(g):
    cp, d, s, dtype, launch = g
    return f"cp={cp} head_dim={d} stats_dim={s} dtype={dtype} launch={launch}"


def variant_of(row):
    parts = [str(row.get("impl"))]
    if row.get("pdl") is not None:
        parts.append("pdl=" + ("on" if row["pdl"] else "off"))
    if row.get("workspace") is not None:
        parts.append(f"ws={row['workspace']}")
    return " ".join(parts)


def timed(row):
    t = row.get("timing")
    if not isinstance(t, dict) or not isinstance(t.get("stats"), dict):
        return None
    s = t["stats"]
    if not all(isinstance(s.get(k), (int, float)) for k in ("p5", "p50", "p95")):
        return None
    return s


def plot_latency(plt, reports, out_dir):
    written = []
    series = {}  # group -> {label: [(batch, p5, p50, p95)]}
    for label, rep in reports:
        for row in rep.get("results", []):
            s = timed(row)
            if s is None or not isinstance(row.get("batch"), int):
                continue
            name = variant_of(row) if len(reports) == 1 else f"{label}: {variant_of(row)}"
            series.setdefault(group_of(row), {}).setdefault(name, []).append(
                (row["batch"], s["p5"] * 1e6, s["p50"] * 1e6, s["p95"] * 1e6))
    for g, lines in sorted(series.items(), key=lambda kv: group_name(kv[0])):
        fig, ax = plt.subplots(figsize=(8, 5))
        for name, pts in sorted(lines.items()):
            pts.sort()
            xs = [p[0] for p in pts]
            line, = ax.plot(xs, [p[2] for p in pts], marker="o", label=name)
            ax.fill_between(xs, [p[1] for p in pts], [p[3] for p in pts], alpha=0.2,
                            color=line.get_color(), linewidth=0)
        batches = sorted({p[0] for pts in lines.values() for p in pts})
        if batches and batches[0] > 0 and batches[-1] / batches[0] >= 16:
            ax.set_xscale("log", base=2)
        ax.set_xlabel("batch (entries)")
        ax.set_ylabel("latency per exchange, p50 (us); band p5-p95")
        ax.set_title(group_title(g))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        path = os.path.join(out_dir, f"latency_{group_name(g)}.png")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_speedup(plt, reports, out_dir):
    written = []
    series = {}  # group -> {name: [(batch, value, lo, hi)]}
    for label, rep in reports:
        rows = {r.get("key"): r for r in rep.get("results", []) if r.get("impl") == "native"}
        for sp in rep.get("speedups", []):
            native = rows.get(sp.get("native_key"))
            value = sp.get("speedup")
            if native is None or not isinstance(value, (int, float)):
                continue
            ci = sp.get("speedup_ci95")
            lo, hi = (ci if isinstance(ci, list) and len(ci) == 2 and
                      all(isinstance(v, (int, float)) for v in ci) else (value, value))
            name = f"{variant_of(native)} vs {sp.get('baseline_impl')}"
            if len(reports) > 1:
                name = f"{label}: {name}"
            series.setdefault(group_of(native), {}).setdefault(name, []).append(
                (native.get("batch"), value, lo, hi))
    for g, lines in sorted(series.items(), key=lambda kv: group_name(kv[0])):
        fig, ax = plt.subplots(figsize=(8, 5))
        for name, pts in sorted(lines.items()):
            pts = sorted(p for p in pts if isinstance(p[0], int))
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            err = [[max(0.0, p[1] - p[2]) for p in pts], [max(0.0, p[3] - p[1]) for p in pts]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=name)
        ax.axhline(1.0, color="grey", linewidth=1, linestyle="--")
        batches = sorted({p[0] for pts in lines.values() for p in pts if isinstance(p[0], int)})
        if batches and batches[0] > 0 and batches[-1] / batches[0] >= 16:
            ax.set_xscale("log", base=2)
        ax.set_xlabel("batch (entries)")
        ax.set_ylabel("speedup = baseline p50 / native p50 (95% CI)")
        ax.set_title(group_title(g))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        path = os.path.join(out_dir, f"speedup_{group_name(g)}.png")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_compare(plt, label, cmp, out_dir):
    rows = [r for r in cmp.get("rows", []) if isinstance(r.get("p50_delta_rel"), (int, float))]
    if not rows:
        return []
    names = [f"{r.get('impl')} {r.get('key')}" for r in rows]
    deltas = [r["p50_delta_rel"] * 100.0 for r in rows]
    colours = [VERDICT_COLOURS.get(r.get("verdict"), "#9e9e9e") for r in rows]
    height = max(3.0, 0.35 * len(rows) + 1.5)
    fig, ax = plt.subplots(figsize=(11, height))
    ax.barh(range(len(rows)), deltas, color=colours)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(names, fontsize="x-small")
    ax.invert_yaxis()
    threshold = cmp.get("thresholds", {}).get("p50_latency_pct")
    if isinstance(threshold, (int, float)):
        for x in (threshold, -threshold):
            ax.axvline(x, color="grey", linestyle="--", linewidth=1)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("p50 latency change, NEW vs BASE (%)")
    summary = cmp.get("summary", {})
    counts = ", ".join(f"{summary[k]} {k}" for k in VERDICT_COLOURS if summary.get(k))
    ax.set_title(f"{label}: {counts}" if counts else label)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for v, c in VERDICT_COLOURS.items()
               if any(r.get("verdict") == v for r in rows)]
    ax.legend(handles, [v for v in VERDICT_COLOURS if any(r.get("verdict") == v for r in rows)],
              fontsize="small", loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    path = os.path.join(out_dir, f"compare_{slug(label)}.png")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("reports", nargs="*", help="run reports (dcpbench run --json)")
    ap.add_argument("--compare", action="append", default=[],
                    help="comparison files (dcpbench compare --json); may be repeated")
    ap.add_argument("--out", required=True, help="folder for the PNG files (created if needed)")
    args = ap.parse_args(argv)
    if not args.reports and not args.compare:
        ap.error("give at least one report or --compare file")

    try:
        reports = [(label_of(p), load(p, REPORT_SCHEMA)) for p in args.reports]
        compares = [(label_of(p), load(p, COMPARE_SCHEMA)) for p in args.compare]
    except InputError as e:
        print(f"plot_report.py: error: {e}", file=sys.stderr)
        return 2

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_report.py: error: matplotlib is not installed (Debian: apt-get install "
              "python3-matplotlib)", file=sys.stderr)
        return 3

    os.makedirs(args.out, exist_ok=True)
    written = []
    written += plot_latency(plt, reports, args.out)
    written += plot_speedup(plt, reports, args.out)
    for label, cmp in compares:
        written += plot_compare(plt, label, cmp, args.out)
    if not written:
        print("plot_report.py: nothing to plot (no timed rows)", file=sys.stderr)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
