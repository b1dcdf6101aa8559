#!/bin/sh
# Fits configs/clusters/a100-80gb.toml's compute_efficiency and memory_efficiency to two rows of
# Narayanan et al.'s Table 1, the smallest model (1.7B: no tensor or pipeline parallelism) and
# the largest (1T: tensor 8 x pipeline 64), from the iteration times their published TFLOP/s
# imply (published-*.metrics.jsonl, written by make_configs.py). The fitted description is
# printed; predict.py then predicts all ten rows with it.
#   bench/plan/narayanan/calibrate.sh [BASE_CLUSTER] > fitted.toml
set -e
here=$(dirname "$0")
root="$here/../../.."
base=${1:-$root/configs/clusters/a100-80gb.toml}
exec "$root/build/bin/trellis-plan" --cluster "$base" --recompute full --dtype fp16 \
  --calibrate-run "$here/gpt-1.7B.toml=$here/published-1.7B.metrics.jsonl" \
  --calibrate-run "$here/gpt-1008B.toml=$here/published-1008B.metrics.jsonl"
