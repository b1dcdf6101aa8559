#!/usr/bin/env python3
"""Bus bandwidth against message size, one line per backend, from `trellis-bench comm --json`.

    bench/comm/plot_busbw.py results/*.json -o results/busbw.png [--in-place] [--title TEXT]

One panel per operation found in the files (all_reduce, all_gather, ...), four to a row, log-log
axes. Several
files with the same cells (repeated runs) are combined: each point is the median of its runs.
The baseline (mpi-raw) is drawn dashed, so the plugins stand out against it.

Needs matplotlib: apt-get install python3-matplotlib (bench/comm/run_comm_bench.sh installs it
when missing).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comm_results import median_cells, read_rows, size_label  # noqa: E402

BASELINE = "mpi-raw"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+", help="files written by trellis-bench comm --json")
    parser.add_argument("-o", "--output", required=True, help="the PNG to write")
    parser.add_argument("--in-place", action="store_true",
                        help="plot the in-place figures (default: out of place)")
    parser.add_argument("--title", default=None, help="the figure's title")
    args = parser.parse_args()

    try:
        import matplotlib
    except ImportError:
        sys.exit("plot_busbw.py needs matplotlib: apt-get install python3-matplotlib")
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter

    try:
        cells = median_cells(read_rows(args.json))
    except (OSError, ValueError) as error:
        sys.exit(f"plot_busbw.py: {error}")
    cells = {key: value for key, value in cells.items() if key[3] == args.in_place}
    if not cells:
        sys.exit("plot_busbw.py: no rows for that placement in " + ", ".join(args.json))

    ops = sorted({key[1] for key in cells})
    columns = min(4, len(ops))
    rows = (len(ops) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4.4 * rows), squeeze=False)
    for axis in axes.flat[len(ops):]:
        axis.set_visible(False)
    for axis, op in zip(axes.flat, ops):
        keys = sorted((key for key in cells if key[1] == op),
                      key=lambda key: (key[0] == BASELINE, key[0], key[2]))
        all_sizes = set()
        for backend, _, nranks, _ in keys:
            by_size = cells[(backend, op, nranks, args.in_place)]
            sizes = [size for size in by_size if size > 0 and by_size[size]["busbw_gbs"] > 0]
            all_sizes.update(sizes)
            label = backend if len({k[2] for k in keys}) == 1 else f"{backend}, {nranks} ranks"
            axis.plot(sizes, [by_size[size]["busbw_gbs"] for size in sizes],
                      linestyle="--" if backend == BASELINE else "-", marker="o", markersize=3,
                      label=label + (" (baseline)" if backend == BASELINE else ""))
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        ticks = sorted(all_sizes)[::max(1, len(all_sizes) // 8)]
        axis.xaxis.set_major_locator(FixedLocator(ticks))
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_xticks(ticks, [size_label(size) for size in ticks], rotation=45)
        nranks = sorted({key[2] for key in keys})
        placement = "in place" if args.in_place else "out of place"
        axis.set_title(f"{op}, {'/'.join(map(str, nranks))} ranks, {placement}")
        axis.set_xlabel("message size")
        axis.set_ylabel("bus bandwidth (GB/s)")
        axis.grid(True, which="major", alpha=0.3)
        axis.legend()
    if args.title:
        figure.suptitle(args.title)
    figure.tight_layout()
    figure.savefig(args.output, dpi=72)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
