// The tokens a context rank trains on: of the B whole sequences the data loader reads, the chunks
// its place in the context group holds (trellis/context_attention.h), in the order it holds them.
#pragma once

#include <cstdint>
#include <span>

#include "trellis/context_attention.h"

namespace trellis {

// whole[B, T] (row-major, T = chunks.seq_len) -> kept[B, T / c]: for each sequence, the runs of
// chunks.positions() one after the other. With c = 1 a plain copy.
void keep_context_chunks(std::span<const std::int32_t> whole, std::int64_t batch,
                         const ContextChunks& chunks, std::span<std::int32_t> kept);

}  // namespace trellis
