#!/usr/bin/env python3
"""The tables of docs/benchmarks.md's "Communication backends" section, from
`trellis-bench comm --json` files, and the backends against their targets.

    bench/comm/summarize_comm.py results/*.json [--in-place] [--sizes 1K,64K,1M,16M,64M]
                                 [--by-size]

Prints Markdown: per operation, each backend's bus bandwidth at the chosen sizes and its time at
the smallest size measured (8 B: the latency), medians over repeated runs, each also as a
multiple of the mpi-raw baseline (--by-size: one row per size, the backends side by side); then
the targets (issue 20), for every operation and rank count measured against mpi-raw:
  - mpi plugin: busbw >= 0.95 x mpi-raw at every size
  - ucx plugin: busbw >= 1.0 x mpi-raw at every size, and >= 1.5 x from 1 MiB on all_reduce,
    reduce_scatter and all_gather
  - both: the 8-byte time <= 1.2 x mpi-raw's
Standard library only.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comm_results import median_cells, read_rows, size_label  # noqa: E402

BASELINE = "mpi-raw"
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text):
    text = text.strip()
    if text and text[-1].upper() in UNITS:
        return int(text[:-1]) * UNITS[text[-1].upper()]
    return int(text)


def ratio(value, base):
    return f"{value / base:.2f}x" if base else "-"


def cell_keys(cells, op, nranks, in_place):
    """The cells of one table, the baseline last."""
    return sorted((k for k in cells if k[1] == op and k[2] == nranks and k[3] == in_place),
                  key=lambda k: (k[0] == BASELINE, k[0]))


def footer(cells, keys, op, nranks, in_place):
    runs = max(cell["runs"] for k in keys for cell in cells[k].values())
    wrong = sum(cell["wrong"] for k in keys for cell in cells[k].values())
    return ["", f"({op}, {nranks} ranks, {'in place' if in_place else 'out of place'}; "
                f"median of {runs} run(s) per cell; wrong elements in all runs: {wrong})"]


def table(cells, op, nranks, in_place, sizes):
    keys = cell_keys(cells, op, nranks, in_place)
    if not keys:
        return []
    base = cells.get((BASELINE, op, nranks, in_place), {})
    smallest = min(min(cells[k]) for k in keys)
    header = (["backend"] + [f"busbw {size_label(s)} (GB/s)" for s in sizes]
              + [f"time {size_label(smallest)} (us)"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in keys:
        by_size = cells[key]
        row = [key[0] + (" (baseline)" if key[0] == BASELINE else "")]
        for size in sizes:
            cell = by_size.get(size)
            if cell is None:
                row.append("-")
                continue
            text = f"{cell['busbw_gbs']:.2f}"
            if key[0] != BASELINE and size in base:
                text += f" ({ratio(cell['busbw_gbs'], base[size]['busbw_gbs'])})"
            row.append(text)
        cell = by_size.get(smallest)
        text = f"{cell['time_us']:.2f}" if cell else "-"
        if cell and key[0] != BASELINE and smallest in base:
            text += f" ({ratio(cell['time_us'], base[smallest]['time_us'])})"
        row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    return lines + footer(cells, keys, op, nranks, in_place)


def table_by_size(cells, op, nranks, in_place, sizes):
    """One row per size: each backend's busbw and its multiple of the baseline's; then the time
    at the smallest size (the latency), the same way."""
    keys = cell_keys(cells, op, nranks, in_place)
    if not keys:
        return []
    base = cells.get((BASELINE, op, nranks, in_place), {})
    others = [k for k in keys if k[0] != BASELINE] if base else []
    header = (["size"] + [f"{k[0]} busbw (GB/s)" for k in keys]
              + [f"{k[0]} / {BASELINE}" for k in others])

    def row(label, size, figure, text, suffix=""):
        cells_here = [cells[k].get(size) for k in keys]
        out = [label] + [text(c[figure]) if c else "-" for c in cells_here]
        for key in others:
            cell = cells[key].get(size)
            out.append(f"**{ratio(cell[figure], base[size][figure])}**{suffix}"
                       if cell and size in base else "-")
        return "| " + " | ".join(out) + " |"

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += [row(size_label(size), size, "busbw_gbs", lambda v: f"{v:.3f}") for size in sizes]
    smallest = min(min(cells[k]) for k in keys)
    lines.append(row(f"{size_label(smallest)}: time (us)", smallest, "time_us",
                     lambda v: f"{v:.2f} us", " of the time"))
    return lines + footer(cells, keys, op, nranks, in_place)


def targets(cells, in_place):
    """Each plugin's worst ratio to mpi-raw per operation and rank count, against the targets."""
    lines = []
    bandwidth_ops = ("all_reduce", "reduce_scatter", "all_gather")
    for op, nranks in sorted({(k[1], k[2]) for k in cells if k[3] == in_place}):
        base = cells.get((BASELINE, op, nranks, in_place))
        if not base:
            continue
        for backend, every_size in (("mpi", 0.95), ("ucx", 1.0)):
            cell = cells.get((backend, op, nranks, in_place))
            if not cell:
                continue
            shared = sorted(size for size in cell if size in base and base[size]["busbw_gbs"] > 0)
            if not shared:
                continue
            ratios = {size: cell[size]["busbw_gbs"] / base[size]["busbw_gbs"] for size in shared}
            worst = min(shared, key=lambda size: ratios[size])
            checks = [(f"worst busbw ratio (at {size_label(worst)})", ratios[worst],
                       every_size, True)]
            large = [size for size in shared if size >= 1 << 20]
            if backend == "ucx" and op in bandwidth_ops and large:
                worst_large = min(large, key=lambda size: ratios[size])
                checks.append((f"worst from 1 MiB (at {size_label(worst_large)})",
                               ratios[worst_large], 1.5, True))
            smallest = shared[0]
            if smallest <= 8:
                checks.append((f"{size_label(smallest)} time", cell[smallest]["time_us"] /
                               base[smallest]["time_us"], 1.2, False))
            for name, measured, goal, higher in checks:
                met = measured >= goal if higher else measured <= goal
                lines.append(f"- {op}, {nranks} ranks, {backend}: {name} {measured:.2f}x, "
                             f"target {'>=' if higher else '<='} {goal}x: "
                             f"**{'met' if met else 'not met'}**")
    return lines or ["(no mpi-raw baseline measured: targets not judged)"]


