#!/usr/bin/env bash
# trellis-plan as a user runs it: a prediction, a search, a calibration whose output reads back,
# and exit code 2 with a clear message for bad input (config, cluster file, measurements,
# arguments).
# usage: trellis_plan_cli_test.sh <trellis-plan binary> <source dir>
set -u
tool=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run <expected exit code> <args...>: stdout in $out, stderr in $err.
run() {
  local expected=$1
  shift
  out=$("$tool" "$@" 2>"$work/err")
  local code=$?
  err=$(cat "$work/err")
  if [[ $code -ne $expected ]]; then
    fail "trellis-plan $* exited $code, expected $expected"
    printf '%s\n%s\n' "$out" "$err" >&2
  fi
}
expect_out() { grep -Eq -- "$1" <<<"$out" || { fail "$2: no line matching '$1' in:"; echo "$out" >&2; }; }
expect_err() { grep -Eq -- "$1" <<<"$err" || { fail "$2: no line matching '$1' in stderr:"; echo "$err" >&2; }; }

cpu=$src/configs/clusters/cpu-dev-vm.toml
a100=$src/configs/clusters/a100-80gb.toml
model=$src/bench/plan/cpu/model.toml

# A prediction: the breakdowns and the throughput line.
run 0 "$model" --cluster "$cpu" --set launch.nproc=2 --set parallel.pipeline=2 --tokens 1e9
expect_out '^layout: tensor 1 \(1d\) x pipeline 2 \(1f1b\) x data 1 = 2 ranks' "layout line"
expect_out '^  activations ' "activation row"
expect_out '^  pipeline bubble ' "bubble row"
expect_out '^throughput: [0-9,]+ tokens/s' "throughput"
expect_out '^time to train 1e\+09 tokens: ' "time to train"

# JSON for scripts.
run 0 "$model" --cluster "$cpu" --json "$work/p.json"
grep -q '"tokens_per_s"' "$work/p.json" || fail "--json wrote no tokens_per_s"

# A search on the A100 cluster, with recomputation, the paper's count printed for a prediction.
run 0 "$src/bench/plan/narayanan/gpt-1.7B.toml" --cluster "$a100" --search --world 32 --top 3 \
  --recompute full
expect_out 'layouts considered' "search summary"
expect_out '^1   t' "first ranked layout"
expect_out '^--- #3 ---' "three breakdowns"
run 0 "$src/bench/plan/narayanan/gpt-1.7B.toml" --cluster "$a100" --recompute full --dtype fp16
expect_out "^Narayanan et al.'s count .*: [0-9.]+ TFLOP/s per device" "paper's count"

# A config planned needs no data: [data] train is neither required nor read. --search lays out
# the config's own world ([launch] nproc) unless --world says otherwise; layouts predicted the
# same share a row, and every column and ratio printed is explained.
cat >"$work/no-data.toml" <<'TOML'
[launch]
nproc = 4
[model]
vocab_size = 256
seq_len = 128
layers = 4
heads = 4
hidden = 128
[train]
micro_batch = 4
global_batch = 16
TOML
run 0 "$work/no-data.toml" --cluster "$cpu"
expect_out '^layout: tensor 1 \(1d\) x pipeline 1 x data 4 = 4 ranks' "a config without data plans"
expect_out '^throughput: .* MFU [0-9.]+% \(that TFLOP/s over the [0-9.]+ TFLOP/s fp32 peak\)$' "MFU explained"
expect_out 'devices shared: 4x oversubscribed, the devices a node.s ranks want over those it has' \
  "oversubscription explained"
run 0 "$work/no-data.toml" --cluster "$cpu" --set parallel.pipeline=2
expect_out 'bubble ratio [0-9.]+ \(idle over compute, in the simulated schedule\)' "bubble ratio explained"
run 0 "$work/no-data.toml" --cluster "$cpu" --search --top 40
expect_out "^search: every layout of 4 ranks \(the config's world size; --world N for another\)" \
  "the config's world"
