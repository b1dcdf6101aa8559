// NcclWork: an operation of the nccl backend in flight. It keeps the operation's tensors and its
// group alive until it has completed; test() polls the completion event, and wait() polls it with
// the group's asynchronous error check and the deadline (nccl_group.h says what a failure does).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nccl_group.h"
#include "trellis/comm.h"

namespace trellis::nccl {

class NcclWork final : public Work {
 public:
  // An operation that ends at `completion`, or a held-back send or recv whose completion arrives
  // in `slot` when the group posts it (then `completion` is null).
  NcclWork(std::shared_ptr<NcclGroup> group, std::shared_ptr<Completion> completion,
           std::shared_ptr<MessageSlot> slot, std::vector<Tensor> tensors, std::string what,
           std::string waiting_for);

  bool test() override;
  void wait_for(std::chrono::milliseconds timeout) override;

 private:
  bool poll();

  std::shared_ptr<NcclGroup> group_;
  std::shared_ptr<Completion> completion_;
  std::shared_ptr<MessageSlot> slot_;
  std::vector<Tensor> tensors_;
  std::string what_;         // "recv of 7 f32 elements from rank 1 in group 'world' (2 ranks)"
  std::string waiting_for_;  // for the timeout's message: who has not done their part
  bool done_ = false;
};

}  // namespace trellis::nccl