def write_medians(cells, path):
    rows = []
    for (backend, op, nranks, in_place), by_size in sorted(cells.items()):
        for size, cell in by_size.items():
            busbw = cell["busbw_gbs"]
            rows.append({"op": op, "backend": backend, "nranks": nranks, "size_bytes": size,
                         "time_us": round(cell["time_us"], 3),
                         "algbw_gbs": round(cell.get("algbw_gbs", 0), 4),
                         "busbw_gbs": round(busbw, 4), "wrong": cell["wrong"],
                         "in_place": in_place, "runs": cell["runs"]})
    with open(path, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(row, separators=(",", ":")) for row in rows) + "\n]\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+")
    parser.add_argument("--in-place", action="store_true")
    parser.add_argument("--sizes", default="1K,64K,1M,16M,64M",
                        help="sizes whose busbw goes in the table (K/M/G suffixes)")
    parser.add_argument("--by-size", action="store_true",
                        help="one row per size (columns: the backends) instead of per backend")
    parser.add_argument("--medians", metavar="FILE",
                        help="also write the medians as trellis-bench's JSON rows (both "
                             "placements), one file for the record instead of every run's")
    args = parser.parse_args()
    try:
        cells = median_cells(read_rows(args.json))
        sizes = [parse_size(s) for s in args.sizes.split(",")]
    except (OSError, ValueError) as error:
        sys.exit(f"summarize_comm.py: {error}")
    if args.medians:
        write_medians(cells, args.medians)
    for op, nranks in sorted({(k[1], k[2]) for k in cells}):
        lines = (table_by_size if args.by_size else table)(cells, op, nranks, args.in_place,
                                                              sizes)
        if lines:
            print("\n".join(lines))
            print()
    print("Targets (f32, " + ("in place" if args.in_place else "out of place") + "):")
    print("\n".join(targets(cells, args.in_place)))


if __name__ == "__main__":
    main()
