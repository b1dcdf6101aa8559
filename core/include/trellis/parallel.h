// The parallel layout: which rank holds which part of the model, and the groups ranks form.
//
// world = tensor x context x data x pipeline. A rank's coordinates follow a mixed-radix order,
// by default tp-cp-dp-pp: tensor varies fastest, pipeline slowest (Megatron's order, which keeps
// tensor groups on neighbouring ranks, i.e. inside a node). With world 16, tensor 2, pipeline 4:
//   tensor groups [0,1] [2,3] ...; data groups [0,2] [1,3] [4,6] ...; pipeline groups [0,4,8,12]
//   ...
//
// Everything here is arithmetic on the sizes: no communication. The groups become Communicators
// by Communicator::split(color, key) with group_color() and the rank's index in its group, and are
// then passed explicitly to the code that uses them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

enum class ParallelDim : std::uint8_t { tensor = 0, context = 1, data = 2, pipeline = 3 };
const char* parallel_dim_name(ParallelDim dim) noexcept;  // "tp", "cp", "dp", "pp"

struct ParallelSizes {
  int tensor = 1;
  int context = 1;
  int data = 1;
  int pipeline = 1;

  int world() const noexcept { return tensor * context * data * pipeline; }
  int operator[](ParallelDim dim) const noexcept;
};

struct RankCoords {
  int tensor = 0;
  int context = 0;
  int data = 0;
  int pipeline = 0;

  int operator[](ParallelDim dim) const noexcept;
  int& operator[](ParallelDim dim) noexcept;
  friend bool operator==(const RankCoords&, const RankCoords&) = default;
};

// The four dimensions from fastest- to slowest-varying.
using RankOrder = std::array<ParallelDim, 4>;
inline constexpr RankOrder kDefaultRankOrder = {ParallelDim::tensor, ParallelDim::context,
                                                ParallelDim::data, ParallelDim::pipeline};
// Parses "tp-cp-dp-pp" (any permutation of the four names); throws InputError otherwise.
RankOrder parse_rank_order(std::string_view text);
std::string rank_order_str(const RankOrder& order);

class ParallelLayout {
 public:
  // Throws InputError when a size is < 1.
  explicit ParallelLayout(ParallelSizes sizes, RankOrder order = kDefaultRankOrder);

  const ParallelSizes& sizes() const noexcept { return sizes_; }
  const RankOrder& order() const noexcept { return order_; }
  int world_size() const noexcept { return sizes_.world(); }

  RankCoords coords(int rank) const;  // throws InputError for a rank outside [0, world)
  int rank_of(const RankCoords& coords) const;

  // The group of `rank` along `dims`: the ranks whose coordinates equal rank's in every other
  // dimension, ordered by their coordinates in `dims` (the first listed varying fastest).
  // group(r, {tensor}) is r's tensor group; group(r, {tensor, pipeline}) its model-parallel group.
  std::vector<int> group(int rank, const std::vector<ParallelDim>& dims) const;
  // The position of `rank` in its group along `dims` (the split key).
  int index_in_group(int rank, const std::vector<ParallelDim>& dims) const;
  // An id shared by exactly the members of rank's group along `dims` (the split color),
  // in [0, number of such groups).
  int group_color(int rank, const std::vector<ParallelDim>& dims) const;
  // All groups along `dims`, indexed by color.
  std::vector<std::vector<int>> all_groups(const std::vector<ParallelDim>& dims) const;

 private:
  ParallelSizes sizes_;
  RankOrder order_;
};

// 2D tensor parallelism views a tensor group of q*q ranks as a q x q grid, row-major:
// tensor rank t sits at row t / q, column t % q.
class TensorGrid {
 public:
  // Throws InputError when `tensor_size` is not a perfect square.
  explicit TensorGrid(int tensor_size);
  static bool is_square(int tensor_size) noexcept;

  int q() const noexcept { return q_; }
  int row(int tensor_rank) const noexcept { return tensor_rank / q_; }
  int col(int tensor_rank) const noexcept { return tensor_rank % q_; }
  int tensor_rank_of(int row, int col) const noexcept { return row * q_ + col; }
  // Tensor ranks in the same row (ordered by column) / the same column (ordered by row).
  std::vector<int> row_members(int tensor_rank) const;
  std::vector<int> col_members(int tensor_rank) const;

 private:
  int q_;
};

}  // namespace trellis
