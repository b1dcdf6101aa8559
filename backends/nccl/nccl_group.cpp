#include "nccl_group.h"

#include <algorithm>

#include "trellis/error.h"

namespace trellis::nccl {

Completion::Completion() {
  check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreate",
             "an operation's completion event");
}

Completion::~Completion() {
  if (event_) cudaEventDestroy(event_);
}

NcclGroup::NcclGroup(ncclComm_t comm, int device, std::chrono::milliseconds timeout)
    : comm_(comm), device_(device), timeout_(timeout) {
  try {
    const std::string what = "making a communicator";
    if (ncclCommUserRank(comm_, &rank_) != ncclSuccess ||
        ncclCommCount(comm_, &size_) != ncclSuccess) {
      throw CommError("backend nccl: ncclCommUserRank/ncclCommCount failed for a new communicator");
    }
    check_cuda(cudaSetDevice(device_), "cudaSetDevice", what);
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate",
               what);
    check_cuda(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming), "cudaEventCreate", what);
    check_cuda(cudaMalloc(&barrier_word_, sizeof(std::int32_t)), "cudaMalloc", what);
  } catch (...) {
    abort("its set-up failed");
    if (barrier_word_) cudaFree(barrier_word_);
    if (ready_) cudaEventDestroy(ready_);
    if (stream_) cudaStreamDestroy(stream_);
    throw;
  }
}

NcclGroup::~NcclGroup() {
  if (comm_) {
    // Let the operations in flight end (ncclCommFinalize), within the timeout; abort past it.
    const auto deadline = Clock::now() + timeout_;
    try {
      settle(comm_, ncclCommFinalize(comm_), "ncclCommFinalize", "closing a communicator",
             deadline);
      ncclCommDestroy(comm_);
      comm_ = nullptr;
    } catch (const std::exception&) {
      abort("it was closed while an operation could not finish");
    }
  }
  cudaFree(barrier_word_);
  cudaEventDestroy(ready_);
  cudaStreamDestroy(stream_);
}

void NcclGroup::check_usable(const std::string& what) const {
  if (comm_ == nullptr) {
    throw CommError("backend nccl: cannot start " + what + ": the communicator was aborted (" +
                    abort_reason_ + "); the run must stop");
  }
}

void NcclGroup::abort(const std::string& reason) noexcept {
  if (comm_ == nullptr) return;
  ncclCommAbort(comm_);
  comm_ = nullptr;
  abort_reason_ = reason;
  for (PendingMessage& message : pending_) message.slot.reset();
  pending_.clear();
}

void NcclGroup::check_async(const std::string& what) {
  if (comm_ == nullptr) return;
  ncclResult_t async = ncclSuccess;
  const ncclResult_t query = ncclCommGetAsyncError(comm_, &async);
  if (query != ncclSuccess) async = query;
  if (async != ncclSuccess && async != ncclInProgress) {
    const std::string problem = describe(async, comm_, "NCCL");
    abort(problem);
    throw CommError("backend nccl: " + problem + " during " + what +
                    " (a peer died or the network failed); the communicator was aborted");
  }
}

void NcclGroup::run(const char* call, const std::string& what,
                    const std::function<ncclResult_t(ncclComm_t, cudaStream_t)>& body,
                    const std::shared_ptr<Completion>& completion) {
  check_cuda(cudaSetDevice(device_), "cudaSetDevice", what);
  check_cuda(cudaEventRecord(ready_, cudaStreamLegacy), "cudaEventRecord", what);
  check_cuda(cudaStreamWaitEvent(stream_, ready_, 0), "cudaStreamWaitEvent", what);
  try {
    settle(comm_, body(comm_, stream_), call, what, Clock::now() + timeout_);
  } catch (const std::exception& error) {
    abort(error.what());  // an enqueue that failed leaves the communicator in an unknown state
    throw;
  }
  check_cuda(cudaEventRecord(completion->event(), stream_), "cudaEventRecord", what);
}

std::shared_ptr<Completion> NcclGroup::enqueue(
    const char* call, const std::string& what,
    const std::function<ncclResult_t(ncclComm_t, cudaStream_t)>& body) {
  check_usable(what);
  flush_messages();
  auto completion = std::make_shared<Completion>();
  run(call, what, body, completion);
  return completion;
}

void NcclGroup::hold(PendingMessage message) {
  message.order = messages_started_++;
  pending_.push_back(std::move(message));
}

void NcclGroup::flush_messages() {
  if (pending_.empty() || comm_ == nullptr) return;
  std::vector<PendingMessage> batch = std::move(pending_);
  pending_.clear();
  std::stable_sort(batch.begin(), batch.end(),
                   [](const PendingMessage& a, const PendingMessage& b) {
                     return a.tag != b.tag ? a.tag < b.tag : a.order < b.order;
                   });
  auto completion = std::make_shared<Completion>();
  const std::string what = std::to_string(batch.size()) + " send/recv";
  run(
      "ncclSend/ncclRecv", what,
      [&](ncclComm_t comm, cudaStream_t stream) {
        ncclResult_t result = ncclGroupStart();
        for (const PendingMessage& m : batch) {
          if (result != ncclSuccess && result != ncclInProgress) break;
          const ncclDataType_t type = m.tensor.dtype() == DType::i32    ? ncclInt32
                                      : m.tensor.dtype() == DType::bf16 ? ncclBfloat16
                                                                        : ncclFloat32;
          const auto count = static_cast<std::size_t>(m.tensor.numel());
          result = m.is_send ? ncclSend(m.tensor.data_ptr(), count, type, m.peer, comm, stream)
                             : ncclRecv(m.tensor.data_ptr(), count, type, m.peer, comm, stream);
        }
        const ncclResult_t end = ncclGroupEnd();
        return result != ncclSuccess && result != ncclInProgress ? result : end;
      },
      completion);
  for (PendingMessage& m : batch) m.slot->completion = completion;
}

}  // namespace trellis::nccl
