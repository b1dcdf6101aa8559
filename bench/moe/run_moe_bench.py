#!/usr/bin/env python3
"""Mixture of experts side by side: step time and memory per rank of MoE models against the dense
model of equal active parameters, on one rank, on two data ranks, and on an expert group of two
with each dispatcher; the dispatcher's share of the step, read off the trace; and all_to_all_v
against raw MPI_Alltoallv (trellis-bench comm).

Models (vocab 256, seq 128, 4 layers, 4 heads, hidden 128, every block's MLP an MoE one, micro
batch 4, global batch 16 of configs/data/quickstart.txt, dropless):

  dense         GPT as it is: the MLP 4C wide
  moe 8 top 1   8 experts, each token to 1 (Switch): the same active parameters a token as dense
                (plus the router's 8 x C), 8 times the MLP parameters in all
  moe 8 top 2   8 experts, each token to 2 (Mixtral's choice): twice the MLP work of dense

Layouts: "1 rank"; "data 2" (each rank every expert); "expert 2, alltoall" and "expert 2,
allgather" (data 2, [parallel] expert = 2: each rank 4 experts). Every rank runs one thread
([device] threads = 1, OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1). For each cell:

  ms/step       trellis-train's step_ms: the median over a run's steps after the first, then the
                median over --repeats runs; the runs of one repeat go through every cell in turn,
                so drifts in the machine's speed hit every cell alike
  x dense       the step time over the dense model's in the same layout and repeat (median)
  peak MiB      the allocator's peak on a rank (the largest over the ranks)
  params MiB    parameters, gradients and AdamW state a rank holds: the trace's live_bytes when
                step 2 begins
  dispatch      with expert parallelism: the trace's "expert counts", "expert dispatch" and
                "expert combine" slices of step 2 on rank 0, as a share of that step's time, and
                how many (MoE blocks x microbatches x 2 passes)

all_to_all_v: trellis-bench comm --backend mpi,ucx,mpi-raw --nproc 2 --op all_to_all_v (uneven
counts, as expert dispatch sends), busbw against mpi-raw's at each size.

Predicted: trellis-plan's step time and peak for each cell's config on
configs/clusters/cpu-dev-vm.toml (--json), next to the measured ones: absolute times carry the
cluster file's calibration (another machine, docs/planner.md), so the ratio to dense in the same
layout is the figure to compare.

Each run takes the shared measurement lock (flock, /tmp/trellis-bench.lock) for itself only and
records the load average when it starts.

  bench/moe/run_moe_bench.py [--build build] [--steps 8] [--repeats 3]
  bench/moe/run_moe_bench.py --table        # results.md from results.json
  bench/moe/run_moe_bench.py --predict-only # trellis-plan's predictions again, into results.json

Writes bench/moe/results.json and results.md; needs only the standard library.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "bench"))
from common.bench_runs import LOCK, machine, trace_events, train_locked  # noqa: E402

MiB = 1 << 20
MODELS = {"dense": None, "moe 8 top 1": (8, 1), "moe 8 top 2": (8, 2)}
LAYOUTS = {  # name: (ranks, expert, dispatcher)
    "1 rank": (1, 1, None),
    "data 2": (2, 1, None),
    "expert 2, alltoall": (2, 2, "alltoall"),
    "expert 2, allgather": (2, 2, "allgather"),
}


def applies(model, layout):
    """Expert parallelism needs experts."""
    return MODELS[model] is not None or LAYOUTS[layout][1] == 1


def config(out, model, layout, steps):
    out.mkdir(parents=True, exist_ok=True)
    ranks, expert, dispatcher = LAYOUTS[layout]
    moe = ""
    if MODELS[model]:
        experts, top_k = MODELS[model]
        moe = f"experts = {experts}\ntop_k = {top_k}\nmoe_every = 1\n"
    parallel = f"data = {ranks}\n"
    if expert > 1:
        parallel += f'expert = {expert}\nexpert_dispatcher = "{dispatcher}"\n'
    (out / "run.toml").write_text(f"""[run]
