#include "allgather_dispatcher.h"

#include <algorithm>

#include "dispatch_layout.h"
#include "trellis/error.h"

namespace trellis::dispatch {

namespace {

// The rows of the group's largest sender: every rank's part of the gathered buffer.
std::int64_t part_rows(const DispatchCounts& counts) {
  std::int64_t most = 0;
  for (int s = 0; s < counts.group_size; ++s) most = std::max(most, counts.rows_sent_by(s));
  return most;
}

// Where source s's rows for local expert `local` start in the gathered buffer.
std::int64_t gathered_at(const DispatchCounts& counts, const ReceivedBlock& b, std::int64_t part) {
  return b.source * part + sent_offset(counts, b.source, counts.first_local_expert() + b.local);
}

}  // namespace

AllGatherDispatcher::AllGatherDispatcher(const DispatcherInit& init)
    : init_(init), who_(dispatcher_label(init, "allgather")) {}

DispatchCounts AllGatherDispatcher::exchange_counts(std::span<const std::int64_t> rows_per_expert) {
  return dispatch::exchange_counts(*init_.expert_group, init_.experts, rows_per_expert,
                                   init_.allocator, who_);
}

Tensor AllGatherDispatcher::dispatch(const DispatchCounts& counts, const Tensor& rows) {
  const std::int64_t mine = counts.rows_sent_by(counts.group_rank);
  check_rows(rows, mine, who_, "dispatch's rows");
  const std::int64_t C = rows.shape()[1];
  Kernels& k = *init_.kernels;
  Tensor out = Tensor::empty({counts.rows_received(), C}, DType::f32, init_.allocator);
  const std::int64_t part = part_rows(counts);
  if (part == 0) return out;  // nobody sends anything (every rank sees the same counts)
  Tensor padded = Tensor::empty({part, C}, DType::f32, init_.allocator);
  k.fill(padded, 0.0f);
  if (mine > 0) k.copy(rows, padded.narrow(0, 0, mine));
  Tensor gathered = Tensor::empty({static_cast<std::int64_t>(counts.group_size) * part, C},
                                  DType::f32, init_.allocator);
  init_.expert_group->all_gather(padded, gathered)->wait();
  for (const ReceivedBlock& b : received_blocks(counts)) {
    if (b.rows == 0) continue;
    k.copy(gathered.narrow(0, gathered_at(counts, b, part), b.rows),
           out.narrow(0, b.received_at, b.rows));
  }
  return out;
}

Tensor AllGatherDispatcher::combine(const DispatchCounts& counts, const Tensor& expert_rows) {
  check_rows(expert_rows, counts.rows_received(), who_, "combine's rows");
  const std::int64_t C = expert_rows.shape()[1];
  const std::int64_t mine = counts.rows_sent_by(counts.group_rank);
  Kernels& k = *init_.kernels;
  const std::int64_t part = part_rows(counts);
  Tensor out = Tensor::empty({mine, C}, DType::f32, init_.allocator);
  if (part == 0) return out;
  Tensor scattered = Tensor::empty({static_cast<std::int64_t>(counts.group_size) * part, C},
                                   DType::f32, init_.allocator);
  k.fill(scattered, 0.0f);
  for (const ReceivedBlock& b : received_blocks(counts)) {
    if (b.rows == 0) continue;
    k.copy(expert_rows.narrow(0, b.received_at, b.rows),
           scattered.narrow(0, gathered_at(counts, b, part), b.rows));
  }
  Tensor own = Tensor::empty({part, C}, DType::f32, init_.allocator);
  init_.expert_group->reduce_scatter(scattered, own, ReduceOp::sum)->wait();
  if (mine > 0) k.copy(own.narrow(0, 0, mine), out);
  return out;
}

}  // namespace trellis::dispatch
