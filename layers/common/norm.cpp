#include "norm.h"

#include "parameters.h"

namespace trellis::layers {

Norm::Norm(const FamilyContext& ctx, const std::string& prefix)
    : kind_(ctx.arch.norm), eps_(static_cast<float>(ctx.arch.norm_eps)) {
  const std::int64_t C = ctx.dims.hidden;
  w_ = make_parameter(prefix + ".weight", {C}, replicated({C}, ctx.tensor_size), false, ones(),
                      ctx.allocator);
  if (kind_ == ModelArchitecture::Norm::layernorm) {
    b_ = make_parameter(prefix + ".bias", {C}, replicated({C}, ctx.tensor_size), false, zeros(),
                        ctx.allocator);
  }
}

std::vector<Parameter*> Norm::parameters() {
  if (kind_ == ModelArchitecture::Norm::layernorm) return {&w_, &b_};
  return {&w_};
}

Tensor Norm::forward(const FamilyContext& ctx, const Tensor& x, Saved& saved) const {
  const std::int64_t rows = x.numel() / ctx.dims.hidden;
  Tensor out = ctx.empty(x.shape());
  saved.rstd = ctx.empty({rows});
  if (kind_ == ModelArchitecture::Norm::layernorm) {
    saved.mean = ctx.empty({rows});
    ctx.kernels->layernorm_forward(x, w_.value, b_.value, out, saved.mean, saved.rstd);
  } else {
    ctx.kernels->rmsnorm_forward(x.view({rows, ctx.dims.hidden}), w_.value, eps_,
                                 out.view({rows, ctx.dims.hidden}), saved.rstd);
  }
  return out;
}

void Norm::backward(const FamilyContext& ctx, const Tensor& dout, const Tensor& x,
                    const Saved& saved, const Tensor& dx, const NormGradients& grads,
                    std::size_t first) const {
  if (kind_ == ModelArchitecture::Norm::layernorm) {
    ctx.kernels->layernorm_backward(dout, x, w_.value, saved.mean, saved.rstd, dx,
                                    grads.grad(first), grads.grad(first + 1));
  } else {
    const std::int64_t C = ctx.dims.hidden, rows = x.numel() / C;
    ctx.kernels->rmsnorm_backward(dout.view({rows, C}), x.view({rows, C}), w_.value, saved.rstd,
                                  dx.view({rows, C}), grads.grad(first));
  }
}

}  // namespace trellis::layers