name = "moe"
steps = {steps}
out_dir = "{out}"
[launch]
nproc = {ranks}
[comm]
backend = "mpi"
timeout_s = 600
[parallel]
{parallel}[data]
train = "{ROOT / 'configs/data/quickstart.txt'}"
[model]
vocab_size = 256
seq_len = 128
layers = 4
heads = 4
hidden = 128
{moe}[train]
micro_batch = 4
global_batch = 16
[optim]
schedule = "constant"
[logging]
progress = false
trace = "{out / 'trace.json'}"
[device]
threads = 1
""")
    return out


def train(build, out):
    done, rows, load = train_locked(build, out)
    if done.returncode != 0:
        raise SystemExit(f"trellis-train failed ({done.returncode}) in {out}:\n{done.stdout}\n"
                         f"{done.stderr}")
    return rows, load


def trace_figures(trace_file, step):
    """Rank 0's step `step`: its duration (us), the live bytes when it began, and the dispatcher's
    slices inside it (their total duration and count)."""
    slices = [e for e in trace_events(trace_file) if e.get("ph") == "X"]
    pids = sorted({e["pid"] for e in slices})
    step_slice = next(s for s in slices if s["pid"] == pids[0] and s.get("tid") == 2
                      and s["name"] == f"step {step}")
    lo, hi = step_slice["ts"], step_slice["ts"] + step_slice["dur"]
    dispatch = [e for e in slices if e["pid"] == pids[0] and lo <= e["ts"] <= hi
                and e["name"] in ("expert counts", "expert dispatch", "expert combine")]
    return {"step_us": step_slice["dur"],
            "live_at_start": step_slice.get("args", {}).get("live_bytes", 0),
            "dispatch_us": sum(e["dur"] for e in dispatch), "dispatch_slices": len(dispatch)}


def sweep(args, build):
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for layout in LAYOUTS:
                for model in MODELS:
                    if not applies(model, layout):
                        continue
                    name = f"{list(LAYOUTS).index(layout)}-{list(MODELS).index(model)}-{repeat}"
                    out = config(pathlib.Path(tmp) / name, model, layout, args.steps)
                    rows, load = train(build, out)
                    trace = trace_figures(out / "trace.json", 2)
                    run = {"layout": layout, "model": model, "repeat": repeat,
                           "step_ms": statistics.median(r["step_ms"] for r in rows[1:]),
                           "steps_ms": [r["step_ms"] for r in rows],
                           "peak_bytes": max(r["peak_mem_bytes"] for r in rows),
                           "final_loss": rows[-1]["loss"],
                           "dropped": sum(r.get("dropped_tokens", 0) for r in rows),
                           "loadavg_at_start": load, **trace}
                    runs.append(run)
                    print(f"{layout}, {model}, run {repeat + 1}: {run['step_ms']:.1f} ms/step, "
                          f"peak {run['peak_bytes'] / MiB:.1f} MiB, dispatch "
                          f"{100 * run['dispatch_us'] / run['step_us']:.1f}% "
                          f"(load {load})", flush=True)
    return runs


def predict(build, model, layout):
    """trellis-plan's prediction for a cell: step ms and the peak bytes of the fullest rank."""
    with tempfile.TemporaryDirectory() as tmp:
        out = config(pathlib.Path(tmp), model, layout, 1)
        cmd = [str(build / "bin/trellis-plan"), str(out / "run.toml"), "--cluster",
               str(ROOT / "configs/clusters/cpu-dev-vm.toml"), "--json", str(out / "plan.json")]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        plan = json.loads((out / "plan.json").read_text())
        return {"step_ms": 1e3 * plan["time"]["step"],
                "expert_comm_ms": 1e3 * plan["time"]["expert_comm"],
                "peak_bytes": plan["peak_memory"]["total"]}


def predictions(build):
    return {f"{layout}|{model}": predict(build, model, layout)
            for layout in LAYOUTS for model in MODELS if applies(model, layout)}


