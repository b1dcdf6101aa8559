#!/usr/bin/env python3
"""The tensor-parallel layer families side by side, over the mpi backend.

1d and seq at tensor 1, 2, 4 and 2d at tensor 4 (a 2 x 2 grid), on the reference model (vocab
512, seq 128, 4 layers, 4 heads, hidden 128, batch 8 = one microbatch of 8 sequences per step)
and a wider one (hidden 512, the rest the same). For each cell:

  ms/step      trellis-train's step_ms: the median over a run's steps after the first two, then
               the median and the least over --repeats runs (the cells' runs alternate, so drifts
               in the machine's speed hit every cell alike)
  peak memory  trellis-train's peak_mem_bytes: the largest allocator peak of any rank
               (parameters, gradients, AdamW state, activations, communication buffers)
  bytes/step   what the family's tensor, row and column groups move in one training step
               (forward and backward of the microbatch), counted by wrapping those communicators
               (tests/parallel/family_probe --traffic): per rank, nccl-tests' bus bytes

Every rank runs one thread ([device] threads = 1) with OMP_WAIT_POLICY=PASSIVE: tensor 1 uses one
core, tensor 2 both, tensor 4 puts four ranks on the 2 cores: oversubscribed. (One thread per
rank and the passive policy keep a rank's time from depending on how its own threads are
scheduled on a machine shared with other work.)

  bench/tensor_parallel/run_tensor_parallel_bench.py [--build build] [--steps 12] [--repeats 3]
  bench/tensor_parallel/run_tensor_parallel_bench.py --table   # results.md from results.json

Writes bench/tensor_parallel/results.json and results.md.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CELLS = [("1d", 1), ("1d", 2), ("1d", 4), ("seq", 1), ("seq", 2), ("seq", 4), ("2d", 4)]
MODELS = {"reference": 128, "wide": 512}


def config(work, model, hidden, mode, tensor, threads, steps):
    out = work / f"{model}-{mode}-{tensor}"
    out.mkdir(parents=True, exist_ok=True)
    text = f"""[run]
name = "tp-{model}-{mode}-{tensor}"
steps = {steps}
out_dir = "{out}"
[launch]
nproc = {tensor}
[comm]
backend = "mpi"
[parallel]
tensor = {tensor}
tensor_mode = "{mode}"
[data]
train = "{ROOT / 'configs/data/quickstart.txt'}"
[model]
vocab_size = 512
seq_len = 128
layers = 4
heads = 4
hidden = {hidden}
[train]
micro_batch = 8
global_batch = 8
[logging]
progress = false
[device]
threads = {threads}
"""
    (out / "run.toml").write_text(text)
    return out


def train(build, out):
    subprocess.run([str(build / "bin/trellis-train"), str(out / "run.toml")], check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return (statistics.median(r["step_ms"] for r in rows[2:]),
            max(r["peak_mem_bytes"] for r in rows))


def traffic(build, out, mode, tensor, hidden):
    if tensor == 1:
        return 0
    subprocess.run([str(build / "bin/trellis-run"), "-n", str(tensor), "--mpirun", "--",
                    str(build / "tests/bin/family_probe"), "--traffic", "--mode", mode,
                    "--backend", "mpi", "--plugins", str(build / "lib/trellis/plugins"),
                    "--vocab", "512", "--seq", "128", "--layers", "4", "--heads", "4",
                    "--hidden", str(hidden), "--batch", "8", "--microbatches", "1",
                    "--json", str(out / "traffic.json")], check=True, stdout=subprocess.DEVNULL)
    return max(r["bus_bytes"] for r in json.loads((out / "traffic.json").read_text()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--table", action="store_true", help="only write results.md again")
    args = parser.parse_args()
    here = ROOT / "bench/tensor_parallel"
    if args.table:
        write_table(json.loads((here / "results.json").read_text()), here)
        return
    build = pathlib.Path(args.build).resolve()
    results = {}
    with tempfile.TemporaryDirectory(prefix="trellis-tp-bench.") as tmp:
        work = pathlib.Path(tmp)
        for repeat in range(args.repeats):
            for model, hidden in MODELS.items():
                for mode, tensor in CELLS:
                    threads = 1
                    out = config(work, model, hidden, mode, tensor, threads, args.steps)
                    ms, peak = train(build, out)
                    cell = results.setdefault((model, mode, tensor), {
                        "model": model, "hidden": hidden, "tensor_mode": mode, "tensor": tensor,
                        "threads": threads, "runs_ms": [], "peak_mem_bytes": peak,
                        "bus_bytes_per_step": traffic(build, out, mode, tensor, hidden)})
                    cell["runs_ms"].append(ms)
                    print(f"run {repeat + 1}: {model} {mode} tensor {tensor}: {ms:.1f} ms/step, "
                          f"peak {peak / 2**20:.2f} MiB, {cell['bus_bytes_per_step'] / 2**20:.2f} "
                          f"MiB/step", flush=True)
    rows = list(results.values())
    for r in rows:
        r["step_ms"] = statistics.median(r["runs_ms"])
    (here / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    write_table(rows, here)


def write_table(rows, here):
    lines = ["| model | tensor_mode | tensor | ranks x threads | ms/step (median; least) | "
             "peak MiB per rank | MiB moved per step per rank |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        over = " (oversubscribed)" if r["tensor"] * r["threads"] > 2 else ""
        lines.append(f"| {r['model']} | {r['tensor_mode']} | {r['tensor']} | "
                     f"{r['tensor']} x {r['threads']}{over} | "
                     f"{statistics.median(r['runs_ms']):.1f}; {min(r['runs_ms']):.1f} | "
                     f"{r['peak_mem_bytes'] / 2**20:.2f} | {r['bus_bytes_per_step'] / 2**20:.2f} |")
    (here / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

if __name__ == "__main__":
    main()
