# Shared by scripts/run and scripts/test: install the Debian packages the build needs (only those
# missing, so a second run is fast), then configure and build Trellis into build/ (Release).
# Source it from the repository root; it sets TRELLIS_ROOT and TRELLIS_BUILD.
# With TRELLIS_PREPARE_DEFINE_ONLY=1 it only defines the list and the functions (scripts/gpu-check
# builds only what it needs); with TRELLIS_PREPARE_BUILD=0 it installs the packages and builds
# nothing.
set -euo pipefail

TRELLIS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TRELLIS_BUILD=${TRELLIS_BUILD:-$TRELLIS_ROOT/build}

trellis_packages=(
  g++ make cmake pkg-config
  libboost-dev libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev doctest-dev libopenblas-dev
  libopenmpi-dev openmpi-bin libucx-dev ucx-utils ccache
)

source "$TRELLIS_ROOT/scripts/lib/packages.sh"

# trellis_compiler_launcher: the cmake argument that compiles through ccache, when it is
# installed, with paths under the repository hashed relative to it: a second build tree of the
# same sources (.ci/numerics's build-portable/) then takes every file whose command is the same
# from the first one's cache instead of compiling it again. Depend mode: a file not in the cache
# is compiled once, without a separate preprocessor run to hash it (the compiler's own dependency
# list names the headers), so a first build costs next to nothing more.
trellis_compiler_launcher() {
  if command -v ccache >/dev/null; then
    echo "-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_BASEDIR=$TRELLIS_ROOT;CCACHE_DEPEND=1;ccache"
  fi
}

trellis_build() {
  local jobs launcher
  jobs=$(nproc 2>/dev/null || echo 2)
  launcher=$(trellis_compiler_launcher)
  mkdir -p "$TRELLIS_BUILD"
  cmake -S "$TRELLIS_ROOT" -B "$TRELLIS_BUILD" -DCMAKE_BUILD_TYPE=Release ${launcher:+"$launcher"} \
    >"$TRELLIS_BUILD/configure.log" 2>&1 || {
    cat "$TRELLIS_BUILD/configure.log" >&2
    echo "trellis: configure failed (log above)" >&2
    exit 1
  }
  grep -E "^-- Trellis" "$TRELLIS_BUILD/configure.log" || true
  cmake --build "$TRELLIS_BUILD" -j "$jobs"
}

if [ "${TRELLIS_PREPARE_DEFINE_ONLY:-0}" != 1 ]; then
  trellis_install_packages "${trellis_packages[@]}"
  # TRELLIS_PREPARE_BUILD=0: the packages only (.ci/sanitize configures a build of its own).
  if [ "${TRELLIS_PREPARE_BUILD:-1}" != 0 ]; then
    trellis_build
  fi
fi
