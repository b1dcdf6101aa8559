#!/usr/bin/env python3
"""The tables of docs/benchmarks.md's "Communication backends" section, from
`trellis-bench comm --json` files, and the backends against their targets.

    bench/comm/summarize_comm.py results/*.json [--in-place] [--sizes 1K,64K,1M,16M,64M]
                                 [--by-size]

Prints Markdown: per operation, each backend's bus bandwidth at the chosen sizes and its time at
the smallest size measured (8 B: the latency), medians over repeated runs, each also as a
multiple of the mpi-raw baseline (--by-size: one row per size, the backends side by side); then
the targets, for all_reduce at 2 ranks:
  - mpi plugin: busbw at 64 MiB >= 0.95 x mpi-raw, 8-byte time <= 1.2 x mpi-raw
  - ucx plugin: busbw at 64 MiB >= 1.5 x mpi-raw
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
    lines = []
    key = lambda backend: (backend, "all_reduce", 2, in_place)  # noqa: E731
    base = cells.get(key(BASELINE))
    if not base:
        return ["(no mpi-raw all_reduce at 2 ranks: targets not judged)"]
    large = 64 << 20
    smallest = min(base)

    def judged(name, measured, goal, higher_is_better):
        met = measured >= goal if higher_is_better else measured <= goal
        return f"- {name}: {measured:.2f}x, target {'>=' if higher_is_better else '<='} " \
               f"{goal}x: **{'met' if met else 'not met'}**"

    for backend, checks in (("mpi", (("busbw at 64 MiB vs MPI_Allreduce", large, 0.95, True),
                                     ("8-byte latency vs MPI_Allreduce", smallest, 1.2, False))),
                            ("ucx", (("busbw at 64 MiB vs MPI_Allreduce", large, 1.5, True),))):
        cell = cells.get(key(backend))
        if not cell:
            lines.append(f"- {backend}: not measured")
            continue
        for name, size, goal, higher in checks:
            if size not in cell or size not in base:
                lines.append(f"- {backend} {name}: size {size_label(size)} not measured")
                continue
            figure = "busbw_gbs" if higher else "time_us"
            lines.append(judged(f"{backend} {name}", cell[size][figure] / base[size][figure],
                                goal, higher))
    return lines


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
    print("Targets (all_reduce, 2 ranks, f32, " +
          ("in place" if args.in_place else "out of place") + "):")
    print("\n".join(targets(cells, args.in_place)))


if __name__ == "__main__":
    main()
