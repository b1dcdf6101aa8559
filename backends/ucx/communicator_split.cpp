// split(color, key): new communicators from a group, reusing the world's endpoints.
//
// Every rank of the parent contributes (color, key, the lowest context id its process has not
// used) through one all_gather on the parent. From that table every rank computes the same
// answer on its own: its new group (the ranks of its color, ordered by key, ties by parent
// rank), mapped to world ranks, and the new context id, the largest of the contributed ids.
// That id is unused by every member of the parent, so no communicator any of them belongs to
// has it; groups of different colors get the same id, which is harmless, since they share no
// process and so never exchange messages. Every process then marks the id as used.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine.h"
#include "tag_layout.h"
#include "trellis/error.h"
#include "ucx_communicator.h"

namespace trellis::ucx {

std::unique_ptr<Communicator> UcxCommunicator::do_split(int color, int key) {
  const int n = size();
  // Tensors from an allocator, not borrowed locals: if the wait below times out, the exchange
  // stays in flight and may still write its output after this function has returned.
  const Tensor mine = Tensor::empty({3}, DType::i32, engine_->allocator());
  const Tensor gathered =
      Tensor::empty({3 * static_cast<std::int64_t>(n)}, DType::i32, engine_->allocator());
  mine.data<std::int32_t>()[0] = color;
  mine.data<std::int32_t>()[1] = key;
  mine.data<std::int32_t>()[2] = static_cast<std::int32_t>(engine_->next_context());
  all_gather_as("split", mine, gathered)->wait();
  const std::int32_t* table = gathered.data<std::int32_t>();

  std::uint32_t context = 0;
  for (int r = 0; r < n; ++r) {
    context =
        std::max(context, static_cast<std::uint32_t>(table[3 * static_cast<std::size_t>(r) + 2]));
  }
  if (context > tag_layout::kMaxContext) {
    throw CommError("backend ucx: split on " + name() + ": this process has made " +
                    std::to_string(tag_layout::kMaxContext) +
                    " communicators, the most the message tags can tell apart");
  }
  engine_->use_contexts_through(context);
  if (color < 0) return nullptr;

  std::vector<int> members;  // parent ranks of this color, in their new order
  for (int r = 0; r < n; ++r) {
    if (table[3 * static_cast<std::size_t>(r)] == color) members.push_back(r);
  }
  std::stable_sort(members.begin(), members.end(), [table](int a, int b) {
    return table[3 * static_cast<std::size_t>(a) + 1] < table[3 * static_cast<std::size_t>(b) + 1];
  });
  auto group = std::make_shared<Group>();
  group->context = context;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i] == rank()) group->rank = static_cast<int>(i);
    group->world_ranks.push_back(group_->world_rank(members[i]));
  }
  return std::make_unique<UcxCommunicator>(engine_, std::move(group),
                                           name() + "/color " + std::to_string(color), timeout());
}

}  // namespace trellis::ucx
