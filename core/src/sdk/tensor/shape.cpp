#include <string>

#include "trellis/error.h"
#include "trellis/tensor.h"

namespace trellis {

Shape::Shape(std::initializer_list<std::int64_t> dims)
    : Shape(std::span<const std::int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const std::int64_t> dims) {
  if (dims.size() > static_cast<std::size_t>(kMaxRank)) {
    throw Error("a tensor shape has at most " + std::to_string(kMaxRank) + " dimensions, got " +
                std::to_string(dims.size()));
  }
  rank_ = static_cast<int>(dims.size());
  for (int i = 0; i < rank_; ++i) {
    if (dims[i] < 0) throw Error("negative dimension " + std::to_string(dims[i]) + " in a shape");
    dims_[i] = dims[i];
  }
}

std::int64_t Shape::numel() const noexcept {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[i];
  return n;
}

std::string Shape::str() const {
  std::string out = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) out += ", ";
    out += std::to_string(dims_[i]);
  }
  return out + "]";
}

bool operator==(const Shape& a, const Shape& b) noexcept {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i)
    if (a.dims_[i] != b.dims_[i]) return false;
  return true;
}

int Shape::check(int dim) const {
  if (dim < 0 || dim >= rank_) {
    throw Error("dimension " + std::to_string(dim) + " is out of range for shape " + str());
  }
  return dim;
}

}  // namespace trellis
