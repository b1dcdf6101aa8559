#include "norm_gradients.h"

#include "collectives.h"

namespace trellis::layers {

NormGradients::NormGradients(const FamilyContext& ctx, std::vector<Parameter*> params)
    : params_(std::move(params)) {
  if (!ctx.region->norms_see_shards()) {
    for (Parameter* p : params_) targets_.push_back(p->grad);
    return;
  }
  const auto n = static_cast<std::int64_t>(params_.size());
  const std::int64_t C = ctx.dims.hidden;
  // One buffer for all of them: one all-reduce.
  partial_ = ctx.empty({n, C});
  ctx.kernels->fill(partial_, 0.0f);
  for (std::int64_t i = 0; i < n; ++i) targets_.push_back(partial_.narrow(0, i, 1).view({C}));
}

void NormGradients::finish(const FamilyContext& ctx) {
  if (!partial_.defined()) return;
  all_reduce_sum(ctx.tensor, partial_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    ctx.kernels->accumulate(params_[i]->grad, targets_[i]);
  }
}

}  // namespace trellis::layers
