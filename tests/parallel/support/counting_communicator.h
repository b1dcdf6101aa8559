// A Communicator that forwards every operation to another one and counts what it moves: how many
// calls of each collective, and the bytes a bandwidth-optimal algorithm moves through each rank's
// link for them — nccl-tests' "bus bytes", with S the buffer size (for all-gather the output, for
// reduce-scatter the input) and p the group size:
//   all_reduce 2(p-1)/p S;  all_gather, reduce_scatter (p-1)/p S;  broadcast, reduce S
// (and nothing in a group of one). Used to measure the traffic of a layer family's tensor group.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "trellis/comm.h"

namespace trellis::test {

class CountingCommunicator final : public Communicator {
 public:
  enum Op : std::uint8_t {
    all_reduce_op,
    all_gather_op,
    reduce_scatter_op,
    broadcast_op,
    reduce_op,
    other_op,
    kOps
  };
  static const char* op_name(Op op);

  explicit CountingCommunicator(Communicator* inner);

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  const char* backend() const override { return inner_->backend(); }
  std::optional<Device> device() const override { return inner_->device(); }
  int max_tag() const override { return inner_->max_tag(); }

  std::int64_t calls(Op op) const { return calls_[op]; }
  double bus_bytes(Op op) const { return bytes_[op]; }
  double bus_bytes() const;
  void reset();

 protected:
  // The inner communicator's public operations check again, with its own capabilities.
  bool moves(DType) const override { return true; }
  bool reduces(DType, ReduceOp) const override { return true; }

  WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_all_gather(const Tensor& input, const Tensor& output) override;
  WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_broadcast(const Tensor& buffer, int root) override;
  WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override;
  WorkPtr do_all_to_all(const Tensor& input, const Tensor& output) override;
  WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                          const Tensor& output, std::span<const std::int64_t> recv_counts) override;
  WorkPtr do_barrier() override;
  WorkPtr do_send(const Tensor& input, int peer, int tag) override;
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override;

 private:
  void count(Op op, std::size_t buffer_bytes, double factor);

  Communicator* inner_;
  std::array<std::int64_t, kOps> calls_{};
  std::array<double, kOps> bytes_{};
};

}  // namespace trellis::test
