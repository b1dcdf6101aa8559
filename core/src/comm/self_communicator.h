// SelfCommunicator: the communicator of a group of one rank.
//
// Core uses it for every group of size 1, whatever the backend: the world of a one-rank run, and
// the tensor, data or pipeline group a layout leaves at size 1. Nothing travels: collectives are
// copies from input to output (nothing at all when they are the same tensor), avg is the value
// itself, and every operation is complete when it returns (completed_work()). send() and recv()
// have no peer and fail with UnsupportedError.
//
// Arguments are checked as a real backend would check them (comm.h): contiguous tensors, equal
// dtypes, the sizes each operation needs, root 0, so code that runs at size 1 in a test fails the
// same way it would on a bigger group.
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

  WorkPtr all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr all_gather(const Tensor& input, const Tensor& output) override;
  WorkPtr reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr broadcast(const Tensor& buffer, int root) override;
  WorkPtr reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override;
  WorkPtr all_to_all(const Tensor& input, const Tensor& output) override;
  WorkPtr barrier() override;
  // Throw UnsupportedError: a group of one has no peer to talk to.
  WorkPtr send(const Tensor& input, int peer, int tag) override;
  WorkPtr recv(const Tensor& output, int peer, int tag) override;

  // color >= 0: another SelfCommunicator (same timeout); negative color: nullptr.
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  // Checks `tensor` is defined and contiguous; `role` names it ("input of all_reduce").
  void check_tensor(const Tensor& tensor, const char* operation, const char* role) const;
  // Checks both tensors, equal dtypes and element counts, then copies input to output.
  WorkPtr copy(const Tensor& input, const Tensor& output, const char* operation);
  void check_root(int root, const char* operation) const;
};

}  // namespace trellis
