// LayerNorm on the grid: rank (i, j) holds channel block j of its tokens, so a token's mean and
// variance are sums over the grid row. They come from the shard steps of the kernels
// (layernorm_shard_*), with an all-reduce of one float per token along the row between steps:
// two in forward (the mean, then the variance around it: two passes, as precise as one rank's),
// one of two floats per token in backward. The weight and bias are ChannelVectors: gathered
// along the column in forward; their gradients, partial over this rank's tokens, reduce-scattered
// along the column.
#pragma once

#include <string>
#include <vector>

#include "channel_vector.h"

namespace trellis::tp2d {

class LayerNorm2d {
 public:
  LayerNorm2d() = default;
  // `name`: "h.0.ln1" or "lnf"; the parameters are name.weight and name.bias.
  LayerNorm2d(const GridContext& g, const std::string& name);

  std::vector<Parameter*> parameters() { return {&w_.parameter(), &b_.parameter()}; }

  // What backward needs besides x: the gathered weight block and the token statistics.
  struct Saved {
    Tensor w, mean, rstd;
  };
  // x [rows, C/q] -> out [rows, C/q].
  Saved forward(const GridContext& g, const Tensor& x, const Tensor& out);
  // dx overwritten; the partial gradients of this rank's tokens go into grads [2, C/q] (weight,
  // bias; accumulated), which reduce_gradients later adds to the parameters.
  void backward(const GridContext& g, const Saved& saved, const Tensor& dout, const Tensor& x,
                const Tensor& dx, const Tensor& grads);
  void reduce_gradients(const GridContext& g, const Tensor& grads);

 private:
  ChannelVector w_, b_;
};

}  // namespace trellis::tp2d
