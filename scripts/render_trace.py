#!/usr/bin/env python3
"""Draws a Trellis trace ([logging] trace) as a pipeline timeline: one row per rank, one box per
forward (F), backward (B), input-gradient (I) and weight-gradient (W), labelled with the
microbatch, for one optimizer step.

  scripts/render_trace.py TRACE.json OUT.png [--step N] [--title TEXT]

Needs matplotlib (Debian: apt-get install python3-matplotlib). Also prints, for the step drawn,
each rank's busy time and the bubble (idle time over compute time), measured from the trace.
"""
import argparse
import json
import sys

COLOURS = {"F": "#4C78A8", "B": "#E45756", "I": "#F58518", "W": "#54A24B"}


def compute_kind(name):
    # "12F3" -> "F"; "0SEND_F1" is not compute
    for kind in ("F", "B", "I", "W"):
        body = name.lstrip("0123456789")
        if body.startswith(kind) and body[1:].isdigit():
            return kind
    return None


def load(path, step):
    events = json.load(open(path))["traceEvents"]
    steps = sorted((e for e in events if e.get("ph") == "X" and e.get("tid") == 2
                    and e["name"].startswith("step ")), key=lambda e: e["ts"])
    if not steps:
        sys.exit(f"{path}: no step slices; was it written by trellis-train with [logging] trace?")
    chosen = [e for e in steps if e["name"] == f"step {step}"]
    if not chosen:
        sys.exit(f"{path}: no step {step}; the trace has steps 1..{len(steps) // max(1, len({e['pid'] for e in steps}))}")
    start = min(e["ts"] for e in chosen)
    end = max(e["ts"] + e["dur"] for e in chosen)
    boxes = [e for e in events if e.get("ph") == "X" and e.get("tid") == 0
             and start <= e["ts"] < end and compute_kind(e["name"])]
    names = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e["name"] == "process_name"}
    return boxes, start, end, names


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trace")
    p.add_argument("out")
    p.add_argument("--step", type=int, default=2, help="which step to draw (default 2: warm)")
    p.add_argument("--title", default="")
    a = p.parse_args()
    boxes, start, end, names = load(a.trace, a.step)
    ranks = sorted({b["pid"] for b in boxes})
    span = (end - start) / 1e3
    busy = {r: sum(b["dur"] for b in boxes if b["pid"] == r) / 1e3 for r in ranks}
    idle = {r: span - busy[r] for r in ranks}
    ratio = sum(idle.values()) / max(sum(busy.values()), 1e-9)
    for r in ranks:
        print(f"rank {r}: busy {busy[r]:.1f} ms of {span:.1f} ms")
    print(f"bubble: {100 * ratio:.1f}% of the compute (idle / busy over all ranks)")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("matplotlib is missing: apt-get install python3-matplotlib")
    fig, ax = plt.subplots(figsize=(12, 0.55 * len(ranks) + 1.2))
    for b in boxes:
        kind = compute_kind(b["name"])
        x0 = (b["ts"] - start) / 1e3
        w = b["dur"] / 1e3
        y = len(ranks) - 1 - ranks.index(b["pid"])
        ax.broken_barh([(x0, w)], (y - 0.4, 0.8), facecolors=COLOURS[kind], edgecolor="white",
                       linewidth=0.5)
        if w > span / 80:
            ax.text(x0 + w / 2, y, str(b["args"].get("microbatch", "")), ha="center",
                    va="center", fontsize=7, color="white")
    ax.set_yticks(range(len(ranks)))
    ax.set_yticklabels([names.get(r, f"rank {r}") for r in reversed(ranks)], fontsize=8)
    ax.set_xlabel("ms")
    ax.set_xlim(0, span)
    title = a.title or a.trace
    ax.set_title(f"{title} — step {a.step}, bubble {100 * ratio:.0f}% of compute", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS.values()]
    ax.legend(handles, COLOURS.keys(), loc="upper right", ncol=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
