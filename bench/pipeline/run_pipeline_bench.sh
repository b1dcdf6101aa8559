#!/usr/bin/env bash
# Runs every pipeline schedule on a real 2-stage pipeline (2 ranks, one per core of this machine),
# writes each run's trace, draws it (docs/images/schedule-<name>.png) and measures the bubble
# from the trace against the simulated and closed-form values.
#   bench/pipeline/run_pipeline_bench.sh [BUILD_DIR]
# Needs python3-matplotlib (installed when missing). Results: bench/pipeline/results.md
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d /tmp/trellis-pipeline-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq python3-matplotlib >/dev/null
fi
mkdir -p "$root/docs/images"
out="$root/bench/pipeline/results.md"
echo "| schedule | microbatches | measured bubble | simulated bubble | closed form |" > "$out"
echo "|---|---|---|---|---|" >> "$out"
for schedule in gpipe 1f1b zbh1 interleaved; do
  virtual=1; [ "$schedule" = interleaved ] && virtual=2
  cat > "$work/run.toml" <<TOML
[run]
name = "pipeline-$schedule"
steps = 4
out_dir = "$work/$schedule"
[launch]
nproc = 2
[comm]
backend = "mpi"
[parallel]
pipeline = 2
schedule = "$schedule"
virtual_stages = $virtual
[data]
train = "$root/configs/data/quickstart.txt"
[model]
vocab_size = 256
seq_len = 128
layers = 8
heads = 4
hidden = 256
[train]
micro_batch = 4
global_batch = 32
[logging]
progress = false
trace = "$work/$schedule/trace.json"
[device]
threads = 1
TOML
  sim=$("$build/bin/trellis-train" "$work/run.toml" --dry-run | sed -n 's/^  bubble \([0-9.]*\)% of the compute.*/\1/p')
  "$build/bin/trellis-train" "$work/run.toml" > /dev/null
  measured=$(/usr/bin/python3 "$root/scripts/render_trace.py" "$work/$schedule/trace.json" \
    "$root/docs/images/schedule-$schedule.png" --step 3 --title "$schedule, pipeline 2, 8 microbatches" \
    | sed -n 's/^bubble: \([0-9.]*\)%.*/\1/p')
  case $schedule in
    gpipe|1f1b) closed="1/8 = 12.5%" ;;
    interleaved) closed="1/16 = 6.2%" ;;
    zbh1) closed="1/24 = 4.2%" ;;
  esac
  echo "| $schedule | 8 | $measured% | $sim% | $closed |" >> "$out"
done
cat "$out"
