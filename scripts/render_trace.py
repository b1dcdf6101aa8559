#!/usr/bin/env python3
"""Draws a Trellis trace ([logging] trace) as a pipeline timeline: one row per rank, one box per
forward (F), backward (B), input-gradient (I) and weight-gradient (W), labelled with the
microbatch (boxes of a rank's second model chunk, interleaved schedules, are hatched), for one
optimizer step.

  scripts/render_trace.py TRACE.json OUT.png [--step N] [--title TEXT] [--json STATS.json]

Needs matplotlib (Debian: apt-get install python3-matplotlib). Also prints, for the step drawn,
what the trace measures (every step's figures go to --json, without drawing if OUT is "-"):
  - per rank, its compute time and its idle fraction within the pipeline's span: from the first
    compute action of the step on any rank to the last one on any rank (the optimizer step, the
    gradient reductions and the data loading around it are left out, as in the simulator);
  - the bubble: idle over compute time summed over the ranks in that span (Megatron's ratio, the
    simulator's bubble_ratio);
  - per rank, its peak activation memory: the most bytes of live tensors after any compute action
    of the step (the trace's live_bytes) less those live when the step's pipeline started
    (parameters, gradients, optimizer state); and that peak in units of the first forward's
    growth, one microbatch's stash on one stage, comparable to the simulator's activation count.
"""
import argparse
import json
import statistics
import sys

COLOURS = {"F": "#4C78A8", "B": "#E45756", "I": "#F58518", "W": "#54A24B"}
MiB = 1 << 20


def compute_kind(name):
    # "12F3" -> "F"; "0SEND_F1" is not compute
    for kind in ("F", "B", "I", "W"):
        body = name.lstrip("0123456789")
        if body.startswith(kind) and body[1:].isdigit():
            return kind
    return None


def step_slices(events):
    """{step number: [the step slice of every rank]}"""
    steps = {}
    for e in events:
        if e.get("ph") == "X" and e.get("tid") == 2 and e["name"].startswith("step "):
            steps.setdefault(int(e["name"].split()[1]), []).append(e)
    return steps


def step_boxes(events, chosen):
    start = min(e["ts"] for e in chosen)
    end = max(e["ts"] + e["dur"] for e in chosen)
    boxes = [e for e in events if e.get("ph") == "X" and e.get("tid") == 0
             and start <= e["ts"] < end and compute_kind(e["name"])]
    return boxes, start, end


