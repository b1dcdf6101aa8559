// Group: the ranks of one communicator, as its operations see them.
//
// A communicator made by split() talks over the world's endpoints: group rank i is world rank
// world_ranks[i]. The context id separates its messages from every other communicator's
// (tag_layout.h). A Group never changes once made, so operations share it by pointer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trellis::ucx {

struct Group {
  std::uint32_t context = 0;
  int rank = 0;
  std::vector<int> world_ranks;  // indexed by rank in the group

  int size() const noexcept { return static_cast<int>(world_ranks.size()); }
  int world_rank(int group_rank) const { return world_ranks[static_cast<std::size_t>(group_rank)]; }
  // "world ranks 0, 2, 4" (long groups abbreviated), for messages.
  std::string describe_members() const;
  // "rank 2 (world rank 5)", or "rank 2" where both are the same.
  std::string describe_rank(int group_rank) const;
};

}  // namespace trellis::ucx
