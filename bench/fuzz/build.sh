# Builds the fuzzing harnesses (tests/fuzz) into build-fuzz/ with clang, ASan and UBSan,
# installing clang and its runtime when missing. Sourced by bench/fuzz/run.sh and
# .ci/fuzz-corpus with `root` set to the repository; sets fuzz_build and fuzz_harnesses.
source "$root/scripts/lib/packages.sh"
trellis_install_packages "${trellis_fuzz_packages[@]}"

fuzz_build=${TRELLIS_FUZZ_BUILD:-$root/build-fuzz}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
mkdir -p "$fuzz_build"
if [ ! -f "$fuzz_build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$fuzz_build" -DTRELLIS_FUZZ=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" >"$fuzz_build/configure.log" 2>&1 || {
    cat "$fuzz_build/configure.log" >&2
    echo "fuzz: configure failed (log above)" >&2
    exit 1
  }
fi
cmake --build "$fuzz_build" -j "$(nproc 2>/dev/null || echo 2)" >"$fuzz_build/build.log" 2>&1 || {
  cat "$fuzz_build/build.log" >&2
  echo "fuzz: build failed (log above)" >&2
  exit 1
}
fuzz_harnesses=()
for harness_file in "$root"/tests/fuzz/fuzz_*.cpp; do
  harness=$(basename "$harness_file" .cpp)
  fuzz_harnesses+=("${harness#fuzz_}")
done
