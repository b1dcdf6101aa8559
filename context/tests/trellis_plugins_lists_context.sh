#!/usr/bin/env bash
# trellis-plugins lists the built-in context plugins under their kind, each usable.
# usage: trellis_plugins_lists_context.sh <trellis-plugins binary> <plugin build directory>
set -u
out=$(TRELLIS_PLUGIN_PATH= "$1" --path "$2" 2>&1) || { echo "trellis-plugins failed: $out" >&2; exit 1; }
failures=0
for name in ring allgather a2a; do
  if ! grep -Eq "^context +$name +[0-9.]+ +.*libtrellis_context_$name\.so$" <<<"$out"; then
    echo "FAIL: no 'context $name' row in:" >&2
    failures=$((failures + 1))
  fi
done
if grep -q PROBLEM <<<"$out"; then
  echo "FAIL: a plugin is listed with a PROBLEM:" >&2
  failures=$((failures + 1))
fi
if [[ $failures -ne 0 ]]; then
  echo "$out" >&2
  exit 1
fi
echo "trellis-plugins lists the context plugins"
