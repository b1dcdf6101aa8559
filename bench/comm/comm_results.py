"""Reading `trellis-bench comm --json` files: the rows of one or more runs, and the median of
repeated runs per cell (backend, op, ranks, size, placement).

Shared by plot_busbw.py and summarize_comm.py. Standard library only.
"""

import json
import statistics
from collections import defaultdict

REQUIRED = ("op", "backend", "nranks", "size_bytes", "time_us", "algbw_gbs", "busbw_gbs",
            "wrong", "in_place")


def read_rows(paths):
    """Every row of every file; a file that is not a list of rows with the contract's fields is
    an error naming it."""
    rows = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, list):
            raise ValueError(f"{path}: not a JSON list of rows")
        for row in data:
            missing = [key for key in REQUIRED if key not in row]
            if missing:
                raise ValueError(f"{path}: a row lacks {', '.join(missing)}: {row}")
            rows.append(row)
    return rows


def median_cells(rows):
    """{(backend, op, nranks, in_place): {size_bytes: {"time_us", "busbw_gbs", "runs"}}}, each
    figure the median over the runs of that cell (time and busbw separately)."""
    runs = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = (row["backend"], row["op"], row["nranks"], row["in_place"])
        runs[key][row["size_bytes"]].append(row)
    cells = {}
    for key, by_size in runs.items():
        cells[key] = {
            size: {
                "time_us": statistics.median(r["time_us"] for r in rs),
                "algbw_gbs": statistics.median(r["algbw_gbs"] for r in rs),
                "busbw_gbs": statistics.median(r["busbw_gbs"] for r in rs),
                "runs": len(rs),
                "wrong": sum((r["wrong"] or 0) for r in rs),
            }
            for size, rs in sorted(by_size.items())
        }
    return cells


def size_label(size):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"
