#!/usr/bin/env python3
"""trellis-train on 1, 2, 4 and 8 ranks under several 3D layouts, and the data-parallel overlap.

Four groups of runs (--groups picks some; each run is one trellis-train of --steps steps):

  backends  mpi against ucx on a few multi-rank layouts of the reference model: the backend the
            other groups use is the faster one (--backend auto), or the one named.
  scaling   the reference model (vocab 512, seq 128, 4 layers, 4 heads, hidden 128) and a wider
            one (hidden 512, the rest the same: bench/tensor_parallel's) under 1x1x1,
            data/tensor/pipeline 2, data/tensor/pipeline 4, tensor 2 x data 2, tensor 2 x pipeline 2, data 8, tensor 2 x pipeline 2 x data 2,
            tensor 4 x data 2. The global batch is fixed (16 sequences = 2048 tokens, microbatches
            of 2 sequences): strong scaling.
  overlap   data 2, data 4 and tensor 2 x data 2, one microbatch per data rank (so the whole
            backward can overlap the reduction): the gradient buckets reduced as backward
            completes them ([parallel] dp_overlap = true; 25 MiB buckets, the default, and 1 MiB)
            against all of them after backward (dp_overlap = false).
  mix       a backend per dimension ([comm.groups]) on tensor 2 x pipeline 2 x data 2 (8 ranks):
            everything over mpi, everything over ucx, and each dimension moved alone to the other
            backend; then the best mix (each dimension on the backend that made the step faster
            when it moved alone) run again beside the two uniform ones.

Every rank runs one thread ([device] threads = 1, OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1):
on the 2-core development machine 4 and 8 ranks are oversubscribed. Each run takes the shared
measurement lock (flock --lock, default /tmp/trellis-bench.lock) for itself only, and records the
load average when it starts. Per run, from metrics.jsonl: step_ms, tokens_per_s and mfu (medians
over the steps after the first two) and peak_mem_bytes (the largest allocator peak of any rank).
Repeats alternate over the runs of a group, so drifts in the machine's speed hit them alike.

  bench/scaling/run_scaling_bench.py [--build build] [--steps 8] [--repeats 2]
                                     [--groups backends,scaling,overlap] [--backend auto]
  bench/scaling/run_scaling_bench.py --table   # results.md again from results.json

Writes bench/scaling/results.json (every run; groups run again replace their old runs) and
results.md.
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "bench/scaling"
MODELS = {"reference": {"hidden": 128, "heads": 4}, "wide": {"hidden": 512, "heads": 4}}
GLOBAL_BATCH = 16
SEQ = 128
# (tensor, pipeline, data)
SCALING_LAYOUTS = [(1, 1, 1), (1, 1, 2), (2, 1, 1), (1, 2, 1), (1, 1, 4), (4, 1, 1), (1, 4, 1),
                   (2, 1, 2), (2, 2, 1), (1, 1, 8), (2, 2, 2), (4, 1, 2)]
BACKEND_LAYOUTS = [(1, 1, 2), (2, 1, 1), (1, 2, 1), (2, 1, 2)]
OVERLAP_LAYOUTS = [(1, 1, 2), (1, 1, 4), (2, 1, 2)]
MIX_LAYOUT = (2, 2, 2)
MIX_DIMENSIONS = ("tensor", "pipeline", "data")
OVERLAP_MODES = [("after backward", False, 25.0), ("overlap, 25 MiB", True, 25.0),
                 ("overlap, 1 MiB", True, 1.0)]


def layout_name(t, p, d):
    parts = [f"{n}{v}" for n, v in (("tensor", t), ("pipeline", p), ("data", d)) if v > 1]
    return " x ".join(parts) if parts else "1 rank"


def mix_name(backend, groups):
    """The backends of a run: "mpi", or "mpi; tensor ucx, data ucx"."""
    moved = [f"{dim} {b}" for dim, b in sorted(groups.items()) if b != backend]
    return backend + ("; " + ", ".join(moved) if moved else "")


def config_text(out, model, layout, backend, micro_batch, overlap, bucket_mb, steps, groups=None):
    t, p, d = layout
    m = MODELS[model]
    group_lines = "".join(f'{dim} = "{b}"\n' for dim, b in sorted((groups or {}).items()))
    if group_lines:
        group_lines = "[comm.groups]\n" + group_lines
    return f"""[run]
