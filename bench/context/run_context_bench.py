#!/usr/bin/env python3
"""Context parallelism side by side: the three modes (ring, a2a, allgather) at context 2 and 4
against one rank, over the mpi backend, and a long sequence against trellis-plan's prediction.

Sweep (the reference model with a long sequence: vocab 512, seq 1024, 2 layers, 4 heads, hidden
128, one sequence per step). For each cell:

  ms/step       trellis-train's step_ms: the median over a run's steps after the first two, then
                the median and the least over --repeats runs (the cells' runs alternate, so drifts
                in the machine's speed hit every cell alike)
  act. MiB      activations and buffers at their peak on the busiest rank: the allocator's peak
                (peak_mem_bytes) less what was live when the step started (parameters, gradients,
                AdamW state: the trace's live_bytes on the step slice)
  KiB sent      what one rank sent for attention in one step: the bytes_sent of the context
                plugin's communication slices in the trace (forward and backward, every layer)
  exposed       the share of the context plugin's transfer time during which the rank computed
                nothing (no attention slice of the same rank covers it): the part of the traffic
                the mode did not hide behind attention

Every rank runs one thread ([device] threads = 1) with OMP_WAIT_POLICY=PASSIVE: context 2 uses
both cores, context 4 puts four ranks on two cores (oversubscribed: its times are not a speed-up
measurement; its memory and bytes are exact).

Long sequence (--long): seq 8192 on one rank and on 4 ranks (ring), a small model (2 layers, 4
heads, hidden 64), one step: the activation peak per rank, and trellis-plan's prediction of it.

  bench/context/run_context_bench.py [--build build] [--steps 8] [--repeats 3] [--long]
  bench/context/run_context_bench.py --long-only   # the long-sequence cells alone
  bench/context/run_context_bench.py --table   # results.md from results.json
  bench/context/run_context_bench.py --draw TRACE.json OUT.png   # a ring timeline

--draw needs matplotlib (Debian: apt-get install python3-matplotlib, seen by /usr/bin/python3);
the rest needs only the standard library.

Writes bench/context/results.json and results.md.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
MiB = 1 << 20
CELLS = [(1, "-"), (2, "ring"), (2, "a2a"), (2, "allgather"), (4, "ring"), (4, "a2a"),
         (4, "allgather")]
CONTEXT_PREFIXES = ("ring ", "a2a ", "allgather ")


def config(out, context, mode, steps, seq_len, layers, heads, hidden, trace=True):
    out.mkdir(parents=True, exist_ok=True)
    mode_line = f'context_mode = "{mode}"\n' if context > 1 else ""
    trace_line = f'trace = "{out / "trace.json"}"\n' if trace else ""
    (out / "run.toml").write_text(f"""[run]
