// NcclCommunicator: a group of ranks over NCCL, one GPU per rank; every operation is an NCCL call
// on the group's own stream, ordered after compute with events (nccl_group.h).
//
// The world communicator meets its peers through the run's store: rank 0 makes the NCCL unique
// id and sets it, the others get it, and every rank initialises its communicator non-blocking,
// polled up to the timeout. split() is ncclCommSplit. Communicator's public operations check the
// arguments (comm.h): tensors on this communicator's GPU (device or managed memory that says
// cuda:N); f32, i32 and bf16 move, f32 and i32 reduce (bf16 reductions and avg over i32 are
// UnsupportedError: mixed precision reduces fp32 gradients, an integer average would truncate).
#pragma once

#include <memory>
#include <optional>
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
  std::optional<Device> device() const override { return device_; }

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
  WorkPtr do_send(const Tensor& input, int peer, int tag) override;
  WorkPtr do_recv(const Tensor& output, int peer, int tag) override;
  std::unique_ptr<Communicator> do_split(int color, int key) override;

 private:
  NcclCommunicator(std::shared_ptr<NcclGroup> group, Device device);

  // "all_reduce (sum) of 7 f32 elements in group 'world' (4 ranks)"
  std::string describe(const std::string& op, const Tensor& tensor) const;
  std::string describe_group() const;
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
