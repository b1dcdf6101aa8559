// The parallel layout against the groups DESIGN.md fixes, and against an independent brute force
// (group ranks by the values of their other coordinates) over many layouts up to 4096 ranks.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "trellis/error.h"
#include "trellis/parallel.h"

using trellis::ParallelDim;
using trellis::ParallelLayout;
using trellis::ParallelSizes;
using trellis::RankCoords;
using Groups = std::vector<std::vector<int>>;

namespace {

constexpr ParallelDim kTP = ParallelDim::tensor;
constexpr ParallelDim kCP = ParallelDim::context;
constexpr ParallelDim kDP = ParallelDim::data;
constexpr ParallelDim kPP = ParallelDim::pipeline;

// Coordinates computed the long way: strides of each dimension from the order.
RankCoords brute_coords(int rank, const ParallelSizes& sizes, const trellis::RankOrder& order) {
  RankCoords c;
  int stride = 1;
  for (ParallelDim dim : order) {
    c[dim] = (rank / stride) % sizes[dim];
    stride *= sizes[dim];
  }
  return c;
}

// Groups along `dims`: ranks with equal coordinates outside `dims`, each group ordered by the
// coordinates in `dims` (first fastest). Returned sorted by their first member for comparison.
Groups brute_groups(const ParallelSizes& sizes, const trellis::RankOrder& order,
                    const std::vector<ParallelDim>& dims) {
  std::map<std::vector<int>, std::vector<std::pair<long, int>>> by_rest;
  for (int r = 0; r < sizes.world(); ++r) {
    RankCoords c = brute_coords(r, sizes, order);
    std::vector<int> rest;
    for (ParallelDim d : {kTP, kCP, kDP, kPP})
      if (std::find(dims.begin(), dims.end(), d) == dims.end()) rest.push_back(c[d]);
    long key = 0, scale = 1;
    for (ParallelDim d : dims) {
      key += c[d] * scale;
      scale *= sizes[d];
    }
    by_rest[rest].push_back({key, r});
  }
  Groups out;
  for (auto& [rest, members] : by_rest) {
    std::sort(members.begin(), members.end());
    std::vector<int> g;
    for (auto& m : members) g.push_back(m.second);
    out.push_back(g);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Groups sorted(Groups g) {
  std::sort(g.begin(), g.end());
  return g;
}

void check_against_brute_force(const ParallelSizes& sizes, const trellis::RankOrder& order) {
  ParallelLayout layout(sizes, order);
  INFO("sizes tp=" << sizes.tensor << " cp=" << sizes.context << " dp=" << sizes.data
                   << " pp=" << sizes.pipeline << " order " << trellis::rank_order_str(order));
  for (int r = 0; r < sizes.world(); ++r) {
    RankCoords c = layout.coords(r);
    REQUIRE(c == brute_coords(r, sizes, order));
    REQUIRE(layout.rank_of(c) == r);
  }
  const std::vector<std::vector<ParallelDim>> dim_sets = {
      {kTP}, {kCP}, {kDP}, {kPP}, {kTP, kPP}, {kDP, kCP}, {kTP, kCP, kDP, kPP}};
  for (const auto& dims : dim_sets) {
    Groups all = layout.all_groups(dims);
    REQUIRE(sorted(all) == brute_groups(sizes, order, dims));
    // Colors index all_groups, every member agrees on its group, and index_in_group is its place.
    for (int r = 0; r < sizes.world(); ++r) {
      int color = layout.group_color(r, dims);
      REQUIRE(color >= 0);
      REQUIRE(color < static_cast<int>(all.size()));
      const auto& g = all[color];
      int index = layout.index_in_group(r, dims);
      REQUIRE(g.at(index) == r);
      REQUIRE(layout.group(r, dims) == g);
    }
  }
}

}  // namespace

TEST_CASE("world 16, tensor 2, pipeline 4 gives Megatron's groups") {
  ParallelLayout layout(ParallelSizes{.tensor = 2, .context = 1, .data = 2, .pipeline = 4});
  CHECK(layout.all_groups({kTP}) ==
        Groups{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}, {12, 13}, {14, 15}});
  CHECK(layout.all_groups({kDP}) ==
        Groups{{0, 2}, {1, 3}, {4, 6}, {5, 7}, {8, 10}, {9, 11}, {12, 14}, {13, 15}});
  CHECK(layout.all_groups({kPP}) ==
        Groups{{0, 4, 8, 12}, {1, 5, 9, 13}, {2, 6, 10, 14}, {3, 7, 11, 15}});
  CHECK(layout.group(13, {kTP}) == std::vector<int>{12, 13});
  CHECK(layout.group(13, {kDP}) == std::vector<int>{13, 15});
  CHECK(layout.group(13, {kPP}) == std::vector<int>{1, 5, 9, 13});
  CHECK(layout.coords(13) == RankCoords{.tensor = 1, .context = 0, .data = 0, .pipeline = 3});
}

TEST_CASE("a model-parallel group spans tensor and pipeline, tensor fastest") {
  ParallelLayout layout(ParallelSizes{.tensor = 2, .context = 1, .data = 2, .pipeline = 2});
  CHECK(layout.group(0, {kTP, kPP}) == std::vector<int>{0, 1, 4, 5});
  CHECK(layout.group(2, {kTP, kPP}) == std::vector<int>{2, 3, 6, 7});
  CHECK(layout.index_in_group(5, {kTP, kPP}) == 3);
}

TEST_CASE("another rank order changes which ranks are neighbours") {
  auto order = trellis::parse_rank_order("dp-tp-cp-pp");
  ParallelLayout layout(ParallelSizes{.tensor = 2, .context = 1, .data = 2, .pipeline = 1}, order);
  CHECK(layout.all_groups({kDP}) == Groups{{0, 1}, {2, 3}});
  CHECK(layout.all_groups({kTP}) == Groups{{0, 2}, {1, 3}});
  CHECK(trellis::rank_order_str(order) == "dp-tp-cp-pp");
}

TEST_CASE("layouts up to thousands of ranks agree with a brute force") {
  const int choices[] = {1, 2, 3, 4, 8};
  int checked = 0;
  for (int tp : choices)
    for (int cp : {1, 2, 3})
      for (int dp : choices)
        for (int pp : choices) {
          ParallelSizes sizes{tp, cp, dp, pp};
          check_against_brute_force(sizes, trellis::kDefaultRankOrder);
          ++checked;
        }
  // Large worlds, including odd sizes, and every rank order on a few.
  check_against_brute_force({8, 1, 64, 8}, trellis::kDefaultRankOrder);   // 4096 ranks
  check_against_brute_force({4, 2, 48, 4}, trellis::kDefaultRankOrder);   // 1536 ranks
  check_against_brute_force({3, 1, 125, 5}, trellis::kDefaultRankOrder);  // 1875 ranks
  std::array<ParallelDim, 4> order = {kTP, kCP, kDP, kPP};
  std::sort(order.begin(), order.end());
  do {
    check_against_brute_force({2, 3, 4, 5}, order);
    check_against_brute_force({4, 2, 8, 4}, order);
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(checked == 375);
}

TEST_CASE("rank orders are parsed strictly") {
  CHECK(trellis::parse_rank_order("tp-cp-dp-pp") == trellis::kDefaultRankOrder);
  CHECK_THROWS_AS(trellis::parse_rank_order("tp-dp-pp"), trellis::InputError);
  CHECK_THROWS_AS(trellis::parse_rank_order("tp-tp-dp-pp"), trellis::InputError);
  CHECK_THROWS_AS(trellis::parse_rank_order("tp-cp-dp-pp-ep"), trellis::InputError);
  CHECK_THROWS_WITH_AS(trellis::parse_rank_order("tp-xp-dp-pp"),
                       doctest::Contains("unknown dimension 'xp'"), trellis::InputError);
}

TEST_CASE("bad sizes and ranks are rejected") {
  CHECK_THROWS_AS(ParallelLayout(ParallelSizes{.tensor = 0}), trellis::InputError);
  ParallelLayout layout(ParallelSizes{.tensor = 2});
  CHECK_THROWS_AS(layout.coords(2), trellis::InputError);
  CHECK_THROWS_AS(layout.coords(-1), trellis::InputError);
}

TEST_CASE("a tensor group of q*q ranks is a q x q grid, row-major") {
  trellis::TensorGrid grid(9);
  CHECK(grid.q() == 3);
  CHECK(grid.row(5) == 1);
  CHECK(grid.col(5) == 2);
  CHECK(grid.row_members(5) == std::vector<int>{3, 4, 5});
  CHECK(grid.col_members(5) == std::vector<int>{2, 5, 8});
  for (int t = 0; t < 9; ++t) CHECK(grid.tensor_rank_of(grid.row(t), grid.col(t)) == t);
  CHECK(trellis::TensorGrid(1).q() == 1);
  CHECK(trellis::TensorGrid::is_square(16));
  CHECK_FALSE(trellis::TensorGrid::is_square(8));
  CHECK_THROWS_WITH_AS(trellis::TensorGrid(8), doctest::Contains("nearest are 4 and 9"),
                       trellis::InputError);
}

TEST_CASE(
    "grid rows and columns as world groups: the row group of a tensor rank lies in its tensor "
    "group") {
  // world 8 = tensor 4 (2x2 grid) x data 2.
  ParallelLayout layout(ParallelSizes{.tensor = 4, .context = 1, .data = 2, .pipeline = 1});
  trellis::TensorGrid grid(4);
  for (int r = 0; r < layout.world_size(); ++r) {
    auto tensor_group = layout.group(r, {kTP});
    int t = layout.coords(r).tensor;
    std::set<int> members(tensor_group.begin(), tensor_group.end());
    for (int m : grid.row_members(t)) CHECK(members.count(tensor_group[m]) == 1);
    for (int m : grid.col_members(t)) CHECK(members.count(tensor_group[m]) == 1);
  }
}
