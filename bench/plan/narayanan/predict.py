#!/usr/bin/env python3
"""Predicts Narayanan et al.'s Table 1 with trellis-plan and prints predicted against published
TFLOP/s per GPU (the paper's count, eq. 3, recomputation included) as a markdown table. Every
row is predicted as the paper ran it: full recomputation, fp16 (Megatron-LM's --fp16: 16-bit
gradients, reduced in fp16).

  bench/plan/narayanan/predict.py [--cluster configs/clusters/a100-80gb.toml] [--json OUT]

Run from the repository root after the build (build/bin/trellis-plan)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from table1 import ROWS, iteration_flops

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CALIBRATION_ROWS = ("1.7B", "1008B")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cluster", default=os.path.join(ROOT, "configs/clusters/a100-80gb.toml"))
    parser.add_argument("--planner", default=os.path.join(ROOT, "build/bin/trellis-plan"))
    parser.add_argument("--json", help="write the rows as JSON here")
    args = parser.parse_args()
    results = []
    print("| model | t | p | v | GPUs | batch | micro batch | published TFLOP/s | predicted | error | bubble | tensor comm | dp exposed | step |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in ROWS:
        name, heads, hidden, layers, t, p, gpus, batch, mb, v, published = row
        config = os.path.join(HERE, f"gpt-{name}.toml")
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([args.planner, config, "--cluster", args.cluster, "--recompute", "full",
                            "--dtype", "fp16", "--json", out.name], check=True, stdout=subprocess.DEVNULL)
            prediction = json.load(open(out.name))
        step = prediction["time"]["step"]
        predicted = iteration_flops(row) / step / gpus / 1e12
        error = predicted / published - 1
        note = " (calibration)" if name in CALIBRATION_ROWS else ""
        time = prediction["time"]
        print(f"| {name}{note} | {t} | {p} | {v} | {gpus} | {batch} | {mb} | {published} | "
              f"{predicted:.1f} | {100 * error:+.1f}% | {time['bubble'] / step:.1%} | "
              f"{time['tensor_comm'] / step:.1%} | {time['data_comm_exposed'] / step:.1%} | "
              f"{step:.2f} s |")
        results.append({"model": name, "published": published, "predicted": predicted,
                        "error": error, "step_seconds": step, "calibration": bool(note)})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    worst = max(abs(r["error"]) for r in results if not r["calibration"])
    print(f"\nworst predicted row (calibration rows excluded): {100 * worst:.1f}%", file=sys.stderr)


if __name__ == "__main__":
    main()
