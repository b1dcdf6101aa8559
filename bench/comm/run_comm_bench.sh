#!/usr/bin/env bash
# The communication figures of docs/benchmarks.md ("Communication backends"):
#   2 ranks, f32 all_reduce and all_gather, 8 B to 64 MiB (x2), every comm backend this build
#   has plus the mpi-raw baseline, REPEATS runs (each runs the backends one after another, so
#   drifts in the machine's speed hit all of them); into bench/comm/results/: each run's JSON
#   and console table (not committed), the medians as JSON, a PNG of busbw and the Markdown
#   summary (committed).
#
#   bench/comm/run_comm_bench.sh                      # build/ as scripts/test makes it
#   REPEATS=5 ITERS=200 bench/comm/run_comm_bench.sh  # more runs, more iterations per size
#
# Run it on an otherwise idle machine. Before each run it waits (up to IDLE_WAIT seconds, 900)
# for the 1-minute load average to fall below IDLE_LOAD (0.5), and records the load each run
# started at in its table; it warns when it had to start on a busy machine. Needs python3 with
# matplotlib for the figure; installs python3-matplotlib (apt-get) when no python3 on the PATH
# or /usr/bin/python3 has it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${TRELLIS_BUILD:-$root/build}
out=${OUT:-$root/bench/comm/results}
repeats=${REPEATS:-3}
iters=${ITERS:-100}
warmup=${WARMUP:-10}
nproc=${NPROC:-2}
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
backends=$("$build/bin/trellis-plugins" | awk '$1 == "comm" { printf "%s,", $2 }')
backends="${backends}mpi-raw"

idle_load=${IDLE_LOAD:-0.5}
idle_wait=${IDLE_WAIT:-900}
# Waits for the machine to be idle (see above); prints the load it starts at.
wait_for_idle() {
  local waited=0 load
  while true; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v t="$idle_load" 'BEGIN { exit !(l < t) }'; then break; fi
    if [ "$waited" -ge "$idle_wait" ]; then
      echo "run_comm_bench.sh: warning: still busy (load $load) after ${idle_wait} s;" \
        "measuring anyway, figures will be noisy" >&2
      break
    fi
    sleep 10
    waited=$((waited + 10))
  done
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
}
echo "backends: $backends"

mkdir -p "$out"
jsons=()
for op in all_reduce all_gather; do
  for run in $(seq 1 "$repeats"); do
    json="$out/${op}_np${nproc}_run${run}.json"
    {
      wait_for_idle
      "$bench" comm --backend "$backends" --nproc "$nproc" --op "$op" -b 8 -e 64M -f 2 \
        -n "$iters" -w "$warmup" --json "$json"
    } | tee "$out/${op}_np${nproc}_run${run}.txt"
    jsons+=("$json")
  done
done

"$python" "$root/bench/comm/plot_busbw.py" "${jsons[@]}" -o "$out/busbw_np${nproc}.png" \
  --title "Trellis comm backends, $nproc ranks, f32 (median of $repeats runs)"
"$python" "$root/bench/comm/summarize_comm.py" "${jsons[@]}" --medians "$out/medians_np${nproc}.json" |
  tee "$out/summary_np${nproc}.md"
