#!/usr/bin/env python3
"""Trellis against PyTorch on the same GPT-2 training step, side by side on this machine.

For each model and thread count, runs trellis-train and bench/model/pytorch_gpt2.py alternately
(REPEATS times each), takes each run's median step time after warm-up, and reports the median
over runs: step ms, tokens/s, the ratio, and Trellis's MFU (against its own sgemm probe).

  bench/model/compare_pytorch.py [--build build] [--repeats 3] [--models reference,wide]
                                 [--threads 1,2] [--json FILE]

Needs a Trellis build and Debian's python3-torch (/usr/bin/python3). Trellis runs with
[device] threads, PyTorch with torch.set_num_threads. Both run under each OpenMP wait policy
asked for (--policies passive,default): PASSIVE threads sleep as soon as a parallel region ends
(what a machine shared by several ranks needs); the default spins a while first. PyTorch's
OpenBLAS is held to the same thread count (OPENBLAS_NUM_THREADS), which set_num_threads does not
do. Run it on an otherwise idle machine: the runs alternate, but a busy core still skews them.
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MODELS = {
    # The reference model of the single-rank issue.
    "reference": dict(vocab=512, seq=128, layers=4, heads=4, hidden=128, batch=8, steps=40, warmup=6),
    # A larger one: hidden 512, 8 layers, sequences of 256.
    "wide": dict(vocab=512, seq=256, layers=8, heads=8, hidden=512, batch=8, steps=12, warmup=3),
}


def write_tokens(path, vocab, count, seed=1):
    # A deterministic pseudo-random token file in llm.c's format (speed does not depend on text).
    state = seed
    ids = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        ids.append((state >> 33) % vocab)
    with open(path, "wb") as f:
        f.write(struct.pack("<256i", 20240520, 1, count, *([0] * 253)))
        f.write(struct.pack("<%dH" % count, *ids))


def omp_env(policy):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def trellis_config(m, threads, work, extra=""):
    """The reference run's config for trellis-train: model m, `threads` threads, tokens and
    outputs in `work`; `extra` lines go to its [device] table."""
    config = work / "bench.toml"
    config.write_text(f"""[run]
name = "bench"
steps = {m['steps'] + m['warmup']}
out_dir = "{work / 'out'}"
[data]
train = "{work / 'tokens.bin'}"
[model]
vocab_size = {m['vocab']}
seq_len = {m['seq']}
layers = {m['layers']}
heads = {m['heads']}
hidden = {m['hidden']}
[train]
micro_batch = {m['batch']}
global_batch = {m['batch']}
[optim]
schedule = "constant"
[logging]
progress = false
[device]
threads = {threads}
{extra}""")
    return config


def run_trellis(build, m, threads, work, policy):
    config = trellis_config(m, threads, work)
    env = omp_env(policy)
    subprocess.run([str(build / "bin" / "trellis-train"), str(config)], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    rows = [json.loads(l) for l in open(work / "out" / "metrics.jsonl")][m["warmup"]:]
    return statistics.median(r["step_ms"] for r in rows), statistics.median(r["mfu"] for r in rows)


def run_pytorch(m, threads, policy):
    env = omp_env(policy)
    # torch.set_num_threads sizes PyTorch's OpenMP pool only; the OpenBLAS it calls for matrix
    # products starts a thread per core unless told otherwise, which would let "1 thread" use 2.
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    out = subprocess.run(["/usr/bin/python3", str(ROOT / "bench/model/pytorch_gpt2.py"),
                          "--vocab", str(m["vocab"]), "--seq", str(m["seq"]),
                          "--layers", str(m["layers"]), "--heads", str(m["heads"]),
                          "--hidden", str(m["hidden"]), "--batch", str(m["batch"]),
                          "--threads", str(threads), "--steps", str(m["steps"]),
                          "--warmup", str(m["warmup"])],
                         check=True, env=env, capture_output=True, text=True).stdout
    return json.loads(out)["step_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", default="reference,wide")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--policies", default="passive,default")
    p.add_argument("--json")
    a = p.parse_args()
    build = Path(a.build)
    results = []
    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as tmp:
        work = Path(tmp)
        for name in a.models.split(","):
            m = MODELS[name]
            write_tokens(work / "tokens.bin", m["vocab"], m["batch"] * m["seq"] * 4 + 1)
            for policy in a.policies.split(","):
                for threads in (int(t) for t in a.threads.split(",")):
                    trellis_ms, torch_ms, mfus = [], [], []
                    for _ in range(a.repeats):  # alternate, so drifts in machine speed hit both
                        ms, mfu = run_trellis(build, m, threads, work, policy)
                        trellis_ms.append(ms)
                        mfus.append(mfu)
                        torch_ms.append(run_pytorch(m, threads, policy))
                    tokens = m["batch"] * m["seq"]
                    row = dict(model=name, policy=policy, threads=threads,
                               trellis_ms=statistics.median(trellis_ms),
                               pytorch_ms=statistics.median(torch_ms),
                               trellis_mfu=statistics.median(mfus))
                    row["trellis_tokens_per_s"] = tokens / row["trellis_ms"] * 1e3
                    row["pytorch_tokens_per_s"] = tokens / row["pytorch_ms"] * 1e3
                    row["speedup"] = row["pytorch_ms"] / row["trellis_ms"]
                    results.append(row)
                    print(f"{name:9s} {policy:7s} threads {threads}: trellis {row['trellis_ms']:8.1f} ms "
                          f"({row['trellis_tokens_per_s']:7.0f} tok/s, MFU {100 * row['trellis_mfu']:.0f}%)"
                          f"  pytorch {row['pytorch_ms']:8.1f} ms ({row['pytorch_tokens_per_s']:7.0f} tok/s)"
                          f"  speedup {row['speedup']:.2f}x", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
