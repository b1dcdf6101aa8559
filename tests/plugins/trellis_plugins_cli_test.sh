#!/usr/bin/env bash
# trellis-plugins as a user runs it: listing the test plugins, what it skipped and where it
# looked, options with --verbose, problems, and exit codes for bad input.
# usage: trellis_plugins_cli_test.sh <trellis-plugins binary> <test plugin root>
set -u
tool=$1
root=$2
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run <expected exit code> <args...>: runs the tool, keeping stdout in $out and stderr in $err.
run() {
  local expected=$1
  shift
  out=$("$tool" "$@" 2>/tmp/trellis_plugins_cli_err.$$)
  local code=$?
  err=$(cat /tmp/trellis_plugins_cli_err.$$)
  rm -f /tmp/trellis_plugins_cli_err.$$
  if [[ $code -ne $expected ]]; then
    fail "trellis-plugins $* exited $code, expected $expected"
    printf '%s\n%s\n' "$out" "$err" >&2
  fi
}

expect_out() {  # expect_out <regex> <what>
  grep -Eq -- "$1" <<<"$out" || { fail "$2: no line matching '$1' in:"; echo "$out" >&2; }
}
expect_err() {
  grep -Eq -- "$1" <<<"$err" || { fail "$2: no line matching '$1' in stderr:"; echo "$err" >&2; }
}

# Listing the good plugins found along TRELLIS_PLUGIN_PATH.
export TRELLIS_PLUGIN_PATH=$root/good
run 0
expect_out '^KIND +NAME +VERSION +SUMMARY +FILE$' "table header"
expect_out "^comm +solo +1\.2\.3 +one-rank communicator for tests +$root/good/libtrellis_comm_solo\.so$" "comm row"
expect_out "^layers +grid-check +0\.4\.0 .*libtrellis_layers_grid-check\.so$" "layers row"
expect_out "^schedule +fill-drain +2\.0\.1 .*libtrellis_schedule_fill-drain\.so$" "schedule row"
expect_out "junk\.so: not a shared library" "skipped text file"
expect_out "libnot_a_plugin\.so: not a Trellis plugin" "skipped plain library"
expect_out "^  $root/good  \(TRELLIS_PLUGIN_PATH\)$" "searched entry"
expect_out "\(install directory" "install directory searched"
if grep -q PROBLEM <<<"$out"; then fail "good plugins listed with a PROBLEM"; fi

# --verbose adds each plugin's options.
run 0 --verbose
expect_out "option greeting \(string, default \"hello\"\): what the backend says at start" "options"

# --path entries act as [plugins] paths; faulty plugins show their problem; missing dirs are marked.
run 0 --path "$root/bad" --path="$root/no-such-dir"
expect_out "^  +PROBLEM: built for Trellis plugin ABI 3\.0, this Trellis core .* has ABI 2\.[0-9]+" "ABI problem"
expect_out "^  $root/bad  \(\[plugins\] paths\)$" "--path origin"
expect_out "no-such-dir  \(\[plugins\] paths; does not exist\)$" "missing directory"

# Duplicates are shown as a problem.
TRELLIS_PLUGIN_PATH=$root/dup_a run 0 --path "$root/dup_b"
expect_out "PROBLEM: 'twin' is also provided by" "duplicate"

# Bad input: exit 2 with a message.
run 2 --bogus
expect_err "unknown argument '--bogus'" "unknown argument"
expect_err "^usage: trellis-plugins" "usage on bad arguments"
run 2 --path
expect_err "--path needs a directory" "--path without a value"
run 2 --path "$root/good/junk.so"
expect_err "junk\.so \(named in \[plugins\] paths\) cannot be used: not a shared library" "named file"

run 0 --help
expect_out "^usage: trellis-plugins" "--help"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "trellis-plugins: all checks passed"