name = "scaling"
steps = {steps}
out_dir = "{out}"
[launch]
nproc = {t * p * d}
[comm]
backend = "{backend}"
{group_lines}[parallel]
tensor = {t}
pipeline = {p}
data = {d}
schedule = "1f1b"
dp_overlap = {"true" if overlap else "false"}
dp_bucket_mb = {bucket_mb}
[data]
train = "{ROOT / 'configs/data/quickstart.txt'}"
[model]
vocab_size = 512
seq_len = {SEQ}
layers = 4
heads = {m['heads']}
hidden = {m['hidden']}
[train]
micro_batch = {micro_batch}
global_batch = {GLOBAL_BATCH}
[optim]
schedule = "constant"
[logging]
progress = false
[device]
threads = 1
"""


def train(build, work, lock, run):
    """One trellis-train under the lock; returns the run's figures."""
    t, p, d = run["layout"]
    out = work / f"run{run['index']}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.toml").write_text(config_text(out, run["model"], run["layout"], run["backend"],
                                              run["micro_batch"], run["overlap"],
                                              run["bucket_mb"], run["steps"],
                                              run.get("groups")))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OPENBLAS_NUM_THREADS="1")
    # The load average is read once the lock is held, just before the run starts.
    cmd = ["flock", str(lock), "sh", "-c", 'cat /proc/loadavg > "$0/load.txt" && exec "$@"',
           str(out), str(build / "bin/trellis-train"), str(out / "run.toml")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"trellis-train failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    timed = rows[2:] if len(rows) > 3 else rows
    # The banner's MFU reference: "peak: 104.4 GFLOP/s per rank" (older builds: "sgemm 1024^3
    # at 104.4 GFLOP/s").
    peak = re.search(r"(?:peak: |sgemm 1024\^3 at )([0-9.]+) GFLOP/s", done.stdout)
    return {
        "step_ms": statistics.median(r["step_ms"] for r in timed),
        "tokens_per_s": statistics.median(r["tokens_per_s"] for r in timed),
        "mfu": statistics.median(r["mfu"] for r in timed),
        "peak_mem_bytes": max(r["peak_mem_bytes"] for r in rows),
        "final_loss": rows[-1]["loss"],
        "sgemm_gflops_per_rank": float(peak.group(1)) if peak else None,
        "loadavg_at_start": (out / "load.txt").read_text().split()[0],
    }


def plan_group(group, backend, steps):
    runs = []
    if group == "backends":
        for layout in BACKEND_LAYOUTS:
            for b in ("mpi", "ucx"):
                runs.append(dict(model="reference", layout=layout, backend=b, micro_batch=2,
                                 overlap=True, bucket_mb=25.0, mode=b))
    elif group == "scaling":
        for model in MODELS:
            for layout in SCALING_LAYOUTS:
                runs.append(dict(model=model, layout=layout, backend=backend, micro_batch=2,
                                 overlap=True, bucket_mb=25.0, mode="overlap, 25 MiB"))
    elif group == "mix":
        for b in ("mpi", "ucx"):
            other = "ucx" if b == "mpi" else "mpi"
            runs.append(dict(model="reference", layout=MIX_LAYOUT, backend=b, groups={},
                             micro_batch=2, overlap=True, bucket_mb=25.0, mode=mix_name(b, {})))
            for dim in MIX_DIMENSIONS:
                groups = {dim: other}
                runs.append(dict(model="reference", layout=MIX_LAYOUT, backend=b, groups=groups,
                                 micro_batch=2, overlap=True, bucket_mb=25.0,
                                 mode=mix_name(b, groups)))
    elif group == "overlap":
        for model in MODELS:
            for layout in OVERLAP_LAYOUTS:
                for mode, overlap, bucket_mb in OVERLAP_MODES:
                    runs.append(dict(model=model, layout=layout, backend=backend,
                                     micro_batch=GLOBAL_BATCH // layout[2], overlap=overlap,
                                     bucket_mb=bucket_mb, mode=mode))
    for r in runs:
        r["group"] = group
        r["steps"] = steps
    return runs


def core_peak(results):
    """One core's sgemm peak (GFLOP/s): the median of the one-rank runs' start-up probes. A rank
    that shares its core probes a fraction of it, so the probes of larger runs read low."""
    probes = [r["sgemm_gflops_per_rank"] for r in results
              if r["layout"] == [1, 1, 1] and r["sgemm_gflops_per_rank"]]
    return statistics.median(probes) if probes else float("nan")


def machine_mfu(run, peak):
    """Model FLOPs per second over the two cores' peak. FLOPs per token from the run's own MFU
    (trellis-train's 6N + 12LCT), undoing its division by ranks x this run's probe."""
    ranks = run["layout"][0] * run["layout"][1] * run["layout"][2]
    if not run["sgemm_gflops_per_rank"]:
        return float("nan")
    flops_per_token = run["mfu"] * ranks * run["sgemm_gflops_per_rank"] / run["tokens_per_s"]
    return run["tokens_per_s"] * flops_per_token / (2 * peak)


def cells(results, group):
    """Runs of a group merged by configuration: medians over the repeats."""
    peak = core_peak(results)
    merged = {}
    for r in results:
        if r["group"] != group:
            continue
        key = (r["model"], tuple(r["layout"]), r["backend"], r["mode"])
        merged.setdefault(key, []).append(r)
    out = []
    for (model, layout, backend, mode), runs in merged.items():
        med = lambda k: statistics.median(x[k] for x in runs)
        ranks = layout[0] * layout[1] * layout[2]
        out.append(dict(model=model, layout=layout, ranks=ranks, backend=backend, mode=mode,
                        step_ms=med("step_ms"), least_ms=min(x["step_ms"] for x in runs),
                        tokens_per_s=med("tokens_per_s"), mfu=med("mfu"),
                        mfu_machine=statistics.median(machine_mfu(x, peak) for x in runs),
                        peak_mem_bytes=max(x["peak_mem_bytes"] for x in runs),
                        loads=[x["loadavg_at_start"] for x in runs], repeats=len(runs)))
    return out


def best_mix(results):
    """Each dimension on the backend that made the step faster when moved alone: compared with
    the uniform run of the backend it moved from (median step times of the mix group's first
    phase). Returns (default backend, groups)."""
    by_mode = {c["mode"]: c["step_ms"] for c in cells(results, "mix")}
    groups = {}
    for dim in MIX_DIMENSIONS:
        # Moving dim from mpi to ucx, and from ucx to mpi: how much each saved.
        ucx_gain = by_mode["mpi"] - by_mode[mix_name("mpi", {dim: "ucx"})]
        mpi_gain = by_mode["ucx"] - by_mode[mix_name("ucx", {dim: "mpi"})]
        groups[dim] = "ucx" if ucx_gain - mpi_gain > 0 else "mpi"
    # The world's backend: the one most dimensions use.
    backend = max(("mpi", "ucx"), key=lambda b: list(groups.values()).count(b))
    return backend, groups


def write_table(results):
    lines = []
    phases = [(phase, cells(results, group)) for phase, group in
              (("one dimension moved", "mix"), ("best mix", "best-mix"))]
    if phases[0][1]:
        lines += ["### A backend per dimension (reference model, tensor 2 x pipeline 2 x data 2, "
                  "8 ranks on 2 cores)", "",
                  "| backends (world; moved dimensions) | phase | ms/step (median; least) | "
                  "tokens/s | vs all mpi | vs all ucx | load at start |",
                  "|---|---|---|---|---|---|---|"]
        for phase, mix in phases:
            # Ratios to the uniform runs of the same phase (measured alternating with them).
            uniform = {c["mode"]: c["step_ms"] for c in mix if c["mode"] in ("mpi", "ucx")}
            for c in mix:
                vs = [f"{c['step_ms'] / uniform[b]:.3f}x" if b in uniform else ""
                      for b in ("mpi", "ucx")]
                lines.append(f"| {c['mode']} | {phase} | {c['step_ms']:.1f}; "
                             f"{c['least_ms']:.1f} | {c['tokens_per_s']:,.0f} | {vs[0]} | "
                             f"{vs[1]} | {', '.join(c['loads'])} |")
        lines.append("")
    backends = cells(results, "backends")
    if backends:
        lines += ["### Backends (reference model, 2 sequences per microbatch)", "",
                  "| layout | ranks | backend | ms/step (median; least) | tokens/s | load at start |",
                  "|---|---|---|---|---|---|"]
        for c in backends:
            lines.append(f"| {layout_name(*c['layout'])} | {c['ranks']} | {c['backend']} | "
                         f"{c['step_ms']:.1f}; {c['least_ms']:.1f} | {c['tokens_per_s']:,.0f} | "
                         f"{', '.join(c['loads'])} |")
        lines.append("")
    scaling = cells(results, "scaling")
    if scaling:
        base = {c["model"]: c["tokens_per_s"] for c in scaling if c["ranks"] == 1}
        lines += ["### Scaling (global batch 16 x 128 tokens, microbatches of 2, 1 thread a rank)",
                  "",
                  f"MFU of the 2 cores: model FLOPs/s over 2 x {core_peak(results):.1f} GFLOP/s "
                  "(one core's sgemm peak, the one-rank runs' probe). MFU (metrics): "
                  "trellis-train's figure, over ranks x each run's own probe.", "",
                  "| model | layout | ranks | backend | ms/step (median; least) | tokens/s | "
                  "speed-up | MFU of the 2 cores | MFU (metrics) | peak MiB (max rank) | "
                  "load at start |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for c in scaling:
            over = " (oversubscribed)" if c["ranks"] > 2 else ""
            speedup = c["tokens_per_s"] / base[c["model"]] if c["model"] in base else float("nan")
            lines.append(f"| {c['model']} | {layout_name(*c['layout'])} | {c['ranks']}{over} | "
                         f"{c['backend']} | {c['step_ms']:.1f}; {c['least_ms']:.1f} | "
                         f"{c['tokens_per_s']:,.0f} | {speedup:.2f}x | {100 * c['mfu_machine']:.0f}% | "
                         f"{100 * c['mfu']:.0f}% | {c['peak_mem_bytes'] / 2**20:.1f} | "
                         f"{', '.join(c['loads'])} |")
        lines.append("")
    overlap = cells(results, "overlap")
    if overlap:
        after = {(c["model"], tuple(c["layout"])): c["step_ms"] for c in overlap
                 if c["mode"] == "after backward"}
        lines += ["### Data-parallel reduction: overlapped with backward, or after it "
                  "(one microbatch per data rank)", "",
                  "| model | layout | ranks | reduction | ms/step (median; least) | tokens/s | "
                  "vs after backward | load at start |", "|---|---|---|---|---|---|---|---|"]
        for c in overlap:
            ref = after.get((c["model"], tuple(c["layout"])))
            rel = f"{c['step_ms'] / ref:.3f}x" if ref else ""
            lines.append(f"| {c['model']} | {layout_name(*c['layout'])} | {c['ranks']} | "
                         f"{c['mode']} | {c['step_ms']:.1f}; {c['least_ms']:.1f} | "
                         f"{c['tokens_per_s']:,.0f} | {rel} | {', '.join(c['loads'])} |")
        lines.append("")
    (HERE / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))


def fastest_backend(results):
    by = {}
    for c in cells(results, "backends"):
        by.setdefault(c["backend"], []).append(c["step_ms"])
    if not by:
        raise SystemExit("--backend auto needs the backends group's results: run it first")
    return min(by, key=lambda b: statistics.mean(by[b]))


def run_repeats(runs, args, build, work, results, results_file, index):
    """Runs `runs` --repeats times, alternating, appending to `results` (saved after each run).
    Returns the next run index."""
    for repeat in range(args.repeats):
        for run in runs:
            run = dict(run, index=index, repeat=repeat)
            index += 1
            run.update(train(build, work, args.lock, run))
            results.append(run)
            results_file.write_text(json.dumps(results, indent=1) + "\n")
            print(f"{run['group']} {repeat + 1}/{args.repeats}: {run['model']} "
                  f"{layout_name(*run['layout'])} {run['backend']} {run['mode']}: "
                  f"{run['step_ms']:.1f} ms/step, {run['tokens_per_s']:,.0f} tok/s, "
                  f"peak {run['peak_mem_bytes'] / 2**20:.1f} MiB, load "
                  f"{run['loadavg_at_start']}", flush=True)
    return index


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--groups", default="backends,scaling,overlap")
    parser.add_argument("--backend", default="auto", help="mpi, ucx, or auto: the faster")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--lock", default="/tmp/trellis-bench.lock")
    parser.add_argument("--table", action="store_true", help="only write results.md again")
    args = parser.parse_args()
    results_file = HERE / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else []
    if args.table:
        write_table(results)
        return
    build = pathlib.Path(args.build).resolve()
    models = args.models.split(",")
    with tempfile.TemporaryDirectory(prefix="trellis-scaling.") as tmp:
        work = pathlib.Path(tmp)
        index = 0
        for group in args.groups.split(","):
            backend = args.backend
            if backend == "auto" and group != "backends":
                backend = fastest_backend(results)
            if group == "best-mix":
                raise SystemExit("best-mix runs after mix: name the mix group")
            runs = [r for r in plan_group(group, backend, args.steps) if r["model"] in models]
            results = [r for r in results if not (r["group"] == group and r["model"] in models)]
            if group == "mix":
                results = [r for r in results if r["group"] != "best-mix"]
            index = run_repeats(runs, args, build, work, results, results_file, index)
            if group == "mix":
                # Phase two: the best mix beside the two uniform runs, alternating.
                best_backend, best_groups = best_mix(results)
                second = [dict(model="reference", layout=MIX_LAYOUT, backend=b, groups=g,
                               micro_batch=2, overlap=True, bucket_mb=25.0, mode=mix_name(b, g),
                               group="best-mix", steps=args.steps)
                          for b, g in ((best_backend, best_groups), ("mpi", {}), ("ucx", {}))]
                index = run_repeats(second, args, build, work, results, results_file, index)
    write_table(results)


if __name__ == "__main__":
    main()