def measure(boxes, chosen, start, end):
    """The figures of one step (see the module's docstring)."""
    ranks = sorted({b["pid"] for b in boxes})
    first = min(b["ts"] for b in boxes)
    last = max(b["ts"] + b["dur"] for b in boxes)
    window = (last - first) / 1e3
    baseline = {e["pid"]: e.get("args", {}).get("live_bytes") for e in chosen}
    per_rank = {}
    for r in ranks:
        mine = sorted((b for b in boxes if b["pid"] == r), key=lambda b: b["ts"])
        busy = sum(b["dur"] for b in mine) / 1e3
        stats = {"busy_ms": busy, "idle_ms": window - busy,
                 "idle_fraction": 1 - busy / window if window > 0 else 0.0,
                 "actions": len(mine),
                 "mean_ms": {k: statistics.mean(b["dur"] for b in mine
                                                if compute_kind(b["name"]) == k) / 1e3
                             for k in COLOURS if any(compute_kind(b["name"]) == k for b in mine)}}
        base = baseline.get(r)
        live = [b["args"]["live_bytes"] for b in mine if "live_bytes" in b.get("args", {})]
        if base is not None and live:
            peak = max(live) - base
            first_forward = next((b["args"]["live_bytes"] for b in mine
                                  if compute_kind(b["name"]) == "F" and "live_bytes" in b["args"]),
                                 None)
            unit = first_forward - base if first_forward is not None else 0
            stats["peak_activation_bytes"] = peak
            stats["first_forward_bytes"] = unit
            stats["peak_in_first_forwards"] = peak / unit if unit > 0 else None
        per_rank[r] = stats
    busy_total = sum(s["busy_ms"] for s in per_rank.values())
    idle_total = sum(s["idle_ms"] for s in per_rank.values())
    return {"pipeline_ms": window, "step_ms": (end - start) / 1e3,
            "bubble_ratio": idle_total / busy_total if busy_total > 0 else 0.0,
            "idle_fraction": idle_total / (window * len(ranks)) if window > 0 else 0.0,
            "ranks": per_rank}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trace")
    p.add_argument("out", help="the PNG to draw; - draws nothing")
    p.add_argument("--step", type=int, default=2, help="which step to draw (default 2: warm)")
    p.add_argument("--title", default="")
    p.add_argument("--json", help="write every step's figures here")
    a = p.parse_args()
    events = json.load(open(a.trace))["traceEvents"]
    steps = step_slices(events)
    if not steps:
        sys.exit(f"{a.trace}: no step slices; was it written by trellis-train with [logging] trace?")
    if a.step not in steps:
        sys.exit(f"{a.trace}: no step {a.step}; the trace has steps {min(steps)}..{max(steps)}")
    names = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e["name"] == "process_name"}

    measured = {}
    for number, chosen in sorted(steps.items()):
        boxes, start, end = step_boxes(events, chosen)
        if boxes:
            measured[number] = measure(boxes, chosen, start, end)
    if a.json:
        later = [m["bubble_ratio"] for n, m in measured.items() if n >= 2] or \
                [m["bubble_ratio"] for m in measured.values()]
        with open(a.json, "w") as f:
            json.dump({"steps": measured, "median_bubble_ratio_from_step_2": statistics.median(later)},
                      f, indent=1)

    boxes, start, end = step_boxes(events, steps[a.step])
    m = measured[a.step]
    ranks = sorted({b["pid"] for b in boxes})
    for r in ranks:
        s = m["ranks"][r]
        line = (f"rank {r}: busy {s['busy_ms']:.1f} ms of the pipeline's {m['pipeline_ms']:.1f} ms "
                f"(idle {100 * s['idle_fraction']:.1f}%)")
        if "peak_activation_bytes" in s:
            line += f"; activations at most {s['peak_activation_bytes'] / MiB:.1f} MiB"
            if s["peak_in_first_forwards"]:
                line += f" (= {s['peak_in_first_forwards']:.1f} first forwards)"
        print(line)
    print(f"bubble: {100 * m['bubble_ratio']:.1f}% of the compute (idle / busy over all ranks, "
          f"first to last compute action; the whole step took {m['step_ms']:.1f} ms)")
    if a.out == "-":
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("matplotlib is missing: apt-get install python3-matplotlib")
    span = (end - start) / 1e3
    stages = {r: sorted({b["args"].get("stage", 0) for b in boxes if b["pid"] == r}) for r in ranks}
    fig, ax = plt.subplots(figsize=(12, 0.55 * len(ranks) + 1.2))
    for b in boxes:
        kind = compute_kind(b["name"])
        x0 = (b["ts"] - start) / 1e3
        w = b["dur"] / 1e3
        y = len(ranks) - 1 - ranks.index(b["pid"])
        # A rank's second (third, ...) chunk of an interleaved schedule is hatched.
        chunk = stages[b["pid"]].index(b["args"].get("stage", 0))
        ax.broken_barh([(x0, w)], (y - 0.4, 0.8), facecolors=COLOURS[kind], edgecolor="white",
                       linewidth=0.5, hatch="//" if chunk % 2 else None)
        if w > span / 80:
            ax.text(x0 + w / 2, y, str(b["args"].get("microbatch", "")), ha="center",
                    va="center", fontsize=7, color="white")
    ax.set_yticks(range(len(ranks)))
    ax.set_yticklabels([names.get(r, f"rank {r}") for r in reversed(ranks)], fontsize=8)
    ax.set_xlabel("ms from the start of the step (the optimizer step follows the last box)")
    ax.set_xlim(0, span)
    title = a.title or a.trace
    ax.set_title(f"{title} — step {a.step}, bubble {100 * m['bubble_ratio']:.0f}% of compute",
                 fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS.values()]
    labels = list(COLOURS.keys())
    if any(len(held) > 1 for held in stages.values()):
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="grey",
                                     hatch="//"))
        labels.append("2nd chunk")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
