#include "nccl_work.h"

#include "trellis/error.h"

namespace trellis::nccl {

NcclWork::NcclWork(std::shared_ptr<NcclGroup> group, std::shared_ptr<Completion> completion,
                   std::shared_ptr<MessageSlot> slot, std::vector<Tensor> tensors, std::string what,
                   std::string waiting_for)
    : Work(group->timeout()),
      group_(std::move(group)),
      completion_(std::move(completion)),
      slot_(std::move(slot)),
      tensors_(std::move(tensors)),
      what_(std::move(what)),
      waiting_for_(std::move(waiting_for)) {}

bool NcclWork::poll() {
  if (done_) return true;
  if (!completion_ && slot_) {
    if (!slot_->completion) {
      group_->check_usable(what_);
      group_->flush_messages();  // its peer may be waiting for this message
    }
    completion_ = slot_->completion;
  }
  if (completion_) {
    const cudaError_t status = cudaEventQuery(completion_->event());
    if (status == cudaSuccess) {
      done_ = true;
      tensors_.clear();
      return true;
    }
    if (status != cudaErrorNotReady) check_cuda(status, "cudaEventQuery", what_);
  }
  group_->check_usable(what_);
  group_->check_async(what_);
  return false;
}

bool NcclWork::test() {
  return poll();
}

void NcclWork::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (int polls = 0;; ++polls) {
    if (poll()) return;
    if (Clock::now() >= deadline) {
      const std::string message = "backend nccl: timed out after " +
                                  std::to_string(timeout.count()) + " ms waiting for " + what_ +
                                  ". " + waiting_for_ +
                                  " The communicator was aborted (ncclCommAbort ends its "
                                  "operations): its later operations fail, and the run must stop.";
      group_->abort("an operation timed out: " + what_);
      throw TimeoutError(message);
    }
    nap(polls);
  }
}

}  // namespace trellis::nccl
