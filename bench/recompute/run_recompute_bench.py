#!/usr/bin/env python3
"""Activation recomputation side by side: memory against step time for recompute none, selective,
full (uniform, groups of 1 block) and full (block, half the blocks of each chunk), on one rank and
on pipeline 2 (1f1b) over 2 ranks, with trellis-plan's prediction of each; and a memory cap that
the run without recomputation exceeds and the run with it does not.

The model is chosen so that activations dominate the memory: vocab 256, seq 256, 8 layers, 8
heads, hidden 128 (1.65 M parameters: 25 MiB with gradients and AdamW state, against 135 MiB of
one microbatch's activations), micro batch 4, global batch 16 (4 microbatches a step), the text
of configs/data/quickstart.txt. Every rank runs one thread ([device] threads = 1,
OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1): one rank uses one of the two cores, pipeline 2
both. For each cell:

  ms/step        trellis-train's step_ms: the median over a run's steps after the first, then the
                 median and the least over --repeats runs. The runs of one layout alternate
                 (none, selective, full, block, none, ...), so drifts in the machine's speed hit
                 every mode alike.
  x none         the step time over none's: the median over the repeats of the ratio to the none
                 run of the same repeat
  peak MiB       the allocator's peak of each pipeline stage (metrics.jsonl's
                 peak_mem_bytes_by_pipeline_rank; peak_mem_bytes on one rank), against
                 trellis-plan's total for that stage
  act. MiB       the peak less what was live when the step began (parameters, gradients, AdamW
                 state: the trace's live_bytes on the step slice), against trellis-plan's
                 activations
  recomputes     the trace's "recompute ..." slices in one step (full: one per block recomputed
                 per microbatch; selective: one per block's attention core per microbatch)

trellis-plan predicts the run's own [train] recompute settings where it reads them (its --help
names --recompute-method); an older trellis-plan gets --recompute GRANULARITY, which predicts
full recomputation of every block (the block method is then not predicted).

Cap (--cap [MIB]): the one-rank model under [device] memory_limit_mb = MIB (default: halfway
between the full and the none peaks of the sweep), 2 steps, every mode: the ones over the cap
stop with the allocator's error (recorded as printed), the others train.

Each run takes the shared measurement lock (flock, /tmp/trellis-bench.lock) for itself only and
records the load average when it starts.

  bench/recompute/run_recompute_bench.py [--build build] [--steps 6] [--repeats 3] [--cap [MIB]]
  bench/recompute/run_recompute_bench.py --layouts pp2      # pipeline 2 again, 1 rank kept
  bench/recompute/run_recompute_bench.py --cap-only [MIB]   # the cap runs alone
  bench/recompute/run_recompute_bench.py --plan-only        # trellis-plan's columns again
  bench/recompute/run_recompute_bench.py --table            # results.md from results.json
  bench/recompute/run_recompute_bench.py --draw docs/images/recompute-memory-time.png

--draw needs matplotlib (Debian: apt-get install python3-matplotlib, seen by /usr/bin/python3);
the rest needs only the standard library.

Writes bench/recompute/results.json and results.md.
"""
import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "bench"))
from common.bench_runs import machine, trace_events, train_locked  # noqa: E402

MiB = 1 << 20
LAYERS = 8
LAYOUTS = {"1 rank": 1, "pipeline 2 (1f1b)": 2}  # name: pipeline stages, one rank each
LAYOUT_KEYS = {"1": "1 rank", "pp2": "pipeline 2 (1f1b)"}  # --layouts' words
MODES = ["none", "selective", "full, uniform 1", "full, block (half)"]


