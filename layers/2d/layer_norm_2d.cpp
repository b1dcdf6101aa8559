#include "layer_norm_2d.h"

#include "grid_collectives.h"
#include "parameters.h"

namespace trellis::tp2d {

LayerNorm2d::LayerNorm2d(const GridContext& g, const std::string& name)
    : w_(g, name + ".weight", 1, g.dims.hidden, layers::ones()),
      b_(g, name + ".bias", 1, g.dims.hidden, layers::zeros()) {}

LayerNorm2d::Saved LayerNorm2d::forward(const GridContext& g, const Tensor& x, const Tensor& out) {
  Kernels& k = *g.kernels;
  const std::int64_t rows = x.size(0), C = g.dims.hidden;
  Saved s;
  s.w = w_.gather(g).view({C / g.q});
  Tensor b = b_.gather(g).view({C / g.q});
  s.mean = g.empty({rows});
  k.layernorm_shard_mean(x, C, s.mean);
  all_reduce(g.row, s.mean, ReduceOp::sum);
  s.rstd = g.empty({rows});
  k.layernorm_shard_var(x, s.mean, C, s.rstd);
  all_reduce(g.row, s.rstd, ReduceOp::sum);
  k.layernorm_shard_forward(x, s.w, b, s.mean, s.rstd, out, s.rstd);  // variance -> rstd
  return s;
}

void LayerNorm2d::backward(const GridContext& g, const Saved& saved, const Tensor& dout,
                           const Tensor& x, const Tensor& dx, const Tensor& grads) {
  Kernels& k = *g.kernels;
  const std::int64_t rows = x.size(0), C = g.dims.hidden;
  Tensor dsums = g.empty({2, rows});
  k.layernorm_shard_backward_sums(dout, x, saved.w, saved.mean, saved.rstd, C, dsums);
  all_reduce(g.row, dsums, ReduceOp::sum);
  k.layernorm_shard_backward(dout, x, saved.w, saved.mean, saved.rstd, dsums, dx,
                             grads.narrow(0, 0, 1).view({C / g.q}),
                             grads.narrow(0, 1, 1).view({C / g.q}));
}

void LayerNorm2d::reduce_gradients(const GridContext& g, const Tensor& grads) {
  const std::int64_t C = g.dims.hidden;
  w_.reduce_gradient(g, grads.narrow(0, 0, 1).view({1, C / g.q}));
  b_.reduce_gradient(g, grads.narrow(0, 1, 1).view({1, C / g.q}));
}

}  // namespace trellis::tp2d