expect_out '^[0-9]+ +t1 p2 d2 gpipe/interleaved 1d mb4 ' "identical rows merged"
expect_out '^Layouts predicted the same in every column share a row' "merging explained"
expect_out '^  TFLOP/s = model FLOPs a second per device; MFU = that TFLOP/s over the device.s' \
  "columns explained"
if [[ $(grep -c '^[0-9]\+ \+t1 .* \(seq\|2d\) mb' <<<"$out") -ne 0 ]]; then
  fail "tensor 1 listed under several tensor modes"
fi
run 0 "$work/no-data.toml" --cluster "$cpu" --search --world 2 --top 1
expect_out '^search: every layout of 2 ranks \(--world\)' "--world"
expect_out '^1   t[12] p[12] d[12] ' "a layout of 2 ranks"

# A cuda run is planned in its own [device] precision: bf16 products, fp32 tensors; --dtype asks
# for another system's (Megatron-LM's bf16: 2-byte parameters).
h100=$src/configs/clusters/h100-sxm.toml
# A mixture of experts under expert parallelism: total and active parameters, the expert links,
# the dispatcher's collectives; the search tries expert sizes.
run 0 "$src/configs/examples/moe.toml" --cluster "$cpu" --json "$work/moe.json"
expect_out '; 8 experts, top_k 2, moe_every 2: [0-9.]+ M parameters \([0-9.]+ M active a token\)' \
  "MoE model line"
expect_out '^layout: .* x data 4 \(expert 2, alltoall\) = 4 ranks' "expert layout"
expect_out '^  expert groups:   2 ranks' "expert link"
expect_out '^  parameters .* of them experts' "expert parameters"
expect_out '^  expert-parallel comm +[0-9.]+ [mu]s' "dispatcher time"
grep -q '"expert_comm"' "$work/moe.json" || fail "--json: no expert_comm"
run 0 "$src/configs/examples/moe.toml" --cluster "$cpu" --set parallel.expert_dispatcher=allgather
expect_out 'expert-parallel comm .*\(allgather\)' "allgather's collectives"
run 0 "$src/configs/examples/moe.toml" --cluster "$cpu" --search --top 100
expect_out ' e2 alltoall ' "a searched expert size"
expect_out 'tensor mode 2d left out: it does not run experts' "2d left out of an MoE search"

run 0 "$src/configs/examples/gpu.toml" --cluster "$h100"
expect_out '; bf16-products$' "Trellis's bf16 on cuda"
expect_out '^  parameters .* 4 B each' "fp32 parameters under bf16 products"
run 0 "$src/configs/examples/gpu.toml" --cluster "$h100" --set device.precision=fp32
expect_out '; fp32$' "Trellis's fp32 on cuda"
run 0 "$src/configs/examples/gpu.toml" --cluster "$h100" --dtype bf16
expect_out '^  parameters .* 2 B each' "--dtype bf16 is Megatron-LM's"

# A calibration: comm rows and a run's metrics, written as a cluster file that reads back.
cat >"$work/comm.json" <<'JSON'
[{"op": "all_reduce", "backend": "mpi", "nranks": 2, "size_bytes": 8, "time_us": 2, "algbw_gbs": 0, "busbw_gbs": 0, "wrong": 0, "in_place": false},
 {"op": "all_reduce", "backend": "mpi", "nranks": 2, "size_bytes": 8388608, "time_us": 4200, "algbw_gbs": 2, "busbw_gbs": 2, "wrong": 0, "in_place": false}]
JSON
printf '{"step":1,"step_ms":900,"peak_mem_bytes":1}\n{"step":2,"step_ms":500,"peak_mem_bytes":1}\n' >"$work/m.jsonl"
run 0 "$model" --cluster "$cpu" --calibrate "$work/comm.json" --calibrate "$work/m.jsonl" \
  --output "$work/fitted.toml"
expect_err '^\[intra_node\] from 2 trellis-bench rows: latency 1 us a step' "link fit"
expect_err '^\[accelerator\] from 1 run: compute_efficiency' "compute fit"
run 0 "$model" --cluster "$work/fitted.toml"
expect_out "^trellis-plan: .* on cluster 'dev-vm-2core'" "the fitted file plans"

