// The 2d layer family: tensor parallelism on a q x q grid of the tensor group (tensor = q^2),
// Optimus / Colossal-AI 2D with SUMMA products; see grid_context.h for the layout and summa.h
// for the products. At q = 1 it is the single-rank GPT-2.
#pragma once

#include <memory>
#include <vector>

#include "grid_context.h"

namespace trellis::tp2d {

class Tp2dFamily final : public LayerFamily {
 public:
  explicit Tp2dFamily(const LayerFamilyInit& init);

  // [B/q, T, C/q]: grid row i's sequences, grid column j's channels.
  Shape activation_shape() const override;
  std::unique_ptr<Layer> make_embedding() override;
  std::unique_ptr<Layer> make_block(int index) override;
  std::unique_ptr<Layer> make_final_norm() override;
  std::unique_ptr<Layer> make_head(Layer* embedding) override;

 private:
  GridContext ctx_;
};

std::unique_ptr<LayerFamily> make_family(const LayerFamilyInit& init);

// The layouts the family can serve: a square tensor size q x q, and every size it splits by q
// (heads, sequences of a microbatch, vocabulary and position rows) or by q^2 (channels, whose
// vectors are cut again by grid row).
std::vector<ConfigProblem> check_run(const RunQuery& query);

}  // namespace trellis::tp2d
