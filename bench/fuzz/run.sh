#!/usr/bin/env bash
# Fuzzes every harness of tests/fuzz (or those named) for SECONDS each, then merges what it found
# into the committed corpora, minimised (libFuzzer's -merge=1: a small set of inputs that reaches
# every edge reached), together with seeds from the repository's real files (make_seeds.py).
#   bench/fuzz/run.sh SECONDS [HARNESS...]      e.g. bench/fuzz/run.sh 600, run.sh 60 manifest
# Builds the harnesses first (build-fuzz/, clang with ASan + UBSan; installs clang when missing).
# A crash, leak, timeout, out-of-memory or sanitizer report stops that harness: its input is
# left in build-fuzz/findings/<harness>/ and the script exits 1 after the others ran. Once fixed,
# the input goes to tests/fuzz/regressions/<harness>/ under a name that says what it found.
# Prints per harness the executions, the seconds and the coverage (edges, features) reached.
set -euo pipefail

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: bench/fuzz/run.sh SECONDS [HARNESS...]" >&2
  exit 2
fi
seconds=$1
shift

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/fuzz/build.sh"  # sets fuzz_build, fuzz_harnesses; builds

harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${fuzz_harnesses[@]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/fuzz/make_seeds.py" "$work/seeds"

failed=()
printf '%-24s %12s %8s %8s %8s %8s\n' harness executions seconds edges features corpus
for harness in "${harnesses[@]}"; do
  binary=$fuzz_build/bin/fuzz_$harness
  [ -x "$binary" ] || { echo "no harness $harness (have: ${fuzz_harnesses[*]})" >&2; exit 2; }
  corpus=$root/tests/fuzz/corpus/$harness
  # Inputs that found bugs: read, never merged away.
  regressions=$root/tests/fuzz/regressions/$harness
  findings=$fuzz_build/findings/$harness
  mkdir -p "$corpus" "$findings" "$work/new-$harness" "$work/seeds/$harness"
  [ -d "$regressions" ] || regressions=$work/seeds/$harness  # none yet
  log=$fuzz_build/findings/$harness.log
  started=$SECONDS
  # New inputs go to the first directory; the corpus and the seeds are read. -timeout: an input
  # that runs 10 s is a hang; -rss_limit_mb: one that needs 2 GiB is a finding too.
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$work/new-$harness" "$corpus" "$regressions" \
      "$work/seeds/$harness" >"$log" 2>&1; then
    failed+=("$harness")
    echo "$harness: FINDING, see $log and $findings/" >&2
  fi
  ran=$((SECONDS - started))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  features=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  # The corpus again from scratch: everything kept and found, minimised to the fewest inputs that
  # reach every edge reached (-use_counters=0: edges, not how often each ran, so it stays small).
  mkdir -p "$work/merged-$harness"
  "$binary" -merge=1 -use_counters=0 -timeout=10 -rss_limit_mb=2048 "$work/merged-$harness" \
    "$corpus" "$work/new-$harness" "$work/seeds/$harness" >>"$log" 2>&1 ||
    failed+=("$harness(merge)")
  if [ -n "$(ls -A "$work/merged-$harness")" ]; then
    rm -f "$corpus"/*
    cp "$work/merged-$harness"/* "$corpus"/
  fi
  printf '%-24s %12s %8s %8s %8s %8s\n' "$harness" "${executions:-?}" "$ran" "${edges:-?}" \
    "${features:-?}" "$(ls "$corpus" | wc -l)"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "findings in: ${failed[*]}" >&2
  exit 1
fi
