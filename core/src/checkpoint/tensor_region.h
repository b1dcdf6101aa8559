// A part of one whole (logical) tensor, the unit a checkpoint is written and read in: the box
// [offset, offset + shape) of the global shape and, within the box, the elements [begin, end) in
// row-major order. A tensor-parallel shard is a whole box; a distributed-optimizer shard (a
// contiguous range of a rank's flattened local tensor) is a range of one. Writers and readers
// describe their pieces this way, so any layout can read what any other wrote.
#pragma once

#include <cstdint>
#include <string>

#include "trellis/tensor.h"

namespace trellis {

struct TensorRegion {
  Shape global_shape;
  Shape offset;
  Shape shape;
  std::int64_t begin = 0;
  std::int64_t end = 0;  // shape.numel() for a whole box

  static TensorRegion whole_box(const Shape& global_shape, const Shape& offset, const Shape& shape);
  // A whole tensor: offset 0, shape = global_shape.
  static TensorRegion whole(const Shape& global_shape);

  std::int64_t numel() const noexcept { return end - begin; }
  // "[0:64, 16:32] elements 0..512 of [128, 32]"
  std::string str() const;
};

// Throws Error naming `what` unless the box lies inside the global shape and the range inside
// the box.
void check_region(const TensorRegion& region, const std::string& what);

// Copies the elements both regions hold, by their coordinates in the whole tensor, from `src`
// (src_region.numel() values in its order) into `dst` (dst_region.numel() values in its order),
// and returns how many. The global shapes may differ (a padded vocabulary of another size): only
// coordinates inside both boxes are copied.
std::int64_t copy_overlap(const TensorRegion& src_region, const float* src,
                          const TensorRegion& dst_region, float* dst);

// Whether the two boxes share any coordinate (ignoring the ranges): a cheap test before reading.
bool boxes_overlap(const TensorRegion& a, const TensorRegion& b);

// Elements of `region` whose first coordinate is below `rows`: what must come from a checkpoint
// when the rows from `rows` on are vocabulary padding.
std::int64_t elements_below_row(const TensorRegion& region, std::int64_t rows);

}  // namespace trellis
