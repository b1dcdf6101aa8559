// A block's dense MLP under Megatron tensor parallelism, between the block's gather and reduce:
// the column-parallel fc, the activation, the row-parallel projection (partial sums).
//
// GELU (GPT-2): fc "mlp.fc.weight" [F, C], then GELU. SwiGLU (LLaMA): fc "mlp.fc.weight"
// [2, F, C], the gate's rows then the up projection's, each split by rows across the tensor
// group, so one product gives this rank's gate and up side by side, and silu(gate) * up follows.
// Then "mlp.proj.weight" [C, F], split by columns. F is ModelArchitecture::ffn_hidden. Biases
// when ModelArchitecture::bias says so; the projection's bias is added once, by tensor rank 0.
#pragma once

#include <string>
#include <vector>

#include "family_context.h"

namespace trellis::layers {

class DenseMlp {
 public:
  struct Stash {
    Tensor fc, act;  // [B, T, Fl or 2 Fl] and [B, T, Fl]
    Tensor d_fc;     // written by backward_input for backward_weight
  };

  DenseMlp() = default;
  // Parameters `prefix`fc.* and `prefix`proj.*, e.g. prefix "h.3.mlp.".
  DenseMlp(const FamilyContext& ctx, const std::string& prefix, float residual_std);

  std::vector<Parameter*> parameters();
  // The projection's partial sums [B, T, C] from x[B, T, C], both in region order.
  Tensor forward(const FamilyContext& ctx, const Tensor& x, Stash& s) const;
  // The gradient of x from d_out[B, T, C], the gradient of the reduced output.
  Tensor backward_input(const FamilyContext& ctx, const Tensor& d_out, Stash& s) const;
  void backward_weight(const FamilyContext& ctx, const Tensor& x, const Tensor& d_out,
                       const Stash& s);

 private:
  std::int64_t fc_rows() const { return swiglu_ ? 2 * local_ffn_ : local_ffn_; }

  bool swiglu_ = false;
  std::int64_t local_ffn_ = 0;  // Fl
  Parameter fc_w_, fc_b_, proj_w_, proj_b_;
};

}  // namespace trellis::layers
