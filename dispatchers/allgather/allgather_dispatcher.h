// All-gather token dispatch (Megatron-LM's allgather dispatcher, its simple alternative to
// all-to-all): every rank all-gathers the expert group's rows (each rank's padded to the group's
// largest count, as all_gather wants equal parts) and keeps the blocks for its own experts.
// combine is its adjoint: each rank puts its experts' outputs where their rows came from in a
// zeroed buffer of the whole group's rows, and a reduce-scatter hands every rank the sum for its
// own rows — exactly one rank wrote each row, so the sum is that row, bit for bit. Each rank
// receives (ep - 1) times the rows it needs: simpler and more traffic than alltoall.
#pragma once

#include <memory>

#include "trellis/token_dispatcher.h"

namespace trellis::dispatch {

class AllGatherDispatcher final : public TokenDispatcher {
 public:
  explicit AllGatherDispatcher(const DispatcherInit& init);

  DispatchCounts exchange_counts(std::span<const std::int64_t> rows_per_expert) override;
  Tensor dispatch(const DispatchCounts& counts, const Tensor& rows) override;
  Tensor combine(const DispatchCounts& counts, const Tensor& expert_rows) override;

 private:
  DispatcherInit init_;
  std::string who_;
};

}  // namespace trellis::dispatch
