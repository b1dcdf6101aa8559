// The dispatcher plugins' shared bookkeeping (trellis/token_dispatcher.h): every rank's rows per
// expert, exchanged over the expert group, and where each (source rank, local expert) block of
// rows sits in the rows a source sent and in the rows a rank's experts received.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "trellis/dispatch_cost.h"
#include "trellis/token_dispatcher.h"

namespace trellis::dispatch {

// The dispatcher's name for messages ("alltoall dispatcher on the expert group [0, 1]"), after
// checking that `init` holds the group, kernels and allocator.
std::string dispatcher_label(const DispatcherInit& init, const char* name);

// Collective over `group`: all-gathers every rank's `rows_per_expert` (E entries; checked
// against `experts` and the group size, each count within int32 as it travels).
DispatchCounts exchange_counts(Communicator& group, std::int64_t experts,
                               std::span<const std::int64_t> rows_per_expert,
                               const std::shared_ptr<Allocator>& allocator, const std::string& who);

// What exchange_counts costs a forward (trellis/dispatch_cost.h): an all-gather of E int32
// counts from each rank of the group.
CollectiveCall exchange_counts_cost(const DispatchCostQuery& query);

// The first row of expert `expert`'s block among the rows `source` sent (sorted by expert).
std::int64_t sent_offset(const DispatchCounts& counts, int source, std::int64_t expert);

// One block of rows that source `source` sent to this rank's local expert `local`: where it
// starts in the rows this rank received (grouped by local expert, then source) and how many.
struct ReceivedBlock {
  int source;
  std::int64_t local;
  std::int64_t received_at;   // in dispatch's output
  std::int64_t by_source_at;  // in the same rows ordered by source, then local expert
  std::int64_t rows;
};
// Every block, in dispatch's output order (local expert, then source).
std::vector<ReceivedBlock> received_blocks(const DispatchCounts& counts);

// Throws Error naming `who` unless `rows` is a contiguous [expected, C] f32 tensor.
void check_rows(const Tensor& rows, std::int64_t expected, const std::string& who,
                const char* what);

}  // namespace trellis::dispatch
