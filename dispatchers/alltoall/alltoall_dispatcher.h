// All-to-all token dispatch (Megatron-LM's alltoall dispatcher): the rows a rank sends are sorted
// by expert, so the rows for each peer's experts are one contiguous run; one all_to_all_v moves
// them (a count per peer), and the received runs, which arrive source by source, are regrouped
// by local expert. combine regroups back and runs the reverse all_to_all_v. Each row crosses the
// network once each way: the traffic is the rows themselves.
#pragma once

#include <memory>
#include <vector>

#include "trellis/token_dispatcher.h"

namespace trellis::dispatch {

class AllToAllDispatcher final : public TokenDispatcher {
 public:
  explicit AllToAllDispatcher(const DispatcherInit& init);

  DispatchCounts exchange_counts(std::span<const std::int64_t> rows_per_expert) override;
  Tensor dispatch(const DispatchCounts& counts, const Tensor& rows) override;
  Tensor combine(const DispatchCounts& counts, const Tensor& expert_rows) override;

 private:
  // Elements this rank sends to each peer, and receives from each, in a dispatch of rows of
  // `width` elements (combine swaps them).
  std::vector<std::int64_t> to_peers(const DispatchCounts& counts, std::int64_t width) const;
  std::vector<std::int64_t> from_peers(const DispatchCounts& counts, std::int64_t width) const;

  DispatcherInit init_;
  std::string who_;
};

}  // namespace trellis::dispatch
