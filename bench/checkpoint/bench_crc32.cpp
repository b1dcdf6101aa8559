// The CRC-32 of checkpoint shards: zlib's crc32_z (what checkpoints use) against the slicing-by-4
// loop Trellis had before, side by side on buffers of the sizes a GPT-2 checkpoint's shards have.
// Usage: trellis-bench-crc32 [--rounds N] [--sizes BYTES,BYTES,...]
// Each round times both on every size, alternating which goes first; prints per size the median
// GB/s of each over the rounds, their range, and the median of the per-round ratios.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "checkpoint/crc32.h"
#include "slicing_by_4_crc32.h"

namespace {

using Crc = std::uint32_t (*)(std::uint32_t, const void*, std::size_t) noexcept;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// GB/s of one pass over `bytes` (repeated until at least 50 ms have passed, so small buffers are
// timed over many calls). `check` receives the value for comparing the two implementations.
double gigabytes_per_second(Crc crc, const std::vector<unsigned char>& data, std::uint32_t& check) {
  using Clock = std::chrono::steady_clock;
  int calls = 0;
  const auto start = Clock::now();
  double seconds = 0;
  do {
    check = crc(0, data.data(), data.size());
    ++calls;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } while (seconds < 0.05);
  return static_cast<double>(data.size()) * calls / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 7;
  // A LayerNorm's 768 values, a 768 x 768 projection, the 768 x 3072 MLP weight, the 50304 x 768
  // token table: GPT-2 124M's shards at tensor size 1, all f32.
  std::vector<std::size_t> sizes = {768 * 4, 768 * 768 * 4, 768 * 3072 * 4, 50304ull * 768 * 4};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rounds") {
      rounds = std::atoi(argv[i + 1]);
    } else if (flag == "--sizes") {
      sizes.clear();
      for (char* p = argv[i + 1]; *p;) {
        sizes.push_back(std::strtoull(p, &p, 10));
        if (*p == ',') ++p;
      }
    } else {
      std::fprintf(stderr, "usage: trellis-bench-crc32 [--rounds N] [--sizes BYTES,...]\n");
      return 2;
    }
  }
  std::printf("%12s  %14s  %14s  %s\n", "bytes", "zlib GB/s", "slicing-4 GB/s",
              "zlib / slicing-4 (median of rounds)");
  for (std::size_t bytes : sizes) {
    std::vector<unsigned char> data(bytes);
    std::uint32_t state = 1;
    for (unsigned char& b : data)
      b = static_cast<unsigned char>((state = state * 1664525u + 1013904223u) >> 24);
    std::vector<double> zlib_rates, table_rates, ratios;
    for (int round = 0; round < rounds; ++round) {
      std::uint32_t zlib_value = 0, table_value = 0;
      double zlib_rate = 0, table_rate = 0;
      if (round % 2 == 0) {
        zlib_rate = gigabytes_per_second(trellis::crc32_update, data, zlib_value);
        table_rate = gigabytes_per_second(trellis::bench::slicing_by_4_crc32, data, table_value);
      } else {
        table_rate = gigabytes_per_second(trellis::bench::slicing_by_4_crc32, data, table_value);
        zlib_rate = gigabytes_per_second(trellis::crc32_update, data, zlib_value);
      }
      if (zlib_value != table_value) {
        std::fprintf(stderr, "the CRCs differ on %zu bytes: %08x and %08x\n", bytes, zlib_value,
                     table_value);
        return 1;
      }
      zlib_rates.push_back(zlib_rate);
      table_rates.push_back(table_rate);
      ratios.push_back(zlib_rate / table_rate);
    }
    auto range = [](const std::vector<double>& v) {
      char text[48];
      std::snprintf(text, sizeof text, "%.2f (%.2f-%.2f)", median(v),
                    *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
      return std::string(text);
    };
    std::printf("%12zu  %14s  %14s  %.2fx\n", bytes, range(zlib_rates).c_str(),
                range(table_rates).c_str(), median(ratios));
  }
  return 0;
}
