// What every layer of the 1d and seq families needs to know: the model's sizes, this rank's
// place in the tensor group, which tokens of each sequence it holds (its context chunks) and which
// of those between regions, the attention across the context group, the kernels and the
// allocator.
#pragma once

#include <memory>

#include "attention_core.h"
#include "token_region.h"
#include "trellis/context_attention.h"
#include "trellis/layer.h"

namespace trellis::layers {

struct FamilyContext {
  ModelDims dims;
  ModelArchitecture arch;        // what the blocks compute (LayerFamilyInit::arch)
  std::int64_t micro_batch = 1;  // B
  Communicator* tensor = nullptr;
  int tensor_size = 1;
  int tensor_rank = 0;
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  std::shared_ptr<TokenRegion> region;  // shared by the family's layers
  // The tokens of each sequence on this rank's context rank: {T, 1, 0} without context
  // parallelism. Region tensors hold chunks.local_len() tokens of each sequence.
  ContextChunks chunks;
  std::shared_ptr<ContextAttention> attention;  // null without context parallelism
  AttentionRecompute recompute;                 // selective recomputation
  MoeSettings moe;                              // experts 0: every block is dense
  // Expert parallelism: this rank holds experts [expert_rank L, (expert_rank + 1) L),
  // L = experts / moe.expert_parallel; the dispatcher moves token choices to their experts'
  // ranks (null when moe.expert_parallel is 1).
  int expert_rank = 0;
  std::shared_ptr<TokenDispatcher> dispatcher;
  // What the MoE blocks' training forwards routed since the family last handed it over
  // (LayerFamily::take_moe_statistics); shared by the family's blocks.
  std::shared_ptr<MoeStatistics> moe_statistics = std::make_shared<MoeStatistics>();

  std::int64_t seq_len() const { return chunks.local_len(); }      // T / context, a region's
  std::int64_t tokens() const { return micro_batch * seq_len(); }  // N = B*T/c, a whole region
  std::int64_t local_seq_len() const { return region->local_seq_len(); }
  std::int64_t local_hidden() const { return dims.hidden / tensor_size; }  // C / tp
  std::int64_t local_heads() const { return dims.heads / tensor_size; }
  std::int64_t head_size() const { return dims.hidden / dims.heads; }
  // Key/value heads on this rank: each serves heads / kv_heads consecutive query heads, and a
  // rank's query heads use exactly its key/value heads (the check keeps kv_heads % tensor == 0).
  std::int64_t local_kv_heads() const { return arch.kv_heads / tensor_size; }
  std::int64_t local_ffn() const { return arch.ffn_hidden / tensor_size; }  // F / tp
  std::int64_t vocab_rows() const { return dims.padded_vocab / tensor_size; }
  std::int64_t vocab_begin() const { return tensor_rank * vocab_rows(); }

  Tensor empty(const Shape& shape) const { return Tensor::empty(shape, DType::f32, allocator); }
  AttentionCoreSetup attention_core() const {
    return {kernels, attention.get(), allocator, recompute};
  }
};

}  // namespace trellis::layers
