// A communicator that stands in front of another one (`inner`): what the group is comes from the
// inner one, and core's name and timeout, set on this one, follow to it before each call, so the
// inner backend's own messages and waits name the group as core does. The base of core's
// wrappers: the plugin boundary (plugin/guarded_communicator) and the flight record
// (comm/flight_recording_communicator), which add what happens around each operation.
#pragma once

#include <memory>

#include "trellis/comm.h"

namespace trellis {

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

  // Our public operations checked the arguments against the inner device and tags; what the
  // inner backend moves and reduces it checks itself, when called through its own public
  // operations (its moves() and reduces() are not ours to ask).
  bool moves(DType) const override { return true; }
  bool reduces(DType, ReduceOp) const override { return true; }

  // The inner communicator, with this one's name and timeout.
  Communicator& synced() {
    if (inner_->name() != name()) inner_->set_name(name());
    if (inner_->timeout() != timeout()) inner_->set_timeout(timeout());
    return *inner_;
  }
  const std::shared_ptr<Communicator>& inner() const noexcept { return inner_; }
  // Lets the inner communicator go now: for a wrapper whose own members must outlive it (the
  // plugin's library), called from its destructor.
  void release_inner() noexcept { inner_.reset(); }

 private:
  std::shared_ptr<Communicator> inner_;
};

}  // namespace trellis
