// NcclGroup: one NCCL communicator with its stream, shared by the NcclCommunicator that made it
// and by the Works of its operations (so a Work may outlive its communicator safely).
//
// Ordering. Compute runs on the device's legacy default stream (core's CUDA kernels). Every
// operation records an event there and makes the group's own non-blocking stream wait for it
// before the NCCL call, so the operation sees everything computed before it was started; its
// completion is another event, on the group's stream, which Work::test() and wait() poll.
//
// Point-to-point. NCCL pairs the sends and receives between two ranks by their order and has no
// tags, and a lone send blocks its stream until the peer receives. So send() and recv() are held
// back and posted together, as one NCCL group, when one of their Works is tested or waited for or
// another operation starts: messages started before a wait never block each other. Within such
// a batch they are posted ordered by tag (then by the order they were started), so the messages
// of one pair with different tags meet as long as both sides post them before their first wait.
//
// Failure. A wait that outlives its timeout, or an asynchronous NCCL error (a peer that died, a
// network failure), aborts the communicator (ncclCommAbort, which also ends its kernels): every
// later operation of the group fails with a CommError saying why. Nothing waits forever: the
// destructor finalises the communicator within the timeout and aborts it past that.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nccl_call.h"
#include "trellis/tensor.h"

namespace trellis::nccl {

// The end of one or more operations started together: an event on the group's stream.
class Completion {
 public:
  Completion();
  ~Completion();
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;
  cudaEvent_t event() const noexcept { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

// Where a held-back send or recv learns its Completion once it has been posted.
struct MessageSlot {
  std::shared_ptr<Completion> completion;
};

struct PendingMessage {
  bool is_send = false;
  Tensor tensor;
  int peer = 0;
  int tag = 0;
  std::uint64_t order = 0;
  std::shared_ptr<MessageSlot> slot;
};

class NcclGroup {
 public:
  // Takes ownership of `comm` (settled); makes the group's stream on `device`.
  NcclGroup(ncclComm_t comm, int device, std::chrono::milliseconds timeout);
  ~NcclGroup();
  NcclGroup(const NcclGroup&) = delete;
  NcclGroup& operator=(const NcclGroup&) = delete;

  ncclComm_t comm() const noexcept { return comm_; }
  int device() const noexcept { return device_; }
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }
  // A device word for barrier()'s all_reduce.
  std::int32_t* barrier_word() const noexcept { return barrier_word_; }

  // Throws CommError when the group was aborted.
  void check_usable(const std::string& what) const;
  bool aborted() const noexcept { return comm_ == nullptr; }
  // Aborts the NCCL communicator (its kernels end); later operations fail with `reason`.
  void abort(const std::string& reason) noexcept;

  // Posts the held-back messages, then runs `call(comm, stream)` ordered after compute, and
  // returns its Completion. `what` describes the operation for errors.
  std::shared_ptr<Completion> enqueue(
      const char* call, const std::string& what,
      const std::function<ncclResult_t(ncclComm_t, cudaStream_t)>& body);
  // Holds a send or recv back until flush_messages().
  void hold(PendingMessage message);
  // Posts every held-back message as one NCCL group (ordered by tag).
  void flush_messages();

  // Checks the communicator for an asynchronous error; on one, aborts it and throws CommError.
  void check_async(const std::string& what);

 private:
  void run(const char* call, const std::string& what,
           const std::function<ncclResult_t(ncclComm_t, cudaStream_t)>& body,
           const std::shared_ptr<Completion>& completion);

  ncclComm_t comm_ = nullptr;
  int device_ = 0;
  int rank_ = 0;
  int size_ = 1;
  std::chrono::milliseconds timeout_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;  // compute's position, for the stream to wait on
  std::int32_t* barrier_word_ = nullptr;
  std::vector<PendingMessage> pending_;
  std::uint64_t messages_started_ = 0;
  std::string abort_reason_;
};

}  // namespace trellis::nccl
