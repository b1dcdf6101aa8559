// The time to load a checkpoint's manifest (what every rank does at resume, and the config check
// before any rank starts). Usage: trellis-bench-manifest MANIFEST [ROUNDS]
// Prints the median, min and max milliseconds of Manifest::read over the rounds. Written against
// Manifest::read alone so the same file builds against earlier versions of core, to compare
// (docs/benchmarks.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "checkpoint/manifest.h"
#include "trellis/error.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: trellis-bench-manifest MANIFEST [ROUNDS]\n");
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 9;
  std::vector<double> ms;
  std::size_t shards = 0;
  try {
    for (int round = 0; round < rounds; ++round) {
      const auto start = std::chrono::steady_clock::now();
      const trellis::Manifest manifest = trellis::Manifest::read(argv[1]);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      shards = 0;
      for (const trellis::ManifestTensor& t : manifest.tensors) shards += t.shards.size();
    }
  } catch (const trellis::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%zu shards: median %.1f ms (min %.1f, max %.1f) over %d rounds\n", shards,
              ms[ms.size() / 2], ms.front(), ms.back(), rounds);
  return 0;
}
