#!/bin/sh
# Calibrates configs/clusters/cpu-dev-vm.toml on this machine, in place:
#  1. the mpi backend between 2 ranks: trellis-bench comm (branch conformance) for all_reduce,
#     all_gather, reduce_scatter and sendrecv, 8 B to 32 MiB -> bench/plan/results/cpu-comm-*.json
#     (TRELLIS_BENCH names the binary; without one, the committed JSON files are used);
#  2. two one-rank, one-core trainings, a narrow model and a wide one, RUNS times each, and each
#     time as many copies at once as the machine has cores (COPIES): a core is slower when the
#     others are busy too (about 7% here, bench/plan/results/cpu-diagnostics.md), and training
#     keeps every core busy. The run with the median step time is kept ->
#     bench/plan/results/cpu-calib-*.metrics.jsonl;
#  3. trellis-plan --calibrate on all of it, rewriting the description (its comments kept); the
#     fit's report and the load average before each measurement -> bench/plan/results/
#     cpu-calibration.txt.
# Run from the repository root after the build, on a quiet machine. On a shared machine set
# LOCK=FILE: each measurement then runs under `flock FILE`, one at a time, the lock released
# between them.
set -e
root=$(pwd)
results=bench/plan/results
runs=${RUNS:-3}
copies=${COPIES:-$(nproc)}
bench=${TRELLIS_BENCH:-$root/build/bin/trellis-bench}
log=$results/cpu-calibration.txt
mkdir -p "$results" "$root/runs"
if [ -n "$LOCK" ]; then locked="flock $LOCK"; else locked=""; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
{
  echo "# bench/plan/cpu/calibrate.sh, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
} >"$log"

if [ -x "$bench" ]; then
  for op in all_reduce all_gather reduce_scatter sendrecv; do
    echo "comm $op: load $(load)" >>"$log"
    $locked "$bench" comm --backend mpi --nproc 2 --op $op -b 8 -e 32M -f 4 -n 50 -w 10 \
      --json "$results/cpu-comm-$op.json" >/dev/null
  done
else
  echo "calibrate.sh: no trellis-bench at $bench; using the committed comm rows" >&2
  echo "comm: the committed rows" >>"$log"
fi

for model in narrow wide; do
  rm -f "$root/runs/plan-calib-$model.list"
  for k in $(seq 1 "$runs"); do
    before=$(load)
    # shellcheck disable=SC2016
    $locked sh -c 'for c in $(seq 1 "$1"); do
        "$2/build/bin/trellis-train" "bench/plan/cpu/calib-$3.toml" \
          --set run.out_dir="$2/runs/plan-calib-$3-$4-$c" >/dev/null &
      done; wait' sh "$copies" "$root" "$model" "$k"
    for c in $(seq 1 "$copies"); do
      out=$root/runs/plan-calib-$model-$k-$c
      ms=$(python3 -c "import json,statistics,sys; s=[json.loads(l)['step_ms'] for l in open(sys.argv[1])][1:]; print(statistics.median(s))" "$out/metrics.jsonl")
      echo "calib-$model run $k copy $c of $copies: $ms ms a step (median after the first), load $before" >>"$log"
      echo "$ms $out" >>"$root/runs/plan-calib-$model.list"
    done
  done
  median=$(sort -n "$root/runs/plan-calib-$model.list" | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
  rm -f "$root/runs/plan-calib-$model.list"
  cp "$median/metrics.jsonl" "$results/cpu-calib-$model.metrics.jsonl"
done

# Relative paths: they are written into the description's comments.
"$root/build/bin/trellis-plan" --cluster configs/clusters/cpu-dev-vm.toml \
  --calibrate $results/cpu-comm-all_reduce.json --calibrate $results/cpu-comm-all_gather.json \
  --calibrate $results/cpu-comm-reduce_scatter.json --calibrate $results/cpu-comm-sendrecv.json \
  --calibrate-run bench/plan/cpu/calib-narrow.toml=$results/cpu-calib-narrow.metrics.jsonl \
  --calibrate-run bench/plan/cpu/calib-wide.toml=$results/cpu-calib-wide.metrics.jsonl \
  --output configs/clusters/cpu-dev-vm.toml.new 2>>"$log"
mv configs/clusters/cpu-dev-vm.toml.new configs/clusters/cpu-dev-vm.toml
cat "$log"