name = "context-{context}-{mode}"
steps = {steps}
out_dir = "{out}"
[launch]
nproc = {context}
[comm]
backend = "mpi"
timeout_s = 600
[parallel]
context = {context}
{mode_line}[data]
train = "{ROOT / 'configs/data/quickstart.txt'}"
[model]
vocab_size = 512
seq_len = {seq_len}
layers = {layers}
heads = {heads}
hidden = {hidden}
[train]
micro_batch = 1
global_batch = 1
[logging]
progress = false
{trace_line}[device]
threads = 1
""")
    return out


def train(build, out):
    subprocess.run([str(build / "bin/trellis-train"), str(out / "run.toml")], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def slices(trace_file):
    events = json.loads(pathlib.Path(trace_file).read_text())
    if isinstance(events, dict):
        events = events["traceEvents"]
    return [e for e in events if e.get("ph") == "X"]


def covered(interval, others):
    """The length of `interval` covered by the union of `others` (all (start, end))."""
    start, end = interval
    spans = sorted((max(s, start), min(e, end)) for s, e in others if e > start and s < end)
    total, reach = 0.0, start
    for s, e in spans:
        if e > reach:
            total += e - max(s, reach)
            reach = e
    return total


def trace_figures(trace_file, step):
    """Per rank, for step `step`: bytes the context plugin sent, its transfer time, the part of
    it not covered by the rank's attention compute, and the live bytes when the step started."""
    events = slices(trace_file)
    steps = {e["pid"]: e for e in events if e.get("tid") == 2 and e["name"] == f"step {step}"}
    ranks = {}
    for pid, s in steps.items():
        lo, hi = s["ts"], s["ts"] + s["dur"]
        mine = [e for e in events if e["pid"] == pid and lo <= e["ts"] <= hi]
        comm = [e for e in mine if e.get("tid") == 1 and e["name"].startswith(CONTEXT_PREFIXES)]
        work = [(e["ts"], e["ts"] + e["dur"]) for e in mine
                if e.get("tid") == 0 and e["name"].startswith(CONTEXT_PREFIXES)]
        busy = sum(e["dur"] for e in comm)
        # Overlapping transfers (a ring's kv and dkv hops) are counted once: their union.
        union = covered((lo, hi), [(e["ts"], e["ts"] + e["dur"]) for e in comm])
        hidden = sum(covered((e["ts"], e["ts"] + e["dur"]), work) for e in comm)
        ranks[pid] = {
            "bytes_sent": sum(e.get("args", {}).get("bytes_sent", 0) for e in comm),
            "transfer_us": busy,
            "transfer_union_us": union,
            "exposed_fraction": (busy - hidden) / busy if busy > 0 else 0.0,
            "live_at_start": s.get("args", {}).get("live_bytes", 0),
        }
    return ranks


def sweep(args):
    build = (ROOT / args.build).resolve()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for context, mode in CELLS:
                out = config(pathlib.Path(tmp) / f"{context}-{mode}-{repeat}", context, mode,
                             args.steps, 1024, 2, 4, 128)
                rows = train(build, out)
                figures = trace_figures(out / "trace.json", 3)
                runs.append({"context": context, "mode": mode, "repeat": repeat,
                             "step_ms": statistics.median(r["step_ms"] for r in rows[2:]),
                             "peak_mem_bytes": max(r["peak_mem_bytes"] for r in rows),
                             "ranks": figures})
                print(f"context {context} {mode} run {repeat + 1}: "
                      f"{runs[-1]['step_ms']:.1f} ms/step", flush=True)
    return runs


def plan_prediction(build, out):
    """trellis-plan's prediction for the run's config (its JSON): peak_memory holds the
    activations and the total per device, in bytes."""
    subprocess.run([str(build / "bin/trellis-plan"), str(out / "run.toml"), "--json",
                    str(out / "plan.json")], check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "plan.json").read_text())


def long_sequence(args):
    build = (ROOT / args.build).resolve()
    cells = []
    with tempfile.TemporaryDirectory() as tmp:
        for context, mode in [(1, "-"), (2, "ring"), (4, "ring"), (4, "allgather"), (4, "a2a")]:
            out = config(pathlib.Path(tmp) / f"long-{context}-{mode}", context, mode, 2, 8192, 2,
                         4, 64)
            rows = train(build, out)
            figures = trace_figures(out / "trace.json", 2)
            live = max(r["live_at_start"] for r in figures.values())
            peak = max(r["peak_mem_bytes"] for r in rows)
            plan = plan_prediction(build, out)
            cells.append({"context": context, "mode": mode, "peak_mem_bytes": peak,
                          "activation_bytes": peak - live, "plan": plan["peak_memory"]})
            print(f"seq 8192, context {context} {mode}: peak {peak / MiB:.1f} MiB, "
                  f"activations {(peak - live) / MiB:.1f} MiB (trellis-plan: "
                  f"{plan['peak_memory']['activations'] / MiB:.1f})", flush=True)
    return cells


