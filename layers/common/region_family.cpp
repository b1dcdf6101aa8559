#include "region_family.h"

#include "block.h"
#include "context_parts.h"
#include "embedding.h"
#include "final_norm.h"
#include "lm_head.h"

namespace trellis::layers {

FamilyContext make_family_context(const LayerFamilyInit& init, const std::string& family) {
  if (init.kernels == nullptr || !init.allocator) {
    throw Error(family + ": the family needs kernels and an allocator");
  }
  FamilyContext ctx;
  ctx.dims = init.dims;
  // A family built against ABI 2.6 reads the architecture core gives; a LayerFamilyInit that
  // never set it (kv_heads 0) means GPT-2's.
  ctx.arch = init.arch.kv_heads > 0 ? init.arch
                                    : ModelArchitecture::gpt2(init.dims.hidden, init.dims.heads);
  ctx.micro_batch = init.micro_batch;
  ctx.tensor = init.groups.tensor;
  ctx.tensor_size = init.groups.tensor ? init.groups.tensor->size() : 1;
  ctx.tensor_rank = init.groups.tensor ? init.groups.tensor->rank() : 0;
  ctx.kernels = init.kernels;
  ctx.allocator = init.allocator;
  ContextParts context = context_parts(init, family);
  ctx.chunks = context.chunks;
  ctx.attention = std::move(context.attention);
  ctx.recompute = attention_recompute(init);
  ctx.moe = init.moe;
  ctx.expert_rank = init.expert_rank;
  ctx.dispatcher = init.dispatcher;
  return ctx;
}

RegionFamily::RegionFamily(std::string family, FamilyContext ctx)
    : family_(std::move(family)), ctx_(std::move(ctx)) {
  if (!ctx_.region) throw Error(family_ + ": the family has no token region");
}

Shape RegionFamily::activation_shape() const {
  return {ctx_.micro_batch, ctx_.local_seq_len(), ctx_.dims.hidden};
}

std::unique_ptr<Layer> RegionFamily::make_embedding() {
  return std::make_unique<Embedding>(ctx_);
}

std::unique_ptr<Layer> RegionFamily::make_block(int index) {
  return std::make_unique<Block>(ctx_, index);
}

MoeStatistics RegionFamily::take_moe_statistics() {
  MoeStatistics out = *ctx_.moe_statistics;
  *ctx_.moe_statistics = {};
  return out;
}

std::unique_ptr<Layer> RegionFamily::make_final_norm() {
  return std::make_unique<FinalNorm>(ctx_);
}

std::unique_ptr<Layer> RegionFamily::make_head(Layer* embedding) {
  Parameter* table = nullptr;
  if (embedding != nullptr && ctx_.arch.tie_embeddings) {
    auto* e = dynamic_cast<Embedding*>(embedding);
    if (e == nullptr) {
      throw Error(family_ + ": make_head was given an embedding of another family");
    }
    table = &e->token_table();
  }
  return std::make_unique<LmHead>(ctx_, table);
}

}  // namespace trellis::layers