# Bad input: exit 2, and a message saying what is wrong.
run 2 "$model" --cluster "$work/none.toml"
expect_err 'cannot read the cluster description .*none.toml: no such file' "missing cluster"
# Named relative to the working directory, a missing file is reported by its absolute path.
out=$(cd "$work" && "$tool" "$model" --cluster none.toml 2>&1)
grep -q "cannot read the cluster description $work/none.toml: no such file" <<<"$out" ||
  fail "a relative cluster path is not reported absolute: $out"
out=$(cd "$work" && "$tool" "$model" --cluster "$cpu" --calibrate none.json 2>&1)
grep -q "$work/none.json: no such file" <<<"$out" ||
  fail "a relative --calibrate path is not reported absolute: $out"
printf '[cluster]\nname = "x"\nnodes = -1\n' >"$work/bad.toml"
run 2 "$model" --cluster "$work/bad.toml"
expect_err 'bad.toml:3: cluster.nodes = -1: out of range' "bad cluster value"
expect_err 'accelerator.kind is missing' "missing key"
run 2 "$model" --cluster "$cpu" --set parallel.tensr=2
expect_err "parallel.tensr=2: unknown key in \[parallel\] \(did you mean 'tensor'\?\)" "bad config"
run 2 "$model" --cluster "$cpu" --recompute some
expect_err '--recompute some: valid: none, selective, full' "bad flag value"
run 2 "$model" --cluster "$cpu" --recompute-method tree
expect_err '--recompute-method tree: valid: uniform, block' "bad method"
run 2 "$model" --cluster "$cpu" --recompute selective --recompute-num-layers 2
expect_err 'applies to full recomputation only' "group size without full"
run 2 "$model" --cluster "$cpu" --recompute full --recompute-num-layers 9
expect_err 'more than the 8 blocks of each model chunk; valid: 1 to 8' "group size past a chunk"
# The run's own recomputation by default, the flags over it; the label and JSON name the groups.
run 0 "$model" --cluster "$cpu" --set train.recompute=full --set train.recompute_method=block \
  --set train.recompute_num_layers=2 --json "$work/rc.json"
expect_out 'recompute full block 2;' "the run's recomputation"
grep -q '"recompute_method": "block", "recompute_num_layers": 2' "$work/rc.json" ||
  fail "--json names no recompute_method and recompute_num_layers"
run 0 "$model" --cluster "$cpu" --set train.recompute=full --recompute-num-layers 4
expect_out 'recompute full uniform 4;' "--recompute-num-layers over the run's"
# Another architecture: LLaMA's blocks (RMSNorm, SwiGLU of 640, no biases, untied head) are
# 4 x 256^2 + 3 x 256 x 640 + 2 x 256 each; with the token table and head of 512 x 256 and the
# final norm, 6,295,808 parameters. The search keeps to the layouts its key/value heads allow.
run 0 "$model" --cluster "$cpu" --set model.arch=llama
expect_out 'seq 128: 6.296 M parameters' "LLaMA's parameters"
run 0 "$model" --cluster "$cpu" --set model.arch=llama --set model.kv_heads=2 --search --world 2 \
  --top 100
expect_out 't2 p1 d1 1d' "a LLaMA layout at tensor 2 (kv_heads 2)"
run 0 "$model" --cluster "$cpu" --set model.arch=llama --set model.kv_heads=1 --search --world 2 \
  --top 100
grep -q ' t2 ' <<<"$out" && fail "a layout at tensor 2 for kv_heads 1, which the families refuse"
run 2 "$model" --cluster "$cpu" --serch
expect_err "unknown option '--serch' \(did you mean '--search'\?\)" "misspelt flag"
run 2 --calibrate "$work/m.jsonl" --cluster "$cpu"
expect_err 'a metrics file needs the CONFIG of its run' "metrics without a config"
echo '{"op": 1}' >"$work/bad.json"
run 2 "$model" --cluster "$cpu" --calibrate "$work/bad.json"
expect_err 'expected a list of rows' "bad comm JSON"
run 2
expect_err 'no CONFIG file given' "no config"

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "trellis-plan CLI: all checks passed"
