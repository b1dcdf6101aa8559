// A vector parameter over a layer's output channels (a bias, a LayerNorm's weight or bias) on the
// grid. Global shape [S, W]: S segments of W channels (3 for the QKV bias: q, k, v; else 1, and
// the shape is [W]). The ranks of grid column j need block j ([S, W/q]); each of them holds a
// different 1/q of it, so the vector is 1/q^2 per rank like everything else:
//   rank (i, j) holds channels [j W/q + i W/q^2, j W/q + (i+1) W/q^2) of each segment.
// Used: the column all-gathers block j (W/q floats per segment). Gradients: each rank's partial
// gradient of block j (from its own tokens) is reduce-scattered over the column into the shards.
#pragma once

#include <string>

#include "grid_context.h"

namespace trellis::tp2d {

class ChannelVector {
 public:
  ChannelVector() = default;
  ChannelVector(const GridContext& g, const std::string& name, std::int64_t segments,
                std::int64_t width, ParamInit init);

  Parameter& parameter() { return p_; }
  // Block j, [S, W/q].
  Tensor gather(const GridContext& g) const;
  // Adds the column's sum of `block_partial` ([S, W/q] on each rank) to this rank's gradient.
  void reduce_gradient(const GridContext& g, const Tensor& block_partial);

 private:
  // [q][S][W/q^2] (the column's shards in row order) <-> [S][W/q] (the block); nothing to move
  // when S = 1.
  void shards_to_block(const GridContext& g, const Tensor& shards, const Tensor& block) const;
  void block_to_shards(const GridContext& g, const Tensor& block, const Tensor& shards) const;

  Parameter p_;
  std::int64_t segments_ = 1, width_ = 0;
};

}  // namespace trellis::tp2d
