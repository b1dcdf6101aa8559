#!/usr/bin/env bash
# trellis-plan with the replicated family on TRELLIS_PLUGIN_PATH: a prediction for a layout under
# it, at tensor 2, and --search ranking layouts under it by name.
# usage: replicated_plan_test.sh <trellis-plan> <config> <plugin directory>
set -u
plan=$1
config=$2
plugins=$3
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

out=$(TRELLIS_PLUGIN_PATH=$plugins "$plan" "$config" --set parallel.tensor=2 --set launch.nproc=2 2>&1)
code=$?
echo "$out"
[[ $code -eq 0 ]] || fail "trellis-plan of a replicated layout exited $code"
grep -q '^layout: tensor 2 (replicated)' <<<"$out" || fail "no layout line naming the replicated family"

out=$(TRELLIS_PLUGIN_PATH=$plugins "$plan" "$config" --set launch.nproc=4 --set train.global_batch=16 --search --top 1000 2>&1)
code=$?
[[ $code -eq 0 ]] || { echo "$out" >&2; fail "trellis-plan --search exited $code"; }
grep -Eq ' t2 .* replicated mb[0-9]+ ' <<<"$out" ||
  { echo "$out" >&2; fail "--search does not rank a tensor-2 layout under the replicated family"; }
grep -E ' replicated mb[0-9]+ ' <<<"$out" | head -3

[[ $failures -eq 0 ]] && echo "replicated: planned and searched" || exit 1
