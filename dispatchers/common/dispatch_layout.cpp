#include "dispatch_layout.h"

#include <limits>

#include "trellis/error.h"

namespace trellis::dispatch {

std::string dispatcher_label(const DispatcherInit& init, const char* name) {
  const std::string who = std::string(name) + " dispatcher";
  if (!init.expert_group || !init.kernels || !init.allocator) {
    throw Error(who + ": the expert group, kernels and allocator are required");
  }
  return who + " on the " + init.expert_group->name();
}

DispatchCounts exchange_counts(Communicator& group, std::int64_t experts,
                               std::span<const std::int64_t> rows_per_expert,
                               const std::shared_ptr<Allocator>& allocator,
                               const std::string& who) {
  const int size = group.size();
  if (experts <= 0 || experts % size != 0) {
    throw Error(who + ": " + std::to_string(experts) +
                " experts cannot be split over an expert "
                "group of " +
                std::to_string(size) + " ranks");
  }
  if (static_cast<std::int64_t>(rows_per_expert.size()) != experts) {
    throw Error(who + ": exchange_counts got " + std::to_string(rows_per_expert.size()) +
                " counts for " + std::to_string(experts) + " experts");
  }
  Tensor mine = Tensor::empty({experts}, DType::i32, allocator);
  auto* m = mine.data<std::int32_t>();
  for (std::int64_t e = 0; e < experts; ++e) {
    const std::int64_t n = rows_per_expert[static_cast<std::size_t>(e)];
    if (n < 0 || n > std::numeric_limits<std::int32_t>::max()) {
      throw Error(who + ": " + std::to_string(n) + " rows for expert " + std::to_string(e) +
                  " (valid: 0 to 2^31 - 1)");
    }
    m[e] = static_cast<std::int32_t>(n);
  }
  Tensor all = Tensor::empty({size * experts}, DType::i32, allocator);
  group.all_gather(mine, all)->wait();
  DispatchCounts counts;
  counts.group_size = size;
  counts.group_rank = group.rank();
  counts.experts = experts;
  const auto* a = all.data<std::int32_t>();
  counts.rows.assign(a, a + size * experts);
  return counts;
}

std::int64_t sent_offset(const DispatchCounts& counts, int source, std::int64_t expert) {
  std::int64_t at = 0;
  for (std::int64_t e = 0; e < expert; ++e) at += counts.sent_by(source, e);
  return at;
}

std::vector<ReceivedBlock> received_blocks(const DispatchCounts& counts) {
  const std::int64_t L = counts.local_experts(), first = counts.first_local_expert();
  // Where each source's run starts when the rows are ordered by source.
  std::vector<std::int64_t> source_at(static_cast<std::size_t>(counts.group_size), 0);
  for (int s = 1; s < counts.group_size; ++s) {
    source_at[s] = source_at[s - 1];
    for (std::int64_t l = 0; l < L; ++l) source_at[s] += counts.sent_by(s - 1, first + l);
  }
  std::vector<ReceivedBlock> blocks;
  std::int64_t at = 0;
  for (std::int64_t l = 0; l < L; ++l) {
    for (int s = 0; s < counts.group_size; ++s) {
      const std::int64_t n = counts.sent_by(s, first + l);
      const std::int64_t in_run = sent_offset(counts, s, first + l) - sent_offset(counts, s, first);
      blocks.push_back({s, l, at, source_at[s] + in_run, n});
      at += n;
    }
  }
  return blocks;
}

void check_rows(const Tensor& rows, std::int64_t expected, const std::string& who,
                const char* what) {
  const bool ok = rows.defined() && rows.dtype() == DType::f32 && rows.shape().rank() == 2 &&
                  rows.shape()[0] == expected && rows.is_contiguous();
  if (!ok) {
    throw Error(who + ": " + what + " must be a contiguous f32 [" + std::to_string(expected) +
                ", C] tensor of rows, got " +
                (rows.defined() ? rows.str() : std::string("an undefined tensor")));
  }
}

CollectiveCall exchange_counts_cost(const DispatchCostQuery& q) {
  return {CollectiveKind::all_gather, TensorSubgroup::whole,
          4.0 * static_cast<double>(q.experts) * q.expert, 1};
}

}  // namespace trellis::dispatch
