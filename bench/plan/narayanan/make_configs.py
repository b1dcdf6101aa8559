#!/usr/bin/env python3
"""Writes one trellis run config per row of Narayanan et al.'s Table 1 (table1.py) into this
folder, and for the two calibration rows a metrics.jsonl with the iteration time the published
TFLOP/s implies (what trellis-plan --calibrate-run reads)."""
import json
import os

from table1 import ROWS, SEQ_LEN, VOCAB, published_step_seconds

HERE = os.path.dirname(os.path.abspath(__file__))

for row in ROWS:
    name, heads, hidden, layers, t, p, gpus, batch, mb, v, tflops = row
    schedule = "interleaved" if v > 1 else "1f1b"
    text = f"""# Narayanan et al. 2021, Table 1: the {name} GPT ({tflops} TFLOP/s per GPU published).
# Predicted by bench/plan/narayanan/predict.py with --recompute full on configs/clusters/a100-80gb.toml.
[run]
name = "narayanan-{name}"

[launch]
nproc = {gpus}

[parallel]
tensor = {t}
pipeline = {p}
schedule = "{schedule}"
virtual_stages = {v}

[model]
vocab_size = {VOCAB}
seq_len = {SEQ_LEN}
layers = {layers}
heads = {heads}
hidden = {hidden}

[train]
micro_batch = {mb}
global_batch = {batch}

[data]
train = "../../../configs/data/quickstart.txt"  # the planner reads no data; the check wants a file
"""
    with open(os.path.join(HERE, f"gpt-{name}.toml"), "w") as f:
        f.write(text)

for name in ("1.7B", "1008B"):
    row = next(r for r in ROWS if r[0] == name)
    step_ms = published_step_seconds(row) * 1e3
    with open(os.path.join(HERE, f"published-{name}.metrics.jsonl"), "w") as f:
        f.write(json.dumps({"step": 1, "step_ms": step_ms, "peak_mem_bytes": 0}) + "\n")
