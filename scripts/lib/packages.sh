# Installing Debian packages, only those missing (so a second run is fast), for
# scripts/lib/prepare.sh (the build's packages, listed there) and the CI steps that need more.
#   trellis_missing_packages PKG...   the ones not installed, one a line
#   trellis_install_packages PKG...

# The fuzzing harnesses (.ci/fuzz-corpus, bench/fuzz/run.sh): libFuzzer comes with clang's
# runtime libraries, readable stacks with llvm-symbolizer (llvm-14).
trellis_fuzz_packages=(clang-14 libclang-rt-14-dev llvm-14)

trellis_missing_packages() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      echo "$pkg"
    fi
  done
}

trellis_install_packages() {
  local missing
  mapfile -t missing < <(trellis_missing_packages "$@")
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
