// A layer family made of the shared Megatron layers (Embedding, Block, FinalNorm, LmHead) over
// one TokenRegion: the 1d and seq families are this with their own region and checks.
#pragma once

#include <string>

#include "trellis/error.h"

#include "family_context.h"

namespace trellis::layers {

// The context of `init`'s rank, without the region; throws when kernels or allocator are missing.
// `family` names the family in messages ("layers 1d").
FamilyContext make_family_context(const LayerFamilyInit& init, const std::string& family);

class RegionFamily final : public LayerFamily {
 public:
  // `ctx.region` must be set.
  RegionFamily(std::string family, FamilyContext ctx);

  // [B, local T, C]: whole sequences (1d) or this rank's sequence shard (seq).
  Shape activation_shape() const override;
  std::unique_ptr<Layer> make_embedding() override;
  std::unique_ptr<Layer> make_block(int index) override;
  std::unique_ptr<Layer> make_final_norm() override;
  std::unique_ptr<Layer> make_head(Layer* embedding) override;
  // What the MoE blocks made by this family routed since the last call.
  MoeStatistics take_moe_statistics() override;

 private:
  std::string family_;
  FamilyContext ctx_;
};

}  // namespace trellis::layers
