// SelfCommunicator: the communicator of a group of one rank.
//
// Core uses it for every group of size 1, whatever the backend: the world of a one-rank run, and
// the tensor, data or pipeline group a layout leaves at size 1. Nothing travels: collectives are
// copies from input to output (nothing at all when they are the same tensor), avg is the value
// itself, and every operation is complete when it returns (completed_work()). send() and recv()
// have no peer and fail with UnsupportedError.
//
// Arguments are checked by comm.h's public operations as for every backend (contiguous tensors,
// equal dtypes, the sizes each operation needs, root 0), so code that runs at size 1 in a test
// fails the same way it would on a bigger group. It takes tensors on any device (the tensors of
// one call on the same one) and reduces every dtype with every op: over one rank each is exact.
#pragma once

#include <chrono>
#include <memory>

#include "trellis/comm.h"

namespace trellis {

class SelfCommunicator final : public Communicator {
 public:
  explicit SelfCommunicator(std::chrono::milliseconds timeout = std::chrono::minutes(5));

  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "self"; }
  std::optional<Device> device() const override { return std::nullopt; }

 protected:
  WorkPtr do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_all_gather(const Tensor& input, const Tensor& output) override;
  WorkPtr do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr do_broadcast(const Tensor& buffer, int root) override;
  WorkPtr do_reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override;
  WorkPtr do_all_to_all(const Tensor& input, const Tensor& output) override;
  WorkPtr do_all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                          const Tensor& output, std::span<const std::int64_t> recv_counts) override;
  WorkPtr do_barrier() override;
  // Throw UnsupportedError: a group of one has no peer to talk to.
  WorkPtr do_send(const Tensor& input, int peer, int tag) override;
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override;

  // color >= 0: another SelfCommunicator (same timeout); negative color: nullptr.
  std::unique_ptr<Communicator> do_split(int color, int key) override;

  bool reduces(DType, ReduceOp) const override { return true; }

 private:
  // Copies input to output (nothing in place).
  WorkPtr copy(const Tensor& input, const Tensor& output, const char* operation);
};

}  // namespace trellis
