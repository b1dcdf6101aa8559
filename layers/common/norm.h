// One norm of the architecture (ModelArchitecture::norm) over the channels of the tokens a rank
// holds between regions: LayerNorm with a weight and a bias, or RMSNorm with a weight alone.
// Replicated across the tensor group; its gradients go where NormGradients says (straight into
// the parameters for 1d, summed over the group for seq).
#pragma once

#include <string>
#include <vector>

#include "family_context.h"
#include "norm_gradients.h"

namespace trellis::layers {

class Norm {
 public:
  // What backward needs of a forward besides its input: LayerNorm's mean and rstd, RMSNorm's rstd.
  struct Saved {
    Tensor mean, rstd;
  };

  Norm() = default;
  // Parameters `prefix`.weight, and `prefix`.bias for LayerNorm.
  Norm(const FamilyContext& ctx, const std::string& prefix);

  std::vector<Parameter*> parameters();
  // out[B, Tl, C] = the norm of x[B, Tl, C].
  Tensor forward(const FamilyContext& ctx, const Tensor& x, Saved& saved) const;
  // dx (overwritten) from dout; the parameters' gradients accumulate into grads.grad(first) and,
  // for LayerNorm, grads.grad(first + 1): the parameters() of this norm in that order.
  void backward(const FamilyContext& ctx, const Tensor& dout, const Tensor& x, const Saved& saved,
                const Tensor& dx, const NormGradients& grads, std::size_t first) const;

 private:
  ModelArchitecture::Norm kind_ = ModelArchitecture::Norm::layernorm;
  float eps_ = 1e-5f;
  Parameter w_, b_;
};

}  // namespace trellis::layers
