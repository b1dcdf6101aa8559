// The final LayerNorm on the grid (LayerNorm2d): statistics along the grid row, parameters
// gathered and their gradients reduce-scattered along the column.
#pragma once

#include "layer_norm_2d.h"
#include "stash_map.h"

namespace trellis::tp2d {

class FinalNorm2d final : public Layer {
 public:
  explicit FinalNorm2d(const GridContext& ctx);

  std::string_view name() const override { return "lnf"; }
  std::vector<Parameter*> parameters() override { return norm_.parameters(); }
  Tensor forward(const Microbatch& mb, const Tensor& input) override;
  Tensor backward_input(const Microbatch& mb, const Tensor& grad_output) override;
  void backward_weight(const Microbatch& mb) override;

 private:
  struct Stash {
    Tensor x, out, d_x, grads;
    LayerNorm2d::Saved saved;
  };
  GridContext ctx_;
  LayerNorm2d norm_;
  layers::StashMap<Stash> stashes_;
};

}  // namespace trellis::tp2d
