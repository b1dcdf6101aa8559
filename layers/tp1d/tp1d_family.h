// The 1d layer family: Megatron tensor parallelism over a tensor group of any size (at size 1,
// the plain single-rank GPT-2).
#pragma once

#include "family_context.h"

namespace trellis::tp1d {

class Tp1dFamily final : public LayerFamily {
 public:
  explicit Tp1dFamily(const LayerFamilyInit& init);

  Shape activation_shape() const override;
  std::unique_ptr<Layer> make_embedding() override;
  std::unique_ptr<Layer> make_block(int index) override;
  std::unique_ptr<Layer> make_final_norm() override;
  std::unique_ptr<Layer> make_head(Layer* embedding) override;

 private:
  FamilyContext ctx_;
};

// The layouts the family can serve: heads split evenly across the tensor group.
std::vector<ConfigProblem> check_run(const RunQuery& query);

}  // namespace trellis::tp1d
