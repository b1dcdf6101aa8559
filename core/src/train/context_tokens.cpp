#include "train/context_tokens.h"

#include <algorithm>
#include <string>

#include "trellis/error.h"

namespace trellis {

void keep_context_chunks(std::span<const std::int32_t> whole, std::int64_t batch,
                         const ContextChunks& chunks, std::span<std::int32_t> kept) {
  const std::int64_t T = chunks.seq_len, Tl = chunks.local_len();
  if (static_cast<std::int64_t>(whole.size()) != batch * T ||
      static_cast<std::int64_t>(kept.size()) != batch * Tl) {
    throw Error("keep_context_chunks: " + std::to_string(batch) + " sequences of " +
                std::to_string(T) + " tokens need " + std::to_string(batch * T) + " in and " +
                std::to_string(batch * Tl) + " out, got " + std::to_string(whole.size()) + " and " +
                std::to_string(kept.size()));
  }
  const TokenPositions at = chunks.positions();
  for (std::int64_t b = 0; b < batch; ++b) {
    std::int32_t* out = kept.data() + b * Tl;
    for (int r = 0; r < at.runs; ++r) {
      const std::int32_t* first = whole.data() + b * T + at.start[r];
      out = std::copy(first, first + at.length[r], out);
    }
  }
}

}  // namespace trellis
