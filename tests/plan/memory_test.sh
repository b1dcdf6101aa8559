#!/usr/bin/env bash
# trellis-plan's memory prediction against trellis-train's measured peaks, stage by stage
# (metrics.jsonl's peak_mem_bytes_by_pipeline_rank against the prediction's
# memory_per_pipeline_rank), for every (layout, setting) pair a cases file names. Memory does not
# depend on timing but for the sends: the prediction holds a sent tensor until the rank's next
# action ends, a run until its send completes.
# usage: memory_test.sh <bin dir> <source dir> <cases file>
# The cases file (bash, sourced) sets `model` (a config), `layouts` and `modes` ("name|key=value
# ...", every layout run under every mode) and `bound` (bytes a prediction may be off by).
set -u
bin=$1
src=$2
cases=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cluster=$src/configs/clusters/cpu-dev-vm.toml
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
failures=0
# shellcheck source=/dev/null
source "$cases"

printf '%-22s %-16s %s\n' layout setting "measured / predicted bytes by pipeline rank"
n=0
for layout in "${layouts[@]}"; do
  for mode in "${modes[@]}"; do
    n=$((n + 1))
    sets=()
    for kv in ${layout#*|} ${mode#*|}; do sets+=(--set "$kv"); done
    out=$work/run$n
    if ! "$bin/trellis-train" "$model" "${sets[@]}" --set "run.out_dir=$out" >"$work/log" 2>&1; then
      echo "FAIL: trellis-train ${sets[*]}:" >&2
      tail -5 "$work/log" >&2
      failures=$((failures + 1))
      continue
    fi
    if ! "$bin/trellis-plan" "$model" --cluster "$cluster" "${sets[@]}" --json "$work/p$n.json" \
      >"$work/log" 2>&1; then
      echo "FAIL: trellis-plan ${sets[*]}:" >&2
      tail -5 "$work/log" >&2
      failures=$((failures + 1))
      continue
    fi
    last=$(tail -n 1 "$out/metrics.jsonl")
    measured=$(grep -o '"peak_mem_bytes_by_pipeline_rank":\[[0-9,]*\]' <<<"$last" | tr -dc '0-9,' |
      tr ',' ' ')
    [[ -n $measured ]] || measured=$(grep -o '"peak_mem_bytes":[0-9]*' <<<"$last" | tr -dc '0-9')
    # memory_per_pipeline_rank's entries, in pipeline-rank order: their "total".
    predicted=$(sed -n '/"memory_per_pipeline_rank"/,/\]/p' "$work/p$n.json" |
      grep -o '"total": [0-9.e+]*' | awk '{printf "%.0f ", $2}')
    read -ra m <<<"$measured"
    read -ra p <<<"$predicted"
    line=""
    if [[ ${#m[@]} -eq 0 || ${#m[@]} -ne ${#p[@]} ]]; then
      echo "FAIL: ${layout%%|*}, ${mode%%|*}: measured '${measured}', predicted '${predicted}'" >&2
      failures=$((failures + 1))
      continue
    fi
    for i in "${!m[@]}"; do
      diff=$((p[i] - m[i]))
      line+=$(awk -v m="${m[i]}" -v p="${p[i]}" 'BEGIN { printf "%d / %d (%+.2f%%)  ", m, p, 100 * (p / m - 1) }')
      if ((diff > bound || -diff > bound)); then
        echo "FAIL: ${layout%%|*}, ${mode%%|*}, pipeline rank $i: predicted ${p[i]} B, measured ${m[i]} B, more than $bound B apart" >&2
        failures=$((failures + 1))
      fi
    done
    printf '%-22s %-16s %s\n' "${layout%%|*}" "${mode%%|*}" "$line"
  done
done
if ((failures > 0)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "every prediction within $bound bytes of its run"
