#!/usr/bin/env python3
"""OpenBLAS kernel sets side by side on this machine: sgemm and a training step.

  bench/kernels/openblas_cores.py [--build build] [--rounds 5] [--cores Prescott,Haswell,...]

For each round, for each kernel set in turn (alternating, so drifts of the machine's speed hit
every set alike), with OPENBLAS_CORETYPE naming the set:
  - trellis-bench-kernels --threads 1: the median GFLOP/s of its matrix products (the reference
    model's shapes, K = 128 or 512);
  - trellis-bench peak --threads 1 --seconds 1 (in a cache directory of its own): the sgemm peak
    at a square 1024 and a GPT-2 block's shapes (K = 768 or 3072);
  - trellis-train on the reference model (vocab 512, seq 128, 4 layers, 4 heads, hidden 128,
    batch 8), one rank, one thread: the median step time over 40 steps after 6 of warm-up.
The row "auto (Prescott picked)" is a fallback as OpenBLAS 0.3.21 made one on a newer Xeon:
OPENBLAS_CORETYPE=Prescott with TRELLIS_TEST_OPENBLAS_FALLBACK=1, which Trellis takes for
OpenBLAS's own pick and replaces ([device] blas_core = "auto"); its "blas:" line is printed.
Prints a Markdown table: medians over the rounds, with the least and most.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "model"))
from compare_pytorch import MODELS, trellis_config, write_tokens  # noqa: E402  (the reference run)
AUTO = "auto (Prescott picked)"


def environment(core, cache):
    env = dict(os.environ)
    for name in ("TRELLIS_OPENBLAS_PICKED", "TRELLIS_OPENBLAS_REEXEC", "OMP_WAIT_POLICY"):
        env.pop(name, None)
    env["XDG_CACHE_HOME"] = str(cache)
    if core == AUTO:
        env["OPENBLAS_CORETYPE"] = "Prescott"
        env["TRELLIS_TEST_OPENBLAS_FALLBACK"] = "1"
    else:
        env["OPENBLAS_CORETYPE"] = core  # the user's: every program respects it
        env.pop("TRELLIS_TEST_OPENBLAS_FALLBACK", None)
    return env


def kernels_gflops(build, env):
    out = subprocess.run([str(build / "bin/trellis-bench-kernels"), "--threads", "1"], env=env,
                         check=True, capture_output=True, text=True).stdout
    rates = [float(m.group(1)) for line in out.splitlines()
             if re.match(r"(linear|matmul|head)", line)
             for m in [re.search(r"([\d.]+) GFLOP/s", line)] if m]
    blas = next(l for l in out.splitlines() if l.startswith("blas:"))
    return statistics.median(rates), blas


def peak_gflops(build, env):
    out = subprocess.run([str(build / "bin/trellis-bench"), "peak", "--threads", "1",
                          "--seconds", "1"], env=env, check=True, capture_output=True,
                         text=True).stdout
    return float(re.search(r"^  peak +([\d.]+) GFLOP/s", out, re.M).group(1))


def step_ms(build, env, work):
    m = MODELS["reference"]
    # The peak is given: MFU is not measured here, and no start-up probe disturbs the others.
    config = trellis_config(m, 1, work, extra="peak_gflops = 1000.0\n")
    subprocess.run([str(build / "bin/trellis-train"), str(config)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    rows = [json.loads(l) for l in open(work / "out" / "metrics.jsonl")][m["warmup"]:]
    return statistics.median(r["step_ms"] for r in rows)


def spread(values, fmt):
    return f"{fmt % statistics.median(values)} ({fmt % min(values)}-{fmt % max(values)})"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--cores", default="Prescott,Haswell,SkylakeX,Cooperlake")
    args = p.parse_args()
    build = Path(args.build)
    cores = args.cores.split(",") + [AUTO]
    results = {c: {"kernels": [], "peak": [], "step": []} for c in cores}
    blas_lines = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        m = MODELS["reference"]
        write_tokens(work / "tokens.bin", m["vocab"], m["batch"] * m["seq"] * 4 + 1)
        for r in range(args.rounds):
            for core in cores:
                env = environment(core, work / "cache")
                gflops, blas_lines[core] = kernels_gflops(build, env)
                results[core]["kernels"].append(gflops)
                results[core]["peak"].append(peak_gflops(build, env))
                results[core]["step"].append(step_ms(build, env, work))
            print(f"round {r + 1}/{args.rounds} done", flush=True)
    print(f"\n{AUTO}: {blas_lines[AUTO]}\n")
    base = statistics.median(results["Prescott"]["step"]) if "Prescott" in results else None
    print("| kernels | products at the reference model's shapes, GFLOP/s | trellis-bench peak, "
          "GFLOP/s | reference model ms/step | speed-up over Prescott |")
    print("|---|---|---|---|---|")
    for core in cores:
        s = results[core]
        speed = f"{base / statistics.median(s['step']):.2f}x" if base else ""
        print(f"| {core} | {spread(s['kernels'], '%.1f')} | {spread(s['peak'], '%.1f')} | "
              f"{spread(s['step'], '%.1f')} | {speed} |")


if __name__ == "__main__":
    main()
