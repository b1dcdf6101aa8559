#include "sequence_order.h"

namespace trellis::context {

namespace {

// Copies each run of each rank's tokens of each sequence between by_rank and sequences, in the
// direction `to_sequences` says.
void move_runs(Kernels& kernels, const ContextChunks& chunks, const Tensor& by_rank,
               const Tensor& sequences, bool to_sequences) {
  const std::int64_t B = sequences.size(0);
  for (int i = 0; i < chunks.size; ++i) {
    const TokenPositions at = chunks.positions_of(i);
    const Tensor rank_tokens = by_rank.narrow(0, i, 1);
    for (std::int64_t b = 0; b < B; ++b) {
      const Tensor local = rank_tokens.narrow(1, b, 1);
      const Tensor sequence = sequences.narrow(0, b, 1);
      std::int64_t offset = 0;  // where the run starts among the rank's tokens
      for (int run = 0; run < at.runs; ++run) {
        const Tensor held = local.narrow(2, offset, at.length[run]);
        const Tensor placed = sequence.narrow(1, at.start[run], at.length[run]);
        if (to_sequences) {
          kernels.copy(held, placed);
        } else {
          kernels.copy(placed, held);
        }
        offset += at.length[run];
      }
    }
  }
}

}  // namespace

void ranks_to_sequences(Kernels& kernels, const ContextChunks& chunks, const Tensor& by_rank,
                        const Tensor& sequences) {
  move_runs(kernels, chunks, by_rank, sequences, true);
}

void sequences_to_ranks(Kernels& kernels, const ContextChunks& chunks, const Tensor& sequences,
                        const Tensor& by_rank) {
  move_runs(kernels, chunks, by_rank, sequences, false);
}

}  // namespace trellis::context
