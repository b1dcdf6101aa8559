// Rank <-> coordinates as a mixed-radix number whose digits are the four coordinates, the
// fastest-varying first (order_[0]). A group along some dimensions is every rank whose other
// digits equal ours; its color enumerates the other digits, its members are ordered by the group's
// own digits.
#include <cmath>
#include <string>

#include "trellis/error.h"
#include "trellis/parallel.h"

namespace trellis {

const char* parallel_dim_name(ParallelDim dim) noexcept {
  switch (dim) {
    case ParallelDim::tensor:
      return "tp";
    case ParallelDim::context:
      return "cp";
    case ParallelDim::data:
      return "dp";
    case ParallelDim::pipeline:
      return "pp";
  }
  return "?";
}

int ParallelSizes::operator[](ParallelDim dim) const noexcept {
  switch (dim) {
    case ParallelDim::tensor:
      return tensor;
    case ParallelDim::context:
      return context;
    case ParallelDim::data:
      return data;
    case ParallelDim::pipeline:
      return pipeline;
  }
  return 0;
}

int RankCoords::operator[](ParallelDim dim) const noexcept {
  return const_cast<RankCoords&>(*this)[dim];
}

int& RankCoords::operator[](ParallelDim dim) noexcept {
  switch (dim) {
    case ParallelDim::context:
      return context;
    case ParallelDim::data:
      return data;
    case ParallelDim::pipeline:
      return pipeline;
    case ParallelDim::tensor:
      break;
  }
  return tensor;
}

RankOrder parse_rank_order(std::string_view text) {
  RankOrder order{};
  bool seen[4] = {false, false, false, false};
  std::size_t count = 0;
  std::size_t pos = 0;
  auto invalid = [&](const std::string& why) {
    return InputError("rank order '" + std::string(text) + "' " + why +
                      "; write the four dimensions tp, cp, dp, pp fastest first, separated by "
                      "'-', e.g. 'tp-cp-dp-pp'");
  };
  while (pos <= text.size()) {
    std::size_t end = text.find('-', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view name = text.substr(pos, end - pos);
    ParallelDim dim;
    if (name == "tp")
      dim = ParallelDim::tensor;
    else if (name == "cp")
      dim = ParallelDim::context;
    else if (name == "dp")
      dim = ParallelDim::data;
    else if (name == "pp")
      dim = ParallelDim::pipeline;
    else
      throw invalid("has an unknown dimension '" + std::string(name) + "'");
    if (seen[static_cast<int>(dim)]) throw invalid("names '" + std::string(name) + "' twice");
    if (count == 4) throw invalid("has more than four dimensions");
    seen[static_cast<int>(dim)] = true;
    order[count++] = dim;
    pos = end + 1;
  }
  if (count != 4) throw invalid("does not name all four dimensions");
  return order;
}

std::string rank_order_str(const RankOrder& order) {
  std::string out;
  for (ParallelDim dim : order) {
    if (!out.empty()) out += '-';
    out += parallel_dim_name(dim);
  }
  return out;
}

ParallelLayout::ParallelLayout(ParallelSizes sizes, RankOrder order)
    : sizes_(sizes), order_(order) {
  for (ParallelDim dim : order_) {
    if (sizes_[dim] < 1) {
      throw InputError(std::string("parallel size ") + parallel_dim_name(dim) + " = " +
                       std::to_string(sizes_[dim]) + " must be at least 1");
    }
  }
  bool seen[4] = {false, false, false, false};
  for (ParallelDim dim : order_) seen[static_cast<int>(dim)] = true;
  if (!(seen[0] && seen[1] && seen[2] && seen[3])) {
    throw InputError("rank order '" + rank_order_str(order_) + "' must name all four dimensions");
  }
}

RankCoords ParallelLayout::coords(int rank) const {
  if (rank < 0 || rank >= world_size()) {
    throw InputError("rank " + std::to_string(rank) + " is outside the world of " +
                     std::to_string(world_size()) + " ranks");
  }
  RankCoords c;
  for (ParallelDim dim : order_) {
    c[dim] = rank % sizes_[dim];
    rank /= sizes_[dim];
  }
  return c;
}

int ParallelLayout::rank_of(const RankCoords& c) const {
  int rank = 0;
  for (int i = 3; i >= 0; --i) {
    ParallelDim dim = order_[i];
    if (c[dim] < 0 || c[dim] >= sizes_[dim]) {
      throw InputError(std::string("coordinate ") + parallel_dim_name(dim) + " = " +
                       std::to_string(c[dim]) + " is outside [0, " + std::to_string(sizes_[dim]) +
                       ")");
    }
    rank = rank * sizes_[dim] + c[dim];
  }
  return rank;
}

namespace {

bool contains(const std::vector<ParallelDim>& dims, ParallelDim dim) {
  for (ParallelDim d : dims)
    if (d == dim) return true;
  return false;
}

}  // namespace

std::vector<int> ParallelLayout::group(int rank, const std::vector<ParallelDim>& dims) const {
  RankCoords base = coords(rank);
  int members = 1;
  for (ParallelDim dim : dims) members *= sizes_[dim];
  std::vector<int> ranks;
  ranks.reserve(members);
  for (int index = 0; index < members; ++index) {
    RankCoords c = base;
    int rest = index;
    for (ParallelDim dim : dims) {
      c[dim] = rest % sizes_[dim];
      rest /= sizes_[dim];
    }
    ranks.push_back(rank_of(c));
  }
  return ranks;
}

int ParallelLayout::index_in_group(int rank, const std::vector<ParallelDim>& dims) const {
  RankCoords c = coords(rank);
  int index = 0;
  int scale = 1;
  for (ParallelDim dim : dims) {
    index += c[dim] * scale;
    scale *= sizes_[dim];
  }
  return index;
}

int ParallelLayout::group_color(int rank, const std::vector<ParallelDim>& dims) const {
  RankCoords c = coords(rank);
  int color = 0;
  int scale = 1;
  for (ParallelDim dim : order_) {
    if (contains(dims, dim)) continue;
    color += c[dim] * scale;
    scale *= sizes_[dim];
  }
  return color;
}

std::vector<std::vector<int>> ParallelLayout::all_groups(
    const std::vector<ParallelDim>& dims) const {
  int members = 1;
  for (ParallelDim dim : dims) members *= sizes_[dim];
  std::vector<std::vector<int>> groups(static_cast<std::size_t>(world_size() / members));
  for (int rank = 0; rank < world_size(); ++rank) {
    auto& g = groups[group_color(rank, dims)];
    if (g.empty()) g = group(rank, dims);
  }
  return groups;
}

bool TensorGrid::is_square(int tensor_size) noexcept {
  if (tensor_size < 1) return false;
  int q = static_cast<int>(std::lround(std::sqrt(static_cast<double>(tensor_size))));
  return q * q == tensor_size;
}

TensorGrid::TensorGrid(int tensor_size) {
  if (!is_square(tensor_size)) {
    int below = static_cast<int>(std::sqrt(static_cast<double>(std::max(tensor_size, 1))));
    throw InputError("a 2D tensor grid needs a square tensor size (q x q); " +
                     std::to_string(tensor_size) + " is not one; the nearest are " +
                     std::to_string(below * below) + " and " +
                     std::to_string((below + 1) * (below + 1)));
  }
  q_ = static_cast<int>(std::lround(std::sqrt(static_cast<double>(tensor_size))));
}

std::vector<int> TensorGrid::row_members(int tensor_rank) const {
  std::vector<int> out;
  for (int col = 0; col < q_; ++col) out.push_back(tensor_rank_of(row(tensor_rank), col));
  return out;
}

std::vector<int> TensorGrid::col_members(int tensor_rank) const {
  std::vector<int> out;
  for (int r = 0; r < q_; ++r) out.push_back(tensor_rank_of(r, col(tensor_rank)));
  return out;
}

}  // namespace trellis
