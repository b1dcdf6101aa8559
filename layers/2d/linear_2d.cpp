#include "linear_2d.h"

#include "parameters.h"
#include "summa.h"

namespace trellis::tp2d {

Linear2d::Linear2d(const GridContext& g, const std::string& name, std::int64_t segments,
                   std::int64_t width, std::int64_t in, float std)
    : out_block_(segments * width / g.q), in_block_(in / g.q) {
  const std::int64_t w_block = width / g.q;
  const std::int64_t out_begin = g.grid_col * w_block, in_begin = g.grid_row * in_block_;
  layers::ShardSpec shard =
      segments == 1 ? layers::ShardSpec{{width, in}, {out_begin, in_begin}, 1}
                    : layers::ShardSpec{{segments, width, in}, {0, out_begin, in_begin}, 1};
  const Shape local =
      segments == 1 ? Shape{w_block, in_block_} : Shape{segments, w_block, in_block_};
  w_ = layers::make_parameter(name + ".weight", local, shard, true, layers::normal(std),
                              g.allocator);
  b_ = ChannelVector(g, name + ".bias", segments, width, layers::zeros());
}

void Linear2d::forward(const GridContext& g, const Tensor& x, const Tensor& y) {
  Tensor bias = b_.gather(g).view({1, out_block_});
  summa_broadcast_both(g, x, weight_2d(w_.value), true, y, bias);
}

void Linear2d::backward_input(const GridContext& g, const Tensor& dy, const Tensor& dx) {
  summa_reduce_rows(g, dy, weight_2d(w_.value), false, dx);
}

void Linear2d::backward_weight(const GridContext& g, const Tensor& x, const Tensor& dy) {
  summa_reduce_cols(g, x, dy, BroadcastSide::right, weight_2d(w_.grad));
  // The bias gradient of block j from this rank's tokens: ones^T dy.
  const std::int64_t rows = dy.size(0);
  Tensor partial = g.empty({1, out_block_});
  g.kernels->matmul(g.ones.narrow(0, 0, rows).view({1, rows}), false, dy, false, partial);
  b_.reduce_gradient(g, partial);
}

}  // namespace trellis::tp2d
