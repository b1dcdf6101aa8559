// What a layer family takes of context parallelism (trellis/context_attention.h): the chunks of
// each sequence its rank holds and the attention across the context group, checked once; and the
// walk over a microbatch's runs of consecutive positions, which the embeddings use to add each
// token's position row.
#pragma once

#include <memory>
#include <string>

#include "trellis/context_attention.h"
#include "trellis/layer.h"

namespace trellis::layers {

struct ContextParts {
  ContextChunks chunks;                         // {T, 1, 0} without context parallelism
  std::shared_ptr<ContextAttention> attention;  // null without context parallelism
};

// init's chunks and attention; whole sequences when init.chunks.size is 1 (whatever else it
// holds). Throws, naming `family`, when a context of several ranks comes without an attention or
// with chunks of other sequences than the model's.
ContextParts context_parts(const LayerFamilyInit& init, const std::string& family);

// Calls `visit(tokens, rows, first_position)` for each piece of a microbatch whose tokens sit at
// consecutive positions: tokens [B, Tl] and rows [B, Tl, X] whole when the rank holds whole
// sequences, else each run of the chunks of each sequence, as contiguous [1, length] and
// [1, length, X] views.
template <class Visit>
void for_each_position_run(const ContextChunks& chunks, std::int64_t B, const Tensor& tokens,
                           const Tensor& rows, Visit&& visit) {
  if (chunks.size == 1) {
    visit(tokens, rows, std::int64_t{0});
    return;
  }
  const std::int64_t Tl = chunks.local_len(), X = rows.shape()[2];
  const TokenPositions at = chunks.positions();
  const Tensor flat_tokens = tokens.view({B * Tl});
  const Tensor flat_rows = rows.view({B * Tl, X});
  for (std::int64_t b = 0; b < B; ++b) {
    std::int64_t offset = b * Tl;
    for (int r = 0; r < at.runs; ++r) {
      const std::int64_t n = at.length[r];
      visit(flat_tokens.narrow(0, offset, n).view({1, n}),
            flat_rows.narrow(0, offset, n).view({1, n, X}), at.start[r]);
      offset += n;
    }
  }
}

}  // namespace trellis::layers
