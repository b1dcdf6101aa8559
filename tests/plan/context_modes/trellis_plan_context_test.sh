#!/usr/bin/env bash
# trellis-plan with context parallelism as a user runs it: [parallel] context and context_mode
# from the config (or --set), the report's and the JSON's context fields, a context mode whose
# plugin describes no cost refused with exit 2 and left out of --search, and the search ranking
# context layouts. The modes are the test plugins of this folder (plan-ring, plan-a2a,
# plan-allgather, plan-costless), put on TRELLIS_PLUGIN_PATH.
# usage: trellis_plan_context_test.sh <trellis-plan> <source dir> <context plugin dir>
set -u
tool=$1
src=$2
modes=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

a100=$src/configs/clusters/a100-80gb.toml
cat >"$work/long.toml" <<'TOML'
[launch]
nproc = 8
[model]
vocab_size = 1024
seq_len = 32768
layers = 4
heads = 16
hidden = 1024
[train]
micro_batch = 1
global_batch = 8
[parallel]
context = 4
context_mode = "plan-ring"
TOML

# plan <expected exit> <args...>: stdout and stderr in $out.
plan() {
  local expected=$1
  shift
  out=$(TRELLIS_PLUGIN_PATH="$modes" "$tool" "$work/long.toml" --cluster "$a100" "$@" 2>&1)
  local code=$?
  if [[ $code -ne $expected ]]; then
    fail "trellis-plan $* exited $code, expected $expected"
    echo "$out" >&2
  fi
}
expect() { grep -Eq -- "$1" <<<"$out" || { fail "$2: no line matching '$1' in:"; echo "$out" >&2; }; }
# A field of a JSON file: "context": 4 -> 4 (the first one).
json_field() { grep -o "\"$1\": [^,}]*" "$2" | head -1 | sed 's/.*: //'; }

# The config's own context layout: the report says where the context group lands and what its
# collectives cost; the JSON carries them.
plan 0 --json "$work/ring.json"
expect '^layout: tensor 1 \(1d\) x context 4 \(plan-ring\) x pipeline 1 x data 2 = 8 ranks' "layout line"
expect '^  context groups:  4 ranks in one node' "context group's link"
expect '^  data x context:  8 ranks in one node' "gradient reduction group"
expect '^  context-parallel comm .* hidden behind attention' "context comm row"
[[ $(json_field context "$work/ring.json") == 4 ]] || fail "JSON layout.context is not 4"
[[ $(json_field context_mode "$work/ring.json") == '"plan-ring"' ]] || fail "JSON context_mode"
grep -q '"context_comm_hidden": [1-9]' "$work/ring.json" ||
  grep -q '"context_comm_hidden": 0\.0*[1-9]' "$work/ring.json" ||
  fail "JSON: the ring hides no transfer behind attention"

# --set chooses another mode and size, as for any layout key.
plan 0 --set parallel.context_mode=plan-allgather --set parallel.context=2 --json "$work/ag.json"
expect '^layout: tensor 1 \(1d\) x context 2 \(plan-allgather\) x pipeline 1 x data 4' "--set context"
plan 0 --set parallel.context=1 --json "$work/one.json"
[[ $(json_field context "$work/one.json") == 1 ]] || fail "JSON layout.context at context 1"
grep -q '"context_mode": null' "$work/one.json" || fail "JSON context_mode is not null at context 1"
# The ring at context 4 needs less activation memory than one rank holding the whole sequence.
ring=$(json_field activations "$work/ring.json")
one=$(json_field activations "$work/one.json")
awk -v r="$ring" -v o="$one" 'BEGIN { exit !(r > 0 && r * 4 < o) }' ||
  fail "ring activations $ring are not below a quarter of context 1's $one"

# A mode whose plugin describes no cost: exit 2 with the reason; a sequence that does not cut.
plan 2 --set parallel.context_mode=plan-costless
expect "parallel.context_mode = \"plan-costless\": its context plugin .* does not describe its cost" \
  "costless mode refused"
plan 2 --set parallel.context_mode=nothing-like-it
expect "no context plugin named 'nothing-like-it'" "unknown mode refused"
plan 2 --set parallel.context=8 --set model.seq_len=32760
expect "cuts each sequence into 2 x context = 16 chunks, but seq_len 32760 does not divide by 16" "seq_len refused"

# The search: context sizes and every mode that describes its cost, ranked; costless left out.
# At 32K tokens a sequence one rank holding it all (data 8) does not fit: a context layout wins.
plan 0 --search --top 3 --world 8 --json "$work/search.json"
expect "note: context mode 'plan-costless' .* does not describe its cost: not searched" "costless noted"
expect '^1   t[0-9]+ p[0-9]+ d[0-9/d]+ c[0-9/c]+ plan-' "a context layout ranked first"
for mode in plan-ring plan-a2a plan-allgather; do
  grep -q "\"context_mode\": \"$mode\"" "$work/search.json" || fail "search JSON has no $mode layout"
done
grep -q '"context_mode": "plan-costless"' "$work/search.json" && fail "costless was searched"

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