def table(results):
    lines = ["| context | mode | ranks x threads | ms/step (median; least) | act. MiB (busiest rank) "
             "| KiB sent per rank per step | transfer exposed |", "|---|---|---|---|---|---|---|"]
    by_cell = {}
    for r in results["sweep"]:
        by_cell.setdefault((r["context"], r["mode"]), []).append(r)
    for (context, mode), rs in by_cell.items():
        times = [r["step_ms"] for r in rs]
        act = max(r["peak_mem_bytes"] - max(x["live_at_start"] for x in r["ranks"].values())
                  for r in rs)
        sent = statistics.median(max(x["bytes_sent"] for x in r["ranks"].values()) for r in rs)
        exposed = statistics.median(
            statistics.mean(x["exposed_fraction"] for x in r["ranks"].values()) for r in rs)
        over = ", oversubscribed" if context > 2 else ""
        lines.append(f"| {context} | {mode} | {context} x 1{over} | {statistics.median(times):.1f};"
                     f" {min(times):.1f} | {act / MiB:.2f} | {sent / 1024:.0f} | "
                     f"{'-' if context == 1 else f'{100 * exposed:.0f}%'} |")
    if results.get("long"):
        lines += ["", "| seq 8192 | mode | activations MiB per rank: measured | trellis-plan | "
                  "peak MiB: measured | trellis-plan |", "|---|---|---|---|---|---|"]
        for c in results["long"]:
            lines.append(f"| context {c['context']} | {c['mode']} | "
                         f"{c['activation_bytes'] / MiB:.1f} | {c['plan']['activations'] / MiB:.1f} | "
                         f"{c['peak_mem_bytes'] / MiB:.1f} | {c['plan']['total'] / MiB:.1f} |")
    return "\n".join(lines) + "\n"


def draw(trace_file, image, step):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    events = slices(trace_file)
    steps = {e["pid"]: e for e in events if e.get("tid") == 2 and e["name"] == f"step {step}"}
    ranks = sorted(steps)
    # The first layer's forward attention: from the first ring slice of the step to the end of
    # the last forward ring slice before any backward one.
    first = {}
    for pid in ranks:
        s = steps[pid]
        mine = sorted((e for e in events if e["pid"] == pid and s["ts"] <= e["ts"] <= s["ts"] + s["dur"]
                       and e["name"].startswith("ring ") and "backward" not in e["name"]
                       and "dkv" not in e["name"]), key=lambda e: e["ts"])
        c = len(ranks)
        first[pid] = mine[:2 * c - 1]  # c attention slices and c - 1 transfers of the first layer
    t0 = min(e["ts"] for pid in ranks for e in first[pid])
    fig, ax = plt.subplots(figsize=(10, 0.9 * len(ranks) + 1))
    for row, pid in enumerate(ranks):
        for e in first[pid]:
            comm = e.get("tid") == 1
            y = row + (0.05 if comm else 0.45)
            ax.broken_barh([((e["ts"] - t0) / 1e3, e["dur"] / 1e3)], (y, 0.4),
                           facecolors="#F58518" if comm else "#4C78A8", edgecolor="black",
                           linewidth=0.5)
            ax.text((e["ts"] - t0 + e["dur"] / 2) / 1e3, y + 0.2, e["name"].split()[-1],
                    ha="center", va="center", fontsize=7, color="white")
    ax.set_yticks([r + 0.45 for r in range(len(ranks))])
    ax.set_yticklabels([f"rank {pid}" for pid in ranks])
    ax.invert_yaxis()
    ax.set_xlabel("ms")
    ax.set_title(f"Ring attention over {len(ranks)} ranks, the first layer's forward: the block in hand attended to (blue) "
                 "while the next K/V block travels (orange, from post to completion)", fontsize=9)
    fig.tight_layout()
    fig.savefig(image, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long", action="store_true")
    parser.add_argument("--long-only", action="store_true", help="only the long-sequence cells")
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--draw", nargs=2, metavar=("TRACE", "IMAGE"))
    parser.add_argument("--step", type=int, default=3)
    args = parser.parse_args()
    if args.draw:
        draw(args.draw[0], args.draw[1], args.step)
        return
    results_file = HERE / "results.json"
    if not args.table:
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        if not args.long_only:
            results["sweep"] = sweep(args)
            results_file.write_text(json.dumps(results, indent=1) + "\n")
        if args.long or args.long_only:
            results["long"] = long_sequence(args)
            results_file.write_text(json.dumps(results, indent=1) + "\n")
    results = json.loads(results_file.read_text())
    (HERE / "results.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
