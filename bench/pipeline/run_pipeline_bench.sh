#!/usr/bin/env bash
# The pipeline figures of docs/benchmarks.md ("Pipeline schedules"): every schedule (gpipe, 1f1b,
# interleaved, zbh1) on a real pipeline of PIPELINES stages (4, then 2), one rank per stage over
# the mpi backend, each run's Chrome trace ([logging] trace) measured and drawn:
#   - the idle fraction of every rank and the bubble (idle / compute over the ranks) within the
#     pipeline's span, against the simulator's bubble (--dry-run: F = 1, B = 2 or I = W = 1) and
#     the closed form ((p-1)/m; (p-1)/(vm) interleaved; (p-1)/(3m) zbh1);
#   - the peak activation memory of every rank (the trace's live bytes), against the simulator's
#     count of activations alive;
#   - a timeline image per schedule: docs/images/schedule-<name>.png (4 stages) and
#     docs/images/schedule-<name>-pp2.png (2 stages), drawn by scripts/render_trace.py.
#
#   bench/pipeline/run_pipeline_bench.sh [BUILD_DIR]
#   PIPELINES="4" STEPS=8 BENCH_LOCK=/tmp/trellis-bench.lock bench/pipeline/run_pipeline_bench.sh
#
# BENCH_LOCK: a file each training run holds with flock(1), so that runs of benchmarks sharing a
# machine never overlap (the lock is released between runs). The load average each run started at
# is recorded with its figures. The model: vocab 256, seq 128, 16 layers, 4 heads, hidden 256;
# micro_batch 4, global_batch 32: m = 8 microbatches; one thread per rank. 4 ranks on a 2-core
# machine time-share its cores, which stretches every action and the idle time alike.
# Needs python3-matplotlib (installed when missing). Results: bench/pipeline/results.md and
# bench/pipeline/results.json.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-${TRELLIS_BUILD:-$root/build}}
pipelines=${PIPELINES:-4 2}
schedules=${SCHEDULES:-gpipe 1f1b interleaved zbh1}
steps=${STEPS:-6}
lock=${BENCH_LOCK:-}
python=/usr/bin/python3
work=$(mktemp -d /tmp/trellis-pipeline-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! $python -c "import matplotlib" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    python3-matplotlib >/dev/null
fi
locked() {
  if [ -n "$lock" ]; then flock "$lock" "$@"; else "$@"; fi
}
export OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
mkdir -p "$root/docs/images"
records="$work/records.jsonl"
: > "$records"
for pipeline in $pipelines; do
  for schedule in $schedules; do
    virtual=1; [ "$schedule" = interleaved ] && virtual=2
    name="$schedule-pp$pipeline"
    image="$root/docs/images/schedule-$schedule.png"
    [ "$pipeline" != 4 ] && image="$root/docs/images/schedule-$schedule-pp$pipeline.png"
    mkdir -p "$work/$name"
    cat > "$work/$name/run.toml" <<TOML
[run]
name = "pipeline-$name"
steps = $steps
out_dir = "$work/$name"
[launch]
nproc = $pipeline
[comm]
backend = "mpi"
[parallel]
pipeline = $pipeline
schedule = "$schedule"
virtual_stages = $virtual
[data]
train = "$root/configs/data/quickstart.txt"
[model]
vocab_size = 256
seq_len = 128
layers = 16
heads = 4
hidden = 256
[train]
micro_batch = 4
global_batch = 32
[logging]
progress = false
trace = "$work/$name/trace.json"
[device]
threads = 1
TOML
    "$build/bin/trellis-train" "$work/$name/run.toml" --dry-run > "$work/$name/dry-run.txt"
    # The lock is taken before the load is read, so the load is that of the machine we run on.
    locked bash -c 'cut -d" " -f1-3 /proc/loadavg > "$1/load.txt"; exec "$2" "$3"' _ \
      "$work/$name" "$build/bin/trellis-train" "$work/$name/run.toml" > "$work/$name/train.txt" 2>&1 ||
      { cat "$work/$name/train.txt" >&2; exit 1; }
    $python "$root/scripts/render_trace.py" "$work/$name/trace.json" - --step 2 \
      --json "$work/$name/stats.json" > /dev/null
    # Draw the step whose bubble is the median of steps 2.. (the first step is warm-up).
    step=$($python - "$work/$name/stats.json" <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))["steps"]
later = sorted((m["bubble_ratio"], int(n)) for n, m in steps.items() if int(n) >= 2)
print(later[len(later) // 2][1])
PY
)
    $python "$root/scripts/render_trace.py" "$work/$name/trace.json" "$image" --step "$step" \
      --title "$schedule, pipeline $pipeline, 8 microbatches$([ "$virtual" = 2 ] && echo ", 2 virtual stages"), mpi, $([ "$pipeline" -gt "$(nproc)" ] && echo "$pipeline ranks on $(nproc) cores" || echo "one core per rank")" \
      | tee "$work/$name/render.txt"
    $python - "$work/$name" "$schedule" "$pipeline" "$virtual" "$step" "$image" >> "$records" <<'PY'
import json, re, sys
d, schedule, p, v, step, image = sys.argv[1:]
dry = open(f"{d}/dry-run.txt").read()
sim = re.search(r"bubble ([0-9.]+)% of the compute \(idle ([0-9.]+)% of the time\)", dry)
alive = re.search(r"activations alive at most: (.*)", dry).group(1)
metrics = [json.loads(line) for line in open(f"{d}/metrics.jsonl")]
print(json.dumps({
    "schedule": schedule, "pipeline": int(p), "virtual_stages": int(v), "microbatches": 8,
    "drawn_step": int(step), "image": image.split("/docs/")[-1],
    "load_at_start": open(f"{d}/load.txt").read().split(),
    "simulated_bubble_ratio": float(sim.group(1)) / 100,
    "simulated_idle_fraction": float(sim.group(2)) / 100,
    "simulated_activations": [int(x) for x in re.findall(r"rank \d+: (\d+)", alive)],
    "step_ms": [m["step_ms"] for m in metrics],
    "trace": json.load(open(f"{d}/stats.json")),
}))
PY
  done
done
{
  echo "# Pipeline schedules, measured"
  echo
  echo "Written by \`bench/pipeline/run_pipeline_bench.sh\` (PIPELINES=\"$pipelines\", STEPS=$steps) on"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'): $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1),"
  echo "$(nproc) cores, $(mpirun --version 2>/dev/null | head -1). What the figures mean and why they"
  echo "differ from the closed forms: docs/benchmarks.md, \"Pipeline schedules\"."
  echo
  $python "$root/bench/pipeline/summarize_pipeline.py" "$records" \
    --json "$root/bench/pipeline/results.json"
} > "$root/bench/pipeline/results.md"
cat "$root/bench/pipeline/results.md"
