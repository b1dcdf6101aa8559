// A communicator that stands in front of another one (`inner`): what the group is comes from the
// inner one, and core's name and timeout, set on this one, follow to it before each call, so the
// inner backend's own messages and waits name the group as core does. The base of core's
// wrappers: the plugin boundary (plugin/guarded_communicator) and the flight record
// (comm/flight_recording_communicator), which add what happens around each operation.
#pragma once

#include <memory>

#include "trellis/comm.h"

namespace trellis {

// A communicator's operations without the public operations' checks, for a wrapper whose own
// public operation has just made them (comm.h, "Arguments"): calling the wrapped communicator's
// public operation would check the same arguments again, at every layer of wrapping, on every
// call of a small message's latency.
class UncheckedCalls {
 public:
  explicit UncheckedCalls(Communicator& comm) noexcept : comm_(comm) {}

  WorkPtr all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) {
    return comm_.do_all_reduce(input, output, op);
  }
  WorkPtr all_gather(const Tensor& input, const Tensor& output) {
    return comm_.do_all_gather(input, output);
  }
  WorkPtr reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) {
    return comm_.do_reduce_scatter(input, output, op);
  }
  WorkPtr broadcast(const Tensor& buffer, int root) { return comm_.do_broadcast(buffer, root); }
  WorkPtr reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) {
    return comm_.do_reduce(input, output, op, root);
  }
  WorkPtr all_to_all(const Tensor& input, const Tensor& output) {
    return comm_.do_all_to_all(input, output);
  }
  WorkPtr all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                       const Tensor& output, std::span<const std::int64_t> recv_counts) {
    return comm_.do_all_to_all_v(input, send_counts, output, recv_counts);
  }
  WorkPtr barrier() { return comm_.do_barrier(); }
  WorkPtr send(const Tensor& input, int peer, int tag) { return comm_.do_send(input, peer, tag); }
  WorkPtr recv(const Tensor& output, int peer, int tag) { return comm_.do_recv(output, peer, tag); }

  // What the wrapped communicator moves and reduces, for the wrapper's own checks.
  bool moves(DType dtype) const { return comm_.moves(dtype); }
  bool reduces(DType dtype, ReduceOp op) const { return comm_.reduces(dtype, op); }

 private:
  Communicator& comm_;
};

class ForwardingCommunicator : public Communicator {
 public:
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  const char* backend() const override { return inner_->backend(); }
  std::optional<Device> device() const override { return inner_->device(); }
  int max_tag() const override { return inner_->max_tag(); }

 protected:
  explicit ForwardingCommunicator(std::shared_ptr<Communicator> inner) : inner_(std::move(inner)) {
    set_name(inner_->name());
    set_timeout(inner_->timeout());
  }

  // Our public operations check the arguments against the inner communicator's device, tags,
  // dtypes and reductions, and pass them on unchecked (synced_calls()).
  bool moves(DType dtype) const override { return UncheckedCalls(*inner_).moves(dtype); }
  bool reduces(DType dtype, ReduceOp op) const override {
    return UncheckedCalls(*inner_).reduces(dtype, op);
  }

  // The inner communicator, with this one's name and timeout.
  Communicator& synced() {
    if (inner_->name() != name()) inner_->set_name(name());
    if (inner_->timeout() != timeout()) inner_->set_timeout(timeout());
    return *inner_;
  }
  // The inner communicator's operations, synced() and without the checks our public operation
  // has made.
  UncheckedCalls synced_calls() { return UncheckedCalls(synced()); }
  const std::shared_ptr<Communicator>& inner() const noexcept { return inner_; }
  // Lets the inner communicator go now: for a wrapper whose own members must outlive it (the
  // plugin's library), called from its destructor.
  void release_inner() noexcept { inner_.reset(); }

 private:
  std::shared_ptr<Communicator> inner_;
};

}  // namespace trellis
