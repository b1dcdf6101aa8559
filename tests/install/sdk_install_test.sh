#!/usr/bin/env bash
# usage: sdk_install_test.sh <trellis build dir> <example plugin source dir> <cmake> <ctest>
#                            <generator> <c++ compiler> [<layer family example source dir>]
set -euo pipefail
build_dir=$1
example_src=$2
cmake=$3
ctest=$4
generator=$5
cxx=$6
family_src=${7:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/trellis-sdk-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
example_build=$work/example-build

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# Runs a command quietly; shows its output only when it fails.
quietly() {
  local log=$work/last.log
  "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "command failed: $*"; }
}

step "install Trellis to $prefix"
quietly "$cmake" --install "$build_dir" --prefix "$prefix"
for f in bin/trellis-plugins lib/libtrellis_sdk.so include/trellis/plugin.h \
  include/trellis/plugin_registry.h lib/cmake/Trellis/TrellisConfig.cmake \
  lib/cmake/Trellis/TrellisConfigVersion.cmake lib/cmake/Trellis/TrellisTargets.cmake \
  lib/cmake/Trellis/TrellisPlugin.cmake; do
  [[ -e $prefix/$f ]] || fail "the install has no $f"
done

step "build the example plugin out of tree against the install"
quietly "$cmake" -S "$example_src" -B "$example_build" -G "$generator" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
quietly "$cmake" --build "$example_build" -j 2
plugin=$example_build/libtrellis_schedule_sequential.so
[[ -f $plugin ]] || fail "the example build made no $plugin"

step "the plugin links libtrellis_sdk and no other Trellis library"
needed=$(readelf -d "$plugin" | sed -n 's/.*(NEEDED).*\[\(libtrellis[^]]*\)\]/\1/p' | tr '\n' ' ')
[[ $needed == "libtrellis_sdk.so.0 " ]] || fail "$plugin needs '$needed', expected 'libtrellis_sdk.so.0 '"
# (A sanitizer build also installs libtrellis_keep_libraries_loaded, its programs' helper; a CUDA
# build libtrellis_cuda, which the engine loads on demand and which exports one C function only.)
engine=$(find "$prefix" -name 'libtrellis_*' ! -name 'libtrellis_sdk.so*' \
  ! -name 'libtrellis_keep_libraries_loaded.so' ! -name 'libtrellis_cuda.so' \
  ! -path '*/trellis/plugins/*')
[[ -z $engine ]] || fail "the install holds engine libraries a plugin could link: $engine"
cuda_library=$(find "$prefix" -name 'libtrellis_cuda.so')
if [[ -n $cuda_library ]]; then
  exported=$(nm -D --defined-only "$cuda_library" | awk '$2 == "T" { print $3 }' | tr '\n' ' ')
  [[ $exported == "trellis_cuda_library " ]] ||
    fail "$cuda_library exports functions '$exported', expected only 'trellis_cuda_library'"
fi

step "run the example's own test (loads the plugin through the registry)"
(cd "$example_build" && quietly "$ctest" --output-on-failure)

# Checks that trellis-plugins' output lists `sequential` from `file` and no problem with it.
expect_listed() {
  local output=$1 file=$2
  grep -Eq "^schedule +sequential +1\.0\.0 .* $file\$" <<<"$output" ||
    { echo "$output" >&2; fail "trellis-plugins does not list sequential from $file"; }
  if grep -A1 -E "^schedule +sequential " <<<"$output" | grep -q PROBLEM; then
    echo "$output" >&2
    fail "trellis-plugins lists sequential with a problem"
  fi
}

step "the installed trellis-plugins finds it on TRELLIS_PLUGIN_PATH"
output=$(TRELLIS_PLUGIN_PATH=$example_build "$prefix/bin/trellis-plugins" --verbose) ||
  fail "trellis-plugins failed: $output"
expect_listed "$output" "$plugin"
grep -q "no options" <<<"$output" || fail "--verbose shows no options line: $output"

step "installed into the prefix, it is found in the install's plugin directory"
quietly "$cmake" --install "$example_build" --prefix "$prefix"
installed=$prefix/lib/trellis/plugins/libtrellis_schedule_sequential.so
[[ -f $installed ]] || fail "the example did not install to $installed"
output=$(env -u TRELLIS_PLUGIN_PATH "$prefix/bin/trellis-plugins") ||
  fail "trellis-plugins failed: $output"
expect_listed "$output" "$installed"
grep -q "$prefix/lib/trellis/plugins  (install directory)" <<<"$output" ||
  fail "the install directory searched is not $prefix/lib/trellis/plugins: $output"

step "the installed trellis-train trains with it, and trellis-plan plans and searches it"
repo=$(cd "$example_src/../.." && pwd)
cat >"$work/sequential.toml" <<TOML
[run]
steps = 2
out_dir = "$work/sequential-run"
[launch]
nproc = 2
[comm]
backend = "ucx"
[parallel]
pipeline = 2
schedule = "sequential"
[data]
train = "$repo/configs/data/quickstart.txt"
[model]
vocab_size = 256
seq_len = 32
layers = 2
heads = 2
hidden = 32
[train]
micro_batch = 2
global_batch = 8
[device]
threads = 1
peak_gflops = 100.0
TOML
output=$(env -u TRELLIS_PLUGIN_PATH "$prefix/bin/trellis-train" "$work/sequential.toml" 2>&1) ||
  { echo "$output" >&2; fail "trellis-train with the sequential schedule failed"; }
grep -q '^done: 2 steps' <<<"$output" || { echo "$output" >&2; fail "no 'done: 2 steps' line"; }
output=$(env -u TRELLIS_PLUGIN_PATH "$prefix/bin/trellis-plan" "$work/sequential.toml" 2>&1) ||
  { echo "$output" >&2; fail "trellis-plan of the sequential schedule failed"; }
grep -q 'schedule sequential\|sequential' <<<"$output" ||
  { echo "$output" >&2; fail "trellis-plan does not name the sequential schedule"; }
output=$(env -u TRELLIS_PLUGIN_PATH "$prefix/bin/trellis-plan" "$work/sequential.toml" --search \
  --top 1000 2>&1) || { echo "$output" >&2; fail "trellis-plan --search failed"; }
grep -Eq ' p2 .* sequential ' <<<"$output" ||
  { echo "$output" >&2; fail "trellis-plan --search ranks no layout under the sequential schedule"; }

if [[ -n $family_src ]]; then
  step "build the layer family example against the install and run its tests"
  # Its tests train with the install's trellis-train, which TrellisConfig names.
  family_build=$work/family-build
  quietly "$cmake" -S "$family_src" -B "$family_build" -G "$generator" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
  # A cache entry would mean the example searched for trellis-train itself (its fallback for
  # installs whose TrellisConfig does not name it).
  if grep -q "^TRELLIS_TRAIN_EXECUTABLE:" "$family_build/CMakeCache.txt"; then
    fail "the family example did not take trellis-train from TrellisConfig's TRELLIS_TRAIN_EXECUTABLE"
  fi
  quietly "$cmake" --build "$family_build" -j 2
  (cd "$family_build" && quietly "$ctest" --output-on-failure)
fi

echo "SDK install test passed"
