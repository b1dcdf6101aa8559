// A linear layer y = x W^T + b on the grid. W is [out, in] as Trellis stores weights, with `out`
// made of S segments of W channels ([S, W, in]; S = 3 for QKV, whose heads must stay together
// in each of q, k and v). Rank (i, j) holds out-block j (channels [j W/q, (j+1) W/q) of each
// segment) and in-block i of W, and block j of the bias (a ChannelVector). x and y are
// [rows, in/q] and [rows, out/q]: this rank's tokens and channel blocks.
//
// Communication per call (SUMMA, see summa.h), for q > 1:
//   forward          q broadcasts of x blocks along the row, q of W blocks along the column,
//                    one all-gather of the bias block along the column
//   backward_input   q broadcasts of W blocks along the column, q reductions of dx blocks
//                    along the row
//   backward_weight  q broadcasts of x blocks along the row, q reductions of dW blocks along
//                    the column, one reduce-scatter of the bias gradient along the column
#pragma once

#include <string>
#include <vector>

#include "channel_vector.h"

namespace trellis::tp2d {

class Linear2d {
 public:
  Linear2d() = default;
  // `name`: "h.0.attn.qkv"; the parameters are name.weight and name.bias.
  Linear2d(const GridContext& g, const std::string& name, std::int64_t segments, std::int64_t width,
           std::int64_t in, float std);

  std::vector<Parameter*> parameters() { return {&w_, &b_.parameter()}; }
  std::int64_t out_block() const { return out_block_; }

  // x [rows, in/q] -> y [rows, out/q] (overwritten).
  void forward(const GridContext& g, const Tensor& x, const Tensor& y);
  // dy [rows, out/q] -> dx [rows, in/q] (overwritten).
  void backward_input(const GridContext& g, const Tensor& dy, const Tensor& dx);
  // Accumulates the gradients of W and b from the layer's input x and output gradient dy.
  void backward_weight(const GridContext& g, const Tensor& x, const Tensor& dy);

 private:
  Tensor weight_2d(const Tensor& t) const { return t.view({out_block_, in_block_}); }

  Parameter w_;
  ChannelVector b_;
  std::int64_t out_block_ = 0, in_block_ = 0;
};

}  // namespace trellis::tp2d
