#include "channel_vector.h"

#include "grid_collectives.h"
#include "parameters.h"

namespace trellis::tp2d {

ChannelVector::ChannelVector(const GridContext& g, const std::string& name, std::int64_t segments,
                             std::int64_t width, ParamInit init)
    : segments_(segments), width_(width) {
  const std::int64_t piece = width / (g.q * g.q);
  const std::int64_t begin = g.grid_col * (width / g.q) + g.grid_row * piece;
  layers::ShardSpec shard = segments == 1 ? layers::ShardSpec{{width}, {begin}, 1}
                                          : layers::ShardSpec{{segments, width}, {0, begin}, 1};
  const Shape local = segments == 1 ? Shape{piece} : Shape{segments, piece};
  p_ = layers::make_parameter(name, local, shard, false, init, g.allocator);
}

Tensor ChannelVector::gather(const GridContext& g) const {
  const std::int64_t piece = width_ / (g.q * g.q);
  Tensor block = g.empty({segments_, width_ / g.q});
  if (segments_ == 1) {
    all_gather(g.col, *g.kernels, p_.value, block);
    return block;
  }
  Tensor shards = g.empty({g.q, segments_, piece});
  all_gather(g.col, *g.kernels, p_.value, shards);
  shards_to_block(g, shards, block);
  return block;
}

void ChannelVector::reduce_gradient(const GridContext& g, const Tensor& block_partial) {
  Tensor mine = g.empty(p_.grad.shape());
  if (segments_ == 1) {
    reduce_scatter_sum(g.col, *g.kernels, block_partial, mine);
  } else {
    Tensor shards = g.empty({g.q, segments_, width_ / (g.q * g.q)});
    block_to_shards(g, block_partial.view({segments_, width_ / g.q}), shards);
    reduce_scatter_sum(g.col, *g.kernels, shards, mine);
  }
  g.kernels->accumulate(p_.grad, mine);
}

void ChannelVector::shards_to_block(const GridContext& g, const Tensor& shards,
                                    const Tensor& block) const {
  const std::int64_t piece = width_ / (g.q * g.q);
  for (int r = 0; r < g.q; ++r)
    for (std::int64_t s = 0; s < segments_; ++s)
      g.kernels->copy(shards.narrow(0, r, 1).narrow(1, s, 1),
                      block.narrow(0, s, 1).narrow(1, r * piece, piece));
}

void ChannelVector::block_to_shards(const GridContext& g, const Tensor& block,
                                    const Tensor& shards) const {
  const std::int64_t piece = width_ / (g.q * g.q);
  for (int r = 0; r < g.q; ++r)
    for (std::int64_t s = 0; s < segments_; ++s)
      g.kernels->copy(block.narrow(0, s, 1).narrow(1, r * piece, piece),
                      shards.narrow(0, r, 1).narrow(1, s, 1));
}

}  // namespace trellis::tp2d
