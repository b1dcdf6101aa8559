#!/bin/sh
# Calibrates configs/clusters/cpu-dev-vm.toml on this machine, in place:
#  1. the mpi backend between 2 ranks: trellis-bench comm (branch conformance) for all_reduce,
#     all_gather, reduce_scatter and sendrecv, 8 B to 32 MiB -> bench/plan/results/cpu-comm-*.json
#     (TRELLIS_BENCH names the binary; without one, the committed JSON files are used);
#  2. two one-rank, one-core trainings, a narrow model and a wide one, RUNS times each; the run
#     with the median step time is kept -> bench/plan/results/cpu-calib-*.metrics.jsonl;
#  3. trellis-plan --calibrate on all of it, rewriting the description (its comments kept).
# Run from the repository root after the build, on a quiet machine.
set -e
root=$(pwd)
results=$root/bench/plan/results
runs=${RUNS:-3}
bench=${TRELLIS_BENCH:-$root/build/bin/trellis-bench}
mkdir -p "$results"

if [ -x "$bench" ]; then
  for op in all_reduce all_gather reduce_scatter sendrecv; do
    "$bench" comm --backend mpi --nproc 2 --op $op -b 8 -e 32M -f 4 -n 50 -w 10 \
      --json "$results/cpu-comm-$op.json" >/dev/null
  done
else
  echo "calibrate.sh: no trellis-bench at $bench; using the committed comm rows" >&2
fi

for model in narrow wide; do
  best=""
  for k in $(seq 1 "$runs"); do
    out=$root/runs/plan-calib-$model-$k
    "$root/build/bin/trellis-train" "$root/bench/plan/cpu/calib-$model.toml" \
      --set run.out_dir="$out" >/dev/null
    echo "$(python3 -c "import json,statistics,sys; s=[json.loads(l)['step_ms'] for l in open(sys.argv[1])][1:]; print(statistics.median(s))" "$out/metrics.jsonl") $out" >>"$root/runs/plan-calib-$model.list"
  done
  median=$(sort -n "$root/runs/plan-calib-$model.list" | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
  rm -f "$root/runs/plan-calib-$model.list"
  cp "$median/metrics.jsonl" "$results/cpu-calib-$model.metrics.jsonl"
done

"$root/build/bin/trellis-plan" --cluster "$root/configs/clusters/cpu-dev-vm.toml" \
  --calibrate "$results/cpu-comm-all_reduce.json" --calibrate "$results/cpu-comm-all_gather.json" \
  --calibrate "$results/cpu-comm-reduce_scatter.json" --calibrate "$results/cpu-comm-sendrecv.json" \
  --calibrate-run "$root/bench/plan/cpu/calib-narrow.toml=$results/cpu-calib-narrow.metrics.jsonl" \
  --calibrate-run "$root/bench/plan/cpu/calib-wide.toml=$results/cpu-calib-wide.metrics.jsonl" \
  --output "$root/configs/clusters/cpu-dev-vm.toml.new"
mv "$root/configs/clusters/cpu-dev-vm.toml.new" "$root/configs/clusters/cpu-dev-vm.toml"
