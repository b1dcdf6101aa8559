// Expert parallelism's token dispatch (plugin kind "dispatcher", chosen by [parallel]
// expert_dispatcher; ABI 2.4).
//
// Under [parallel] expert = ep, the ranks of an expert group (ep consecutive data ranks with the
// same tensor and pipeline coordinates) split every MoE block's E experts: group rank j holds
// experts [j L, (j + 1) L), L = E / ep. Each rank routes its own tokens; a TokenDispatcher moves
// each kept token choice to the rank holding its expert and brings the expert's output back.
//
// The MoE MLP hands the dispatcher one row per kept choice, sorted by global expert (expert 0's
// first; within an expert, the rank's own order), with how many rows each of the E experts gets.
// `dispatch` returns, on every rank, the rows the whole group sent to its L experts, grouped by
// local expert and, within one, by source rank (source 0's first, each in the order it sent).
// `combine` is dispatch's adjoint: given one row per dispatched row (an expert's output, or the
// gradient of its input), it returns one row per row the rank sent, in the order it sent them.
// Both are linear, so backward needs nothing else: the gradient of combine is dispatch, and that
// of dispatch is combine.
//
// Collective over the expert group: every rank calls exchange_counts, dispatch and combine for
// the same blocks and microbatches in the same order (ranks with no rows to send still call).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "trellis/comm.h"
#include "trellis/config.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

// How many rows every rank of the expert group sends to every expert, for one dispatch.
struct DispatchCounts {
  int group_size = 1;              // ep
  int group_rank = 0;              // this rank's place in the expert group
  std::int64_t experts = 0;        // E, over the whole group
  std::vector<std::int64_t> rows;  // rows[s * E + e]: rows group rank s sends to expert e

  std::int64_t local_experts() const noexcept { return experts / group_size; }
  std::int64_t first_local_expert() const noexcept { return group_rank * local_experts(); }
  std::int64_t sent_by(int source, std::int64_t expert) const noexcept {
    return rows[static_cast<std::size_t>(source * experts + expert)];
  }
  // Rows group rank `source` sends in all.
  std::int64_t rows_sent_by(int source) const noexcept {
    std::int64_t n = 0;
    for (std::int64_t e = 0; e < experts; ++e) n += sent_by(source, e);
    return n;
  }
  // Rows this rank's local expert `local` receives from the whole group.
  std::int64_t rows_for_local_expert(std::int64_t local) const noexcept {
    std::int64_t n = 0;
    for (int s = 0; s < group_size; ++s) n += sent_by(s, first_local_expert() + local);
    return n;
  }
  std::int64_t rows_received() const noexcept {
    std::int64_t n = 0;
    for (std::int64_t l = 0; l < local_experts(); ++l) n += rows_for_local_expert(l);
    return n;
  }
};

class TokenDispatcher {
 public:
  virtual ~TokenDispatcher() = default;
  // Every rank's rows per expert, from this rank's `rows_per_expert` (E entries).
  virtual DispatchCounts exchange_counts(std::span<const std::int64_t> rows_per_expert) = 0;
  // rows [rows_sent_by(rank), C] -> [rows_received(), C], as the header says.
  virtual Tensor dispatch(const DispatchCounts& counts, const Tensor& rows) = 0;
  // expert_rows [rows_received(), C] -> [rows_sent_by(rank), C]: dispatch's adjoint.
  virtual Tensor combine(const DispatchCounts& counts, const Tensor& expert_rows) = 0;
};

struct DispatcherInit {
  Communicator* expert_group = nullptr;  // its rank() is DispatchCounts::group_rank
  std::int64_t experts = 0;              // E; a multiple of the group's size
  Kernels* kernels = nullptr;
  std::shared_ptr<Allocator> allocator;
  const Options* options = nullptr;  // the plugin's [dispatcher.<name>] table
};

}  // namespace trellis
