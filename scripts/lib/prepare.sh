# Shared by scripts/run and scripts/test: install the Debian packages the build needs (only those
# missing, so a second run is fast), then configure and build Trellis into build/ (Release).
# Source it from the repository root; it sets TRELLIS_ROOT and TRELLIS_BUILD.
set -euo pipefail

TRELLIS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TRELLIS_BUILD=${TRELLIS_BUILD:-$TRELLIS_ROOT/build}

trellis_packages=(
  g++ make cmake pkg-config
  libboost-dev libtomlplusplus-dev doctest-dev libopenblas-dev
  libopenmpi-dev openmpi-bin libucx-dev ucx-utils
)

trellis_install_packages() {
  local missing=()
  local pkg
  for pkg in "${trellis_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "trellis: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "trellis: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

trellis_build() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  mkdir -p "$TRELLIS_BUILD"
  cmake -S "$TRELLIS_ROOT" -B "$TRELLIS_BUILD" -DCMAKE_BUILD_TYPE=Release >"$TRELLIS_BUILD/configure.log" 2>&1 || {
    cat "$TRELLIS_BUILD/configure.log" >&2
    echo "trellis: configure failed (log above)" >&2
    exit 1
  }
  grep -E "^-- Trellis" "$TRELLIS_BUILD/configure.log" || true
  cmake --build "$TRELLIS_BUILD" -j "$jobs"
}

trellis_install_packages
# TRELLIS_PREPARE_BUILD=0: the packages only (.ci/sanitize configures a build of its own).
if [ "${TRELLIS_PREPARE_BUILD:-1}" != 0 ]; then
  trellis_build
fi
