#include "checkpoint/tensor_region.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "trellis/error.h"

namespace trellis {

TensorRegion TensorRegion::whole_box(const Shape& global_shape, const Shape& offset,
                                     const Shape& shape) {
  return {global_shape, offset, shape, 0, shape.numel()};
}

TensorRegion TensorRegion::whole(const Shape& global_shape) {
  std::vector<std::int64_t> zeros(static_cast<std::size_t>(global_shape.rank()), 0);
  return whole_box(global_shape, Shape(zeros), global_shape);
}

std::string TensorRegion::str() const {
  std::string out = "[";
  for (int d = 0; d < shape.rank(); ++d) {
    if (d) out += ", ";
    out += std::to_string(offset[d]) + ":" + std::to_string(offset[d] + shape[d]);
  }
  out += "]";
  if (begin != 0 || end != shape.numel()) {
    out += " elements " + std::to_string(begin) + ".." + std::to_string(end);
  }
  return out + " of " + global_shape.str();
}

void check_region(const TensorRegion& r, const std::string& what) {
  bool ok = r.global_shape.rank() >= 1 && r.offset.rank() == r.global_shape.rank() &&
            r.shape.rank() == r.global_shape.rank();
  for (int d = 0; ok && d < r.global_shape.rank(); ++d) {
    ok = r.offset[d] >= 0 && r.shape[d] >= 0 && r.offset[d] + r.shape[d] <= r.global_shape[d];
  }
  ok = ok && r.begin >= 0 && r.begin <= r.end && r.end <= r.shape.numel();
  if (!ok) {
    throw Error(what + ": the region box " + r.shape.str() + " at " + r.offset.str() +
                ", elements " + std::to_string(r.begin) + ".." + std::to_string(r.end) +
                ", does not fit in " + r.global_shape.str());
  }
}

bool boxes_overlap(const TensorRegion& a, const TensorRegion& b) {
  if (a.shape.rank() != b.shape.rank()) return false;
  for (int d = 0; d < a.shape.rank(); ++d) {
    const std::int64_t lo = std::max(a.offset[d], b.offset[d]);
    const std::int64_t hi = std::min(a.offset[d] + a.shape[d], b.offset[d] + b.shape[d]);
    if (lo >= hi) return false;
  }
  return true;
}

std::int64_t copy_overlap(const TensorRegion& s, const float* src, const TensorRegion& d,
                          float* dst) {
  if (!boxes_overlap(s, d) || s.numel() == 0 || d.numel() == 0) return 0;
  const int rank = s.shape.rank();
  const int last = rank - 1;
  const std::int64_t row_len = s.shape[last];
  // Strides of the destination box, for its local flat index.
  std::int64_t dst_stride[Shape::kMaxRank];
  std::int64_t stride = 1;
  for (int k = rank - 1; k >= 0; --k) {
    dst_stride[k] = stride;
    stride *= d.shape[k];
  }
  std::int64_t copied = 0;
  // Walk the source's rows (runs along the last dimension) that its range touches.
  const std::int64_t first_row = s.begin / row_len;
  const std::int64_t end_row = (s.end + row_len - 1) / row_len;
  for (std::int64_t row = first_row; row < end_row; ++row) {
    // The row's coordinates in the whole tensor, and its place in the destination box.
    std::int64_t rest = row;
    std::int64_t dst_row_start = 0;
    bool inside = true;
    for (int k = rank - 2; k >= 0; --k) {
      const std::int64_t local = rest % s.shape[k];
      rest /= s.shape[k];
      const std::int64_t in_dst = s.offset[k] + local - d.offset[k];
      if (in_dst < 0 || in_dst >= d.shape[k]) {
        inside = false;
        break;
      }
      dst_row_start += in_dst * dst_stride[k];
    }
    if (!inside) continue;
    // Source elements of this row inside its range, as last-dimension positions [a, b).
    const std::int64_t row_begin = row * row_len;
    std::int64_t a = std::max<std::int64_t>(0, s.begin - row_begin);
    std::int64_t b = std::min<std::int64_t>(row_len, s.end - row_begin);
    // The same positions in the destination's last dimension, clipped to its box.
    std::int64_t x = s.offset[last] + a - d.offset[last];
    std::int64_t y = s.offset[last] + b - d.offset[last];
    x = std::max<std::int64_t>(x, 0);
    y = std::min<std::int64_t>(y, d.shape[last]);
    // ... and to its range.
    std::int64_t lo = dst_row_start + x, hi = dst_row_start + y;
    lo = std::max(lo, d.begin);
    hi = std::min(hi, d.end);
    if (lo >= hi) continue;
    const std::int64_t src_at = row_begin + (lo - dst_row_start) + d.offset[last] - s.offset[last];
    std::memcpy(dst + (lo - d.begin), src + (src_at - s.begin),
                static_cast<std::size_t>(hi - lo) * sizeof(float));
    copied += hi - lo;
  }
  return copied;
}

std::int64_t elements_below_row(const TensorRegion& r, std::int64_t rows) {
  if (r.shape.rank() == 0 || r.shape[0] == 0) return 0;
  const std::int64_t per_row = r.shape.numel() / r.shape[0];
  const std::int64_t local_rows = std::clamp<std::int64_t>(rows - r.offset[0], 0, r.shape[0]);
  const std::int64_t limit = local_rows * per_row;
  return std::max<std::int64_t>(0, std::min(r.end, limit) - r.begin);
}

}  // namespace trellis