def all_to_all_v(build):
    """trellis-bench comm's all_to_all_v rows for mpi, ucx and mpi-raw on 2 ranks."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "a2av.json"
        cmd = ["flock", LOCK, str(build / "bin/trellis-bench"), "comm", "--backend",
               "mpi,ucx,mpi-raw", "--nproc", "2", "--op", "all_to_all_v", "-b", "8", "-e", "16M",
               "-f", "8", "-n", "50", "-w", "5", "--json", str(out)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
        return json.loads(out.read_text())


def predicted_cells(predicted, layout, model):
    """The predicted step (and its ratio to dense in the layout) and peak, or dashes."""
    mine = predicted.get(f"{layout}|{model}")
    if not mine:
        return "- | -"
    dense = predicted.get(f"{layout}|dense")
    ratio = f" ({mine['step_ms'] / dense['step_ms']:.2f})" if dense else ""
    return f"{mine['step_ms']:.1f}{ratio} | {mine['peak_bytes'] / MiB:.1f}"


def table(results):
    runs = results["sweep"]
    lines = [f"Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
             f"OPENBLAS_CORETYPE={results['machine']['openblas_coretype']}; "
             f"{results['repeats']} repeats of {results['steps']} steps.", "",
             "| layout | model | ms/step | x dense | peak MiB a rank | params+state MiB | "
             "dispatch share of step | dispatch slices | final loss | predicted ms/step (x dense) "
             "| predicted peak MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    predicted = results.get("predicted", {})
    for layout in LAYOUTS:
        for model in MODELS:
            cell = [r for r in runs if r["layout"] == layout and r["model"] == model]
            if not cell:
                continue
            dense = {r["repeat"]: r["step_ms"] for r in runs
                     if r["layout"] == layout and r["model"] == "dense"}
            ratio = (f"{statistics.median(r['step_ms'] / dense[r['repeat']] for r in cell):.2f}"
                     if dense else "-")
            share = statistics.median(r["dispatch_us"] / r["step_us"] for r in cell)
            lines.append(
                f"| {layout} | {model} | {statistics.median(r['step_ms'] for r in cell):.1f} | "
                f"{ratio} | {max(r['peak_bytes'] for r in cell) / MiB:.1f} | "
                f"{cell[0]['live_at_start'] / MiB:.1f} | "
                + (f"{100 * share:.1f}%" if cell[0]["dispatch_slices"] else "-")
                + f" | {cell[0]['dispatch_slices'] or '-'} | {cell[0]['final_loss']:.4f} | "
                + predicted_cells(predicted, layout, model) + " |")
    rows = results.get("all_to_all_v", [])
    if rows:
        lines += ["", "all_to_all_v on 2 ranks, bus bandwidth GB/s (x mpi-raw):", "",
                  "| size | mpi-raw | mpi | ucx |", "|---|---|---|---|"]
        sizes = sorted({r["size_bytes"] for r in rows})
        for size in sizes:
            by = {r["backend"]: r for r in rows if r["size_bytes"] == size}
            raw = by.get("mpi-raw", {}).get("busbw_gbs") or 0
            cells = []
            for b in ("mpi", "ucx"):
                bw = by.get(b, {}).get("busbw_gbs")
                cells.append("-" if bw is None else
                             f"{bw:.3f} ({bw / raw:.2f}x)" if raw else f"{bw:.3f}")
            lines.append(f"| {size} | {raw:.3f} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--table", action="store_true", help="results.md from results.json")
    parser.add_argument("--predict-only", action="store_true",
                        help="trellis-plan's predictions again, for the results.json measured")
    args = parser.parse_args()
    build = pathlib.Path(args.build).resolve()
    if args.table or args.predict_only:
        results = json.loads((HERE / "results.json").read_text())
        if args.predict_only:
            results["predicted"] = predictions(build)
    else:
        results = {"machine": machine(), "steps": args.steps, "repeats": args.repeats,
                   "sweep": sweep(args, build), "all_to_all_v": all_to_all_v(build),
                   "predicted": predictions(build)}
    if not args.table:
        (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = table(results)
    (HERE / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
