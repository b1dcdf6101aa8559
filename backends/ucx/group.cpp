#include "group.h"

namespace trellis::ucx {

std::string Group::describe_members() const {
  // Enough to recognise the group in a message without printing thousands of ranks.
  constexpr std::size_t kShown = 16;
  std::string out = "world ranks ";
  for (std::size_t i = 0; i < world_ranks.size(); ++i) {
    if (i == kShown && world_ranks.size() > kShown + 1) {
      out += ", ... (" + std::to_string(world_ranks.size() - kShown - 1) + " more), " +
             std::to_string(world_ranks.back());
      break;
    }
    out += (i == 0 ? "" : ", ") + std::to_string(world_ranks[i]);
  }
  return out;
}

std::string Group::describe_rank(int group_rank) const {
  const int world = world_rank(group_rank);
  std::string out = "rank " + std::to_string(group_rank);
  if (world != group_rank) out += " (world rank " + std::to_string(world) + ")";
  return out;
}

}  // namespace trellis::ucx
