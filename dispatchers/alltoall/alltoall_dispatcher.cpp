#include "alltoall_dispatcher.h"

#include "dispatch_layout.h"
#include "trellis/error.h"

namespace trellis::dispatch {

AllToAllDispatcher::AllToAllDispatcher(const DispatcherInit& init)
    : init_(init), who_(dispatcher_label(init, "alltoall")) {}

DispatchCounts AllToAllDispatcher::exchange_counts(std::span<const std::int64_t> rows_per_expert) {
  return dispatch::exchange_counts(*init_.expert_group, init_.experts, rows_per_expert,
                                   init_.allocator, who_);
}

std::vector<std::int64_t> AllToAllDispatcher::to_peers(const DispatchCounts& counts,
                                                       std::int64_t width) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(counts.group_size), 0);
  const std::int64_t L = counts.local_experts();
  for (std::int64_t e = 0; e < counts.experts; ++e)
    out[static_cast<std::size_t>(e / L)] += counts.sent_by(counts.group_rank, e) * width;
  return out;
}

std::vector<std::int64_t> AllToAllDispatcher::from_peers(const DispatchCounts& counts,
                                                         std::int64_t width) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(counts.group_size), 0);
  for (const ReceivedBlock& b : received_blocks(counts))
    out[static_cast<std::size_t>(b.source)] += b.rows * width;
  return out;
}

Tensor AllToAllDispatcher::dispatch(const DispatchCounts& counts, const Tensor& rows) {
  check_rows(rows, counts.rows_sent_by(counts.group_rank), who_, "dispatch's rows");
  const std::int64_t C = rows.shape()[1];
  const std::int64_t received = counts.rows_received();
  // The peers' runs arrive source by source, each sorted by local expert.
  Tensor by_source = Tensor::empty({received, C}, DType::f32, init_.allocator);
  init_.expert_group->all_to_all_v(rows, to_peers(counts, C), by_source, from_peers(counts, C))
      ->wait();
  Tensor out = Tensor::empty({received, C}, DType::f32, init_.allocator);
  for (const ReceivedBlock& b : received_blocks(counts)) {
    if (b.rows == 0) continue;
    init_.kernels->copy(by_source.narrow(0, b.by_source_at, b.rows),
                        out.narrow(0, b.received_at, b.rows));
  }
  return out;
}

Tensor AllToAllDispatcher::combine(const DispatchCounts& counts, const Tensor& expert_rows) {
  check_rows(expert_rows, counts.rows_received(), who_, "combine's rows");
  const std::int64_t C = expert_rows.shape()[1];
  // Regroup source by source, then the reverse of dispatch's exchange.
  Tensor by_source = Tensor::empty({counts.rows_received(), C}, DType::f32, init_.allocator);
  for (const ReceivedBlock& b : received_blocks(counts)) {
    if (b.rows == 0) continue;
    init_.kernels->copy(expert_rows.narrow(0, b.received_at, b.rows),
                        by_source.narrow(0, b.by_source_at, b.rows));
  }
  Tensor out =
      Tensor::empty({counts.rows_sent_by(counts.group_rank), C}, DType::f32, init_.allocator);
  init_.expert_group->all_to_all_v(by_source, from_peers(counts, C), out, to_peers(counts, C))
      ->wait();
  return out;
}

}  // namespace trellis::dispatch
