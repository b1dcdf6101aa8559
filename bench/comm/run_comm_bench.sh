#!/usr/bin/env bash
# The communication figures of docs/benchmarks.md ("Communication backends"):
#   NPROC ranks (2), f32, every collective of trellis-bench comm (OPS: all_reduce, all_gather,
#   reduce_scatter, broadcast, reduce, all_to_all, all_to_all_v, sendrecv), 8 B to MAX_SIZE
#   (64M) (x2), every comm backend this build has plus the mpi-raw baseline, REPEATS runs (each
#   runs the backends one after another, so drifts in the machine's speed hit all of them); into
#   bench/comm/results/: each run's JSON and console table (not committed), the medians as JSON,
#   PNGs of busbw (one panel per collective; out of place, and in place) and the Markdown summary
#   with the targets of both placements and the load of each run (committed); for 2 ranks the
#   PNGs are also docs/images/comm-busbw.png and comm-busbw-in-place.png.
#
#   bench/comm/run_comm_bench.sh                      # build/ as scripts/test makes it
#   REPEATS=5 ITERS=200 bench/comm/run_comm_bench.sh  # more runs, more iterations per size
#   NPROC=4 OPS="all_reduce reduce_scatter" bench/comm/run_comm_bench.sh
#   SMALL_MAX=64K SMALL_ITERS=2000 ITERS=20 bench/comm/run_comm_bench.sh
#       sizes up to SMALL_MAX with SMALL_ITERS iterations (a few microseconds each: a mean over
#       many, so that one scheduler hiccup does not make the figure), the larger ones with ITERS
#
# Run it on a machine as quiet as you can get; the load average each run started at is recorded
# in its table (and in the summary), since other work on the cores shows in the figures.
# BENCH_LOCK=FILE: each run holds FILE with flock(1), so that benchmarks sharing a machine never
# measure at the same time (released between runs; the load is read once the lock is held).
# BACKENDS=a,b,...: the backends to run (default: every comm plugin the build has, and mpi-raw).
# Needs python3 with matplotlib for the figure; installs python3-matplotlib (apt-get) when no
# python3 on the PATH or /usr/bin/python3 has it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${TRELLIS_BUILD:-$root/build}
out=${OUT:-$root/bench/comm/results}
repeats=${REPEATS:-3}
iters=${ITERS:-100}
warmup=${WARMUP:-10}
nproc=${NPROC:-2}
ops=${OPS:-all_reduce all_gather reduce_scatter broadcast reduce all_to_all all_to_all_v sendrecv}
max_size=${MAX_SIZE:-64M}
small_max=${SMALL_MAX:-}
small_iters=${SMALL_ITERS:-$iters}
bench="$build/bin/trellis-bench"

if [ ! -x "$bench" ]; then
  echo "run_comm_bench.sh: no $bench; build first (scripts/test or cmake --build build)" >&2
  exit 1
fi

# A python3 that can draw, installing matplotlib when none can.
find_python() {
  local candidate
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "import matplotlib" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if ! python=$(find_python); then
  echo "run_comm_bench.sh: installing python3-matplotlib for the figure"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    python3-matplotlib
  python=$(find_python)
fi

# Every comm plugin the build has, then the baseline.
if [ -z "${BACKENDS:-}" ]; then
  BACKENDS=$("$build/bin/trellis-plugins" | awk '$1 == "comm" { printf "%s,", $2 }')mpi-raw
fi
backends=$BACKENDS
lock=${BENCH_LOCK:-}
echo "backends: $backends"
# Every rank placed by the kernel: the ranks trellis-bench starts itself (ucx) are not bound,
# and mpirun (mpi, mpi-raw) would bind 2 ranks to a core each; set it to compare bound ranks.
export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}

# One run: takes the lock (when there is one), records the load it starts at, measures; with
# SMALL_MAX, two sweeps (the small sizes with SMALL_ITERS, the rest with ITERS), one JSON.
one_run() {
  local op=$1 json=$2
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
  if [ -z "$small_max" ]; then
    "$bench" comm --backend "$backends" --nproc "$nproc" --op "$op" -b 8 -e "$max_size" -f 2 \
      -n "$iters" -w "$warmup" --json "$json"
    return
  fi
  "$bench" comm --backend "$backends" --nproc "$nproc" --op "$op" -b 8 -e "$small_max" -f 2 \
    -n "$small_iters" -w "$warmup" --json "$json.small"
  "$bench" comm --backend "$backends" --nproc "$nproc" --op "$op" -b "$small_max" -e "$max_size" \
    -f 2 -n "$iters" -w "$warmup" --json "$json.large"
  # The large sweep starts at SMALL_MAX again (where the first ended): keep the small sweep's.
  "$python" - "$json.small" "$json.large" "$json" <<'MERGE'
import json, sys
small, large = (json.load(open(f)) for f in sys.argv[1:3])
seen = {(r["op"], r["backend"], r["nranks"], r["size_bytes"], r["in_place"]) for r in small}
rows = small + [r for r in large
                if (r["op"], r["backend"], r["nranks"], r["size_bytes"], r["in_place"]) not in seen]
json.dump(rows, open(sys.argv[3], "w"), indent=1)
MERGE
  rm -f "$json.small" "$json.large"
}
export -f one_run
export bench backends nproc iters warmup max_size small_max small_iters python

mkdir -p "$out"
jsons=()
# Rounds outside, operations inside: each round measures every operation close in time.
for run in $(seq 1 "$repeats"); do
  for op in $ops; do
    json="$out/${op}_np${nproc}_run${run}.json"
    if [ -n "$lock" ]; then
      flock "$lock" bash -c 'one_run "$@"' _ "$op" "$json"
    else
      one_run "$op" "$json"
    fi | tee "$out/${op}_np${nproc}_run${run}.txt"
    jsons+=("$json")
  done
done

"$python" "$root/bench/comm/plot_busbw.py" "${jsons[@]}" -o "$out/busbw_np${nproc}.png" \
  --title "Trellis comm backends, $nproc ranks, f32, out of place (median of $repeats runs)"
"$python" "$root/bench/comm/plot_busbw.py" "${jsons[@]}" -o "$out/busbw_np${nproc}_in_place.png" \
  --in-place --title "Trellis comm backends, $nproc ranks, f32, in place (median of $repeats runs)"
# The figures of docs/benchmarks.md.
if [ "$nproc" = 2 ] && [ "$out" = "$root/bench/comm/results" ]; then
  cp "$out/busbw_np${nproc}.png" "$root/docs/images/comm-busbw.png"
  cp "$out/busbw_np${nproc}_in_place.png" "$root/docs/images/comm-busbw-in-place.png"
fi
{
  "$python" "$root/bench/comm/summarize_comm.py" "${jsons[@]}" --medians "$out/medians_np${nproc}.json" \
    --by-size --sizes 8,1K,64K,256K,1M,4M,16M,64M
  echo
  # The same runs in place: how training calls every all-reduce.
  "$python" "$root/bench/comm/summarize_comm.py" "${jsons[@]}" --in-place \
    --by-size --sizes 8,1K,64K,256K,1M,4M,16M,64M
  echo
  echo "Load average (1, 5, 15 min) at the start of each run:"
  for json in "${jsons[@]}"; do
    echo "- $(basename "$json" .json): $(sed -n 's/^# load average at start: //p' "${json%.json}.txt")"
  done
} | tee "$out/summary_np${nproc}.md"
