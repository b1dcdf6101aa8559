// NcclCommunicator: a group of ranks over NCCL, one GPU per rank; every operation is an NCCL call
// on the group's own stream, ordered after compute with events (nccl_group.h).
//
// The world communicator meets its peers through the run's store: rank 0 makes the NCCL unique
// id and sets it, the others get it, and every rank initialises its communicator non-blocking,
// polled up to the timeout. split() is ncclCommSplit. Tensors must be contiguous, in memory the
// communicator's GPU can use (device or managed memory) and say cuda:N; f32, i32 and bf16 move,
// f32 and i32 reduce (comm.h's refusals: bf16 reductions and avg over i32 are UnsupportedError).
#pragma once

#include <memory>
#include <string>

#include "nccl_group.h"
#include "trellis/comm.h"

namespace trellis::nccl {

class NcclCommunicator final : public Communicator {
 public:
  static std::unique_ptr<NcclCommunicator> make_world(const CommInit& init);

  int rank() const override { return group_->rank(); }
  int size() const override { return group_->size(); }
  const char* backend() const override { return "nccl"; }

  WorkPtr all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr all_gather(const Tensor& input, const Tensor& output) override;
  WorkPtr reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) override;
  WorkPtr broadcast(const Tensor& buffer, int root) override;
  WorkPtr reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) override;
  WorkPtr all_to_all(const Tensor& input, const Tensor& output) override;
  WorkPtr barrier() override;
  WorkPtr send(const Tensor& input, int peer, int tag) override;
  WorkPtr recv(const Tensor& output, int peer, int tag) override;
  std::unique_ptr<Communicator> split(int color, int key) override;

 private:
  NcclCommunicator(std::shared_ptr<NcclGroup> group, Device device);

  // "all_reduce (sum) of 7 f32 elements in group 'world' (4 ranks)"
  std::string describe(const std::string& op, const Tensor& tensor) const;
  std::string describe_group() const;
  // Checks a tensor argument of `op`: defined, contiguous, on a GPU, f32/i32/bf16.
  void check_tensor(const std::string& op, const char* name, const Tensor& t) const;
  // Refuses reductions NCCL could do but comm.h's contract refuses (bf16, avg over i32).
  void check_reduction(const char* op, DType dtype, ReduceOp reduce) const;
  void check_root(const std::string& op, int root) const;
  void check_peer(const std::string& op, int peer) const;
  // Starts a collective: `body` is the NCCL call; the Work keeps `a` and `b`.
  WorkPtr start(const char* call, const std::string& what, const Tensor& a, const Tensor& b,
                const std::function<ncclResult_t(ncclComm_t, cudaStream_t)>& body);
  // A send or recv, held back by the group until one of them is waited for (nccl_group.h).
  WorkPtr post_message(bool is_send, const Tensor& tensor, int peer, int tag);
  void sync_timeout() const { group_->set_timeout(timeout()); }

  std::shared_ptr<NcclGroup> group_;
  Device device_;
  int splits_ = 0;  // numbers split() calls, for names
};

}  // namespace trellis::nccl
