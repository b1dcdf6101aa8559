// The data loader's cut of whole sequences into a context rank's chunks (train/context_tokens.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "train/context_tokens.h"
#include "trellis/error.h"

using trellis::ContextChunks;
using trellis::keep_context_chunks;

namespace {

// Sequence b's token at position t is 100 b + t, so a kept token says where it came from.
std::vector<std::int32_t> numbered(std::int64_t batch, std::int64_t T) {
  std::vector<std::int32_t> whole(static_cast<std::size_t>(batch * T));
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t t = 0; t < T; ++t) whole[b * T + t] = static_cast<std::int32_t>(100 * b + t);
  return whole;
}

std::vector<std::int32_t> kept(std::int64_t batch, const ContextChunks& chunks) {
  std::vector<std::int32_t> out(static_cast<std::size_t>(batch * chunks.local_len()), -1);
  keep_context_chunks(numbered(batch, chunks.seq_len), batch, chunks, out);
  return out;
}

}  // namespace

TEST_CASE("context 1 keeps whole sequences in order") {
  CHECK(kept(2, {6, 1, 0}) == numbered(2, 6));
}

TEST_CASE("context 2: rank 0 holds chunks 0 and 3, rank 1 chunks 1 and 2, of every sequence") {
  // T = 8 in 4 chunks of 2.
  CHECK(kept(2, {8, 2, 0}) == std::vector<std::int32_t>{0, 1, 6, 7, 100, 101, 106, 107});
  CHECK(kept(2, {8, 2, 1}) == std::vector<std::int32_t>{2, 3, 4, 5, 102, 103, 104, 105});
}

TEST_CASE("context 4 over 16 tokens: chunks i and 7 - i") {
  CHECK(kept(1, {16, 4, 0}) == std::vector<std::int32_t>{0, 1, 14, 15});
  CHECK(kept(1, {16, 4, 1}) == std::vector<std::int32_t>{2, 3, 12, 13});
  CHECK(kept(1, {16, 4, 2}) == std::vector<std::int32_t>{4, 5, 10, 11});
  CHECK(kept(1, {16, 4, 3}) == std::vector<std::int32_t>{6, 7, 8, 9});
}

TEST_CASE("the ranks of a context group together hold every token once") {
  const std::int64_t batch = 3, T = 24;
  for (int c : {1, 2, 3, 4, 6}) {
    CAPTURE(c);
    std::vector<int> seen(static_cast<std::size_t>(batch * T), 0);
    for (int r = 0; r < c; ++r) {
      for (std::int32_t token : kept(batch, {T, c, r})) ++seen[(token / 100) * T + token % 100];
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  }
}

TEST_CASE("buffers of the wrong size are refused") {
  std::vector<std::int32_t> out(3);
  CHECK_THROWS_AS(keep_context_chunks(numbered(1, 8), 1, {8, 2, 0}, out), trellis::Error);
}