def recompute_keys(mode, stages):
    """The [train] recompute keys of a mode; block recomputes half the blocks of each chunk."""
    if mode == "none":
        return {"recompute": "none"}
    if mode == "selective":
        return {"recompute": "selective"}
    if mode == "full, uniform 1":
        return {"recompute": "full", "recompute_method": "uniform", "recompute_num_layers": 1}
    return {"recompute": "full", "recompute_method": "block",
            "recompute_num_layers": LAYERS // stages // 2}


def config(out, stages, mode, steps, trace=True, limit_mb=None):
    out.mkdir(parents=True, exist_ok=True)
    keys = "".join(f"{k} = {json.dumps(v)}\n" for k, v in recompute_keys(mode, stages).items())
    trace_line = f'trace = "{out / "trace.json"}"\n' if trace else ""
    limit_line = f"memory_limit_mb = {limit_mb}\n" if limit_mb else ""
    (out / "run.toml").write_text(f"""[run]
name = "recompute"
steps = {steps}
out_dir = "{out}"
[launch]
nproc = {stages}
[comm]
backend = "mpi"
timeout_s = 600
[parallel]
pipeline = {stages}
schedule = "1f1b"
[data]
train = "{ROOT / 'configs/data/quickstart.txt'}"
[model]
vocab_size = 256
seq_len = 256
layers = {LAYERS}
heads = 8
hidden = 128
[train]
micro_batch = 4
global_batch = 16
{keys}[optim]
schedule = "constant"
[logging]
progress = false
{trace_line}[device]
threads = 1
{limit_line}""")
    return out


train = train_locked


def trace_figures(trace_file, step):
    """Per pipeline rank: the most live bytes any of its ranks held when step `step` began, and
    the "recompute ..." slices of one of its ranks in that step."""
    events = trace_events(trace_file)
    stage_of = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "process_name":
            stage_of[e["pid"]] = int(re.search(r"pp (\d+)", e["args"]["name"]).group(1))
    live, recomputes = {}, {}
    slices = [e for e in events if e.get("ph") == "X"]
    for s in slices:
        if s.get("tid") != 2 or s["name"] != f"step {step}":
            continue
        stage = stage_of.get(s["pid"], 0)
        live[stage] = max(live.get(stage, 0), s.get("args", {}).get("live_bytes", 0))
        lo, hi = s["ts"], s["ts"] + s["dur"]
        recomputes[stage] = sum(1 for e in slices if e["pid"] == s["pid"] and lo <= e["ts"] <= hi
                                and e["name"].startswith("recompute "))
    return [live[i] for i in sorted(live)], [recomputes[i] for i in sorted(recomputes)]


def stage_peaks(rows):
    """Each pipeline stage's allocator peak over the run (one entry on one stage)."""
    per = [r.get("peak_mem_bytes_by_pipeline_rank") or [r["peak_mem_bytes"]] for r in rows]
    return [max(p[i] for p in per) for i in range(len(per[0]))]


def plan_reads_recompute(build):
    done = subprocess.run([str(build / "bin/trellis-plan"), "--help"], capture_output=True,
                          text=True)
    return "--recompute-method" in done.stdout + done.stderr


def plan_prediction(build, out, mode, reads_settings):
    """trellis-plan's per-stage memory for the run's config, or None where it cannot say."""
    cmd = [str(build / "bin/trellis-plan"), str(out / "run.toml"), "--json", str(out / "plan.json")]
    if not reads_settings:
        if mode.startswith("full, block"):
            return None
        cmd += ["--recompute", mode.split(",")[0]]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    plan = json.loads((out / "plan.json").read_text())
    stages = plan.get("memory_per_pipeline_rank") or [plan["peak_memory"]]
    return {"total": [s["total"] for s in stages], "activations": [s["activations"] for s in stages],
            "step_ms": plan["time"]["step"] * 1e3,
            "how": "run settings" if reads_settings else f"--recompute {mode.split(',')[0]}"}


def one_run(build, work, layout, mode, repeat, steps):
    stages = LAYOUTS[layout]
    out = config(work / f"{stages}-{MODES.index(mode)}-{repeat}", stages, mode, steps)
    done, rows, load = train(build, out)
    if done.returncode != 0:
        raise SystemExit(f"trellis-train failed ({done.returncode}) for {layout}, {mode}:\n"
                         f"{done.stdout}\n{done.stderr}")
    live, recomputes = trace_figures(out / "trace.json", 2)
    blas = re.search(r"^blas: (.*)$", done.stdout, re.M)
    return {"layout": layout, "mode": mode, "repeat": repeat,
            "step_ms": statistics.median(r["step_ms"] for r in rows[1:]),
            "steps_ms": [r["step_ms"] for r in rows],
            "peak_bytes": stage_peaks(rows), "live_at_start": live, "recomputes": recomputes,
            "final_loss": rows[-1]["loss"], "loadavg_at_start": load,
            "blas": blas.group(1) if blas else None}, out


def sweep(args, build, layouts):
    runs, plans = [], {}
    reads_settings = plan_reads_recompute(build)
    with tempfile.TemporaryDirectory() as tmp:
        for layout in layouts:
            for repeat in range(args.repeats):
                for mode in MODES:
                    run, out = one_run(build, pathlib.Path(tmp), layout, mode, repeat, args.steps)
                    runs.append(run)
                    if repeat == 0:
                        plans[f"{layout} | {mode}"] = plan_prediction(build, out, mode,
                                                                      reads_settings)
                    print(f"{layout}, {mode}, run {repeat + 1}: {run['step_ms']:.1f} ms/step, peak "
                          f"{'/'.join(f'{p / MiB:.1f}' for p in run['peak_bytes'])} MiB "
                          f"(load {run['loadavg_at_start']})", flush=True)
    return runs, plans


def predictions(build):
    """trellis-plan's prediction of every cell, without training (--plan-only)."""
    reads_settings = plan_reads_recompute(build)
    plans = {}
    with tempfile.TemporaryDirectory() as tmp:
        for layout, stages in LAYOUTS.items():
            for mode in MODES:
                out = config(pathlib.Path(tmp) / f"plan-{stages}-{MODES.index(mode)}", stages, mode,
                             1)
                plans[f"{layout} | {mode}"] = plan_prediction(build, out, mode, reads_settings)
    return plans


def default_cap(results):
    """Halfway between the one-rank full (uniform) peak and the none peak, in MiB."""
    peak = lambda mode: max(max(r["peak_bytes"]) for r in results["sweep"]
                            if r["layout"] == "1 rank" and r["mode"] == mode)
    return round((peak("full, uniform 1") + peak("none")) / 2 / MiB)


def cap_runs(build, cap_mb):
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:
            out = config(pathlib.Path(tmp) / f"cap-{MODES.index(mode)}", 1, mode, 2, trace=False,
                         limit_mb=cap_mb)
            done, rows, load = train(build, out)
            error = [line for line in done.stderr.splitlines() if "memory limit" in line]
            outcomes.append({"mode": mode, "exit_code": done.returncode, "steps_done": len(rows),
                             "peak_bytes": stage_peaks(rows) if rows else None,
                             "error": error[0] if error else None, "loadavg_at_start": load})
            print(f"cap {cap_mb} MiB, {mode}: exit {done.returncode}, {len(rows)} steps"
                  + (f": {error[0]}" if error else ""), flush=True)
    return {"limit_mb": cap_mb, "runs": outcomes}


def mib_list(values):
    return " / ".join(f"{v / MiB:.1f}" for v in values)


def cells(results):
    by_cell = {}
    for r in results["sweep"]:
        by_cell.setdefault((r["layout"], r["mode"]), []).append(r)
    none_of = {(r["layout"], r["repeat"]): r["step_ms"] for r in results["sweep"]
               if r["mode"] == "none"}
    plan_none = lambda layout: results["plan"][f"{layout} | none"]["step_ms"]
    out = []
    order = lambda cell: (list(LAYOUTS).index(cell[0]), MODES.index(cell[1]))
    for (layout, mode), rs in sorted(by_cell.items(), key=lambda item: order(item[0])):
        peak = [max(r["peak_bytes"][i] for r in rs) for i in range(len(rs[0]["peak_bytes"]))]
        live = [max(r["live_at_start"][i] for r in rs) for i in range(len(peak))]
        out.append({"layout": layout, "mode": mode,
                    "step_ms": statistics.median(r["step_ms"] for r in rs),
                    "least_ms": min(r["step_ms"] for r in rs),
                    "ratio": statistics.median(r["step_ms"] / none_of[(layout, r["repeat"])]
                                               for r in rs),
                    "peak": peak, "activations": [p - l for p, l in zip(peak, live)],
                    "recomputes": rs[0]["recomputes"],
                    "loads": [r["loadavg_at_start"] for r in rs],
                    "plan": results["plan"].get(f"{layout} | {mode}")})
        if out[-1]["plan"]:
            out[-1]["plan_ratio"] = out[-1]["plan"]["step_ms"] / plan_none(layout)
    return out


def table(results):
    lines = ["| layout | recompute | ms/step (median; least) | x none: measured | trellis-plan | "
             "peak MiB per stage: measured | trellis-plan | act. MiB per stage: measured | "
             "trellis-plan | recompute slices a step | load at start |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in cells(results):
        plan = c["plan"]
        plan_ratio = f"{c['plan_ratio']:.2f}" if plan else "-"
        lines.append(f"| {c['layout']} | {c['mode']} | {c['step_ms']:.0f}; {c['least_ms']:.0f} | "
                     f"{c['ratio']:.2f} | {plan_ratio} | {mib_list(c['peak'])} | "
                     f"{mib_list(plan['total']) if plan else '-'} | {mib_list(c['activations'])} | "
                     f"{mib_list(plan['activations']) if plan else '-'} | "
                     f"{' / '.join(map(str, c['recomputes']))} | {', '.join(c['loads'])} |")
    cap = results.get("cap")
    if cap:
        lines += ["", f"Cap: [device] memory_limit_mb = {cap['limit_mb']}, one rank, 2 steps",
                  "", "| recompute | exit | steps | peak MiB | error |", "|---|---|---|---|---|"]
        for r in cap["runs"]:
            peak = mib_list(r["peak_bytes"]) if r["peak_bytes"] else "-"
            lines.append(f"| {r['mode']} | {r['exit_code']} | {r['steps_done']} | {peak} | "
                         f"{r['error'] or ''} |")
    m = results.get("machine")
    if m:
        lines += ["", f"Machine: {m['cpu']}, {m['cores']} cores, OPENBLAS_CORETYPE="
                      f"{m['openblas_coretype'] or '(unset)'}; load average "
                      f"{m.get('load_before', '?')} before, {m.get('load_after', '?')} after."]
    return "\n".join(lines) + "\n"


MARKERS = {"none": "o", "selective": "s", "full, uniform 1": "^", "full, block (half)": "D"}
COLOURS = {"1 rank": "#4C78A8", "pipeline 2 (1f1b)": "#F58518"}


def draw(results, image):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    for c in cells(results):
        x = max(c["peak"]) / MiB
        ax.scatter(x, c["step_ms"], marker=MARKERS[c["mode"]], color=COLOURS[c["layout"]], s=70,
                   edgecolor="black", linewidth=0.5, label=f"{c['layout']}, {c['mode']}")
        ax.annotate(f"{c['ratio']:.2f}x", (x, c["step_ms"]), textcoords="offset points",
                    xytext=(7, -3), fontsize=8)
    if results.get("cap"):
        limit = results["cap"]["limit_mb"]
        ax.axvline(limit, color="grey", linestyle="--", linewidth=1)
        ax.text(limit, 0.98, f" [device] memory_limit_mb = {limit}", color="grey", fontsize=8,
                va="top", transform=ax.get_xaxis_transform())
    ax.set_xlabel("peak MiB (the busiest stage's allocator peak)")
    ax.set_ylabel("ms per step (median)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title("Activation recomputation: memory against step time (labels: time over none's)",
                 fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(image, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--layouts", default="1,pp2",
                        help="which layouts to run (1: one rank, pp2: pipeline 2); the others keep "
                             "their recorded runs")
    parser.add_argument("--cap", nargs="?", type=int, const=0, default=None, metavar="MIB",
                        help="also the memory-cap runs (default cap: between full's and none's peak)")
    parser.add_argument("--cap-only", nargs="?", type=int, const=0, default=None, metavar="MIB")
    parser.add_argument("--plan-only", action="store_true",
                        help="trellis-plan's predictions again (no training), the runs kept")
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--draw", metavar="IMAGE")
    args = parser.parse_args()
    unknown = set(args.layouts.split(",")) - set(LAYOUT_KEYS)
    if unknown:
        parser.error(f"--layouts {args.layouts}: unknown {', '.join(sorted(unknown))}; valid: "
                     f"{', '.join(LAYOUT_KEYS)}, comma-separated")
    results_file = HERE / "results.json"
    if args.draw:
        draw(json.loads(results_file.read_text()), args.draw)
        return
    build = (ROOT / args.build).resolve()
    if not args.table:
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        if args.plan_only:
            results["plan"] = predictions(build)
            results_file.write_text(json.dumps(results, indent=1) + "\n")
            args.cap = None
        else:
            results["machine"] = dict(machine(), load_before=pathlib.Path("/proc/loadavg")
                                      .read_text().split()[0])
        if not args.plan_only and args.cap_only is None:
            layouts = [LAYOUT_KEYS[k] for k in args.layouts.split(",")]
            runs, plans = sweep(args, build, layouts)
            # Layouts not run again keep their runs (a busy moment spoils one, not the other).
            results["sweep"] = [r for r in results.get("sweep", []) if r["layout"] not in layouts]
            results["sweep"] += runs
            results["plan"] = dict(results.get("plan", {}), **plans)
            results["command"] = {"steps": args.steps, "repeats": args.repeats}
            results_file.write_text(json.dumps(results, indent=1) + "\n")
        cap = args.cap_only if args.cap_only is not None else args.cap
        if cap is not None:
            if not cap and "sweep" not in results:
                raise SystemExit("--cap without a MIB needs the sweep's results first")
            results["cap"] = cap_runs(build, cap or default_cap(results))
        if not args.plan_only:
            results["machine"]["load_after"] = pathlib.Path("/proc/loadavg").read_text().split()[0]
            results_file.write_text(json.dumps(results, indent=1) + "\n")
    results = json.loads(results_file.read_text())
    (HERE / "results.md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
