// What both quick all_reduce benchmarks share: the sizes, the iteration counts and the row they
// print, so the UCX and MPI figures line up line by line.
#pragma once

#include <cstddef>
#include <cstdio>
#include <vector>

namespace trellis::bench {

// 8 B (the latency figure), then x8 apart from 64 B to 256 KiB, x4 from 1 MiB to 64 MiB.
inline std::vector<std::size_t> all_reduce_sizes(std::size_t max_bytes) {
  std::vector<std::size_t> sizes;
  for (std::size_t b : {8ul, 64ul, 512ul, 4096ul, 32768ul, 262144ul, 1ul << 20, 4ul << 20,
                        16ul << 20, 64ul << 20}) {
    if (b <= max_bytes) sizes.push_back(b);
  }
  return sizes;
}

// Enough iterations for about a second at 1-2 GB/s, at least 20.
inline int iterations_for(std::size_t bytes) {
  if (bytes <= 4096) return 5000;
  if (bytes <= (1 << 20)) return 500;
  return bytes <= (16 << 20) ? 60 : 20;
}

inline void print_header(const char* what, int ranks) {
  std::printf("# %s, %d ranks, f32 sum\n", what, ranks);
  std::printf(
      "# time: mean over the iterations (as nccl-tests); best: the fastest iteration, which\n"
      "# machines shared with other work show more faithfully\n");
  std::printf("# %12s %12s %10s %10s %12s %10s\n", "size_bytes", "time_us", "algbw_GB/s",
              "busbw_GB/s", "best_us", "best_busbw");
}

// busbw = algbw x 2(n-1)/n, as nccl-tests reports all_reduce.
inline void print_row(std::size_t bytes, double mean_seconds, double best_seconds, int ranks) {
  const double factor = 2.0 * (ranks - 1) / ranks;
  const double algbw = static_cast<double>(bytes) / mean_seconds / 1e9;
  const double best_busbw = static_cast<double>(bytes) / best_seconds / 1e9 * factor;
  std::printf("  %12zu %12.2f %10.3f %10.3f %12.2f %10.3f\n", bytes, mean_seconds * 1e6, algbw,
              algbw * factor, best_seconds * 1e6, best_busbw);
  std::fflush(stdout);
}

}  // namespace trellis::bench
