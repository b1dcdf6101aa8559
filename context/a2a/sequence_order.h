// Every rank's tokens put back into whole sequences, and cut out again: an exchange buffer
// [c, B, Tl, W] whose chunk i holds context rank i's tokens of each sequence, in the order it
// holds them (ContextChunks::positions_of(i)), against sequences [B, T, W] in token order. Each
// rank's run of positions is one contiguous copy per sequence.
#pragma once

#include "trellis/context_attention.h"

namespace trellis::context {

// sequences[b, t] = the token at position t of sequence b, from the rank that holds it.
void ranks_to_sequences(Kernels& kernels, const ContextChunks& chunks, const Tensor& by_rank,
                        const Tensor& sequences);
// by_rank[i, b] = rank i's tokens of sequence b.
void sequences_to_ranks(Kernels& kernels, const ContextChunks& chunks, const Tensor& sequences,
                        const Tensor& by_rank);

}  // namespace trellis::context
