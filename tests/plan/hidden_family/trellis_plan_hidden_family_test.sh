#!/usr/bin/env bash
# The hidden-family test: a layers plugin core has never heard of ("hidden", built in this folder)
# is planned and searched once it is on TRELLIS_PLUGIN_PATH, from the cost it describes itself;
# taken off the path, it is gone from the search. A family that describes no cost ("costless")
# and a family nobody provides are refused with exit 2 and a message that says why.
# usage: trellis_plan_hidden_family_test.sh <trellis-plan> <source dir> <hidden dir> <costless dir>
set -u
tool=$1
src=$2
hidden_dir=$3
costless_dir=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

cpu=$src/configs/clusters/cpu-dev-vm.toml
cat >"$work/model.toml" <<'TOML'
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

# plan <plugin path> <expected exit> <args...>: stdout and stderr in $out.
plan() {
  local path=$1 expected=$2
  shift 2
  out=$(TRELLIS_PLUGIN_PATH="$path" "$tool" "$work/model.toml" --cluster "$cpu" "$@" 2>&1)
  local code=$?
  if [[ $code -ne $expected ]]; then
    fail "TRELLIS_PLUGIN_PATH=$path trellis-plan $* exited $code, expected $expected"
    echo "$out" >&2
  fi
}
considered() { sed -n 's/^\([0-9]*\) layouts considered.*/\1/p' <<<"$out"; }
# A field of a prediction's JSON: "step": 0.24 -> 0.24.
json_number() { grep -o "\"$1\": [0-9.e+-]*" "$2" | head -1 | sed 's/.*: //'; }

# --search without the plugin: the built-in families only.
plan "" 0 --search --top 1000
if grep -q ' hidden mb' <<<"$out"; then fail "'hidden' ranked though it is not on the path"; fi
without=$(considered)

# With it on the path: ranked, under its own name, among more layouts (it is a family more at
# tensor 2 and 4; at tensor 1 one family stands for all).
plan "$hidden_dir" 0 --search --top 1000
grep -Eq '^[0-9]+ +t[24] p[12] d[12] .*hidden mb[0-9]+ ' <<<"$out" ||
  { fail "'hidden' is not in the ranking"; echo "$out" >&2; }
with=$(considered)
[[ -n "$with" && -n "$without" && $with -gt $without ]] ||
  fail "layouts considered: $with with the plugin, $without without"

# Its own prediction: sensible numbers, near 1d's (the same layers, counted more roughly).
plan "$hidden_dir" 0 --set parallel.tensor=2 --set parallel.tensor_mode=hidden --json "$work/h.json"
grep -q '^layout: tensor 2 (hidden) x pipeline 1 x data 2 = 4 ranks' <<<"$out" ||
  { fail "no layout line for hidden"; echo "$out" >&2; }
plan "" 0 --set parallel.tensor=2 --json "$work/1d.json"
for field in step total activations; do
  h=$(json_number "$field" "$work/h.json")
  d=$(json_number "$field" "$work/1d.json")
  awk -v h="$h" -v d="$d" 'BEGIN { exit !(h > 0 && d > 0 && h / d > 0.5 && h / d < 2) }' ||
    fail "hidden's $field $h is not within a factor 2 of 1d's $d"
done

# A family that describes no cost, and a family nobody provides: exit 2, saying why.
plan "$costless_dir" 2 --set parallel.tensor_mode=costless
grep -q 'does not describe its cost' <<<"$out" || { fail "costless: no reason given"; echo "$out" >&2; }
plan "$costless_dir" 0 --search --top 1
grep -q "tensor mode 'costless' .* does not describe its cost: not searched" <<<"$out" ||
  { fail "the search does not say it left costless out"; echo "$out" >&2; }
plan "" 2 --set parallel.tensor_mode=hidden
grep -q "no layers plugin named 'hidden'" <<<"$out" || { fail "unknown family: unclear"; echo "$out" >&2; }

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
