// The "replicated" layer family: no tensor parallelism. Every rank of the tensor group holds the
// whole of every parameter and computes the whole model, with no collective; a tensor group
// larger than one only repeats the work. It is the simplest complete family, a reference for the
// parallel ones, and the pattern for writing a family against the installed SDK.
#pragma once

#include <memory>
#include <vector>

#include "replicated_context.h"
#include "trellis/config.h"

namespace replicated {

class ReplicatedFamily final : public trellis::LayerFamily {
 public:
  explicit ReplicatedFamily(ReplicatedContext ctx) : ctx_(std::move(ctx)) {}

  // [B, T, C]: every rank holds whole sequences.
  trellis::Shape activation_shape() const override;
  std::unique_ptr<trellis::Layer> make_embedding() override;
  std::unique_ptr<trellis::Layer> make_block(int index) override;
  std::unique_ptr<trellis::Layer> make_final_norm() override;
  std::unique_ptr<trellis::Layer> make_head(trellis::Layer* embedding) override;

 private:
  ReplicatedContext ctx_;
};

// The descriptor's factory: throws trellis::Error when the run is one check_run refuses or the
// kernels or allocator are missing.
std::unique_ptr<trellis::LayerFamily> make_replicated_family(const trellis::LayerFamilyInit& init);

// The descriptor's check: the runs the family cannot serve, each naming the config key at fault.
std::vector<trellis::ConfigProblem> check_replicated_run(const trellis::RunQuery& query);

}  // namespace replicated
