// NCCL and CUDA return codes made into trellis errors, and NCCL's non-blocking calls settled.
//
// Communicators are made non-blocking (ncclConfig_t::blocking = 0), so that making one, splitting
// it and enqueueing on it can all be given up at a deadline: a call may return ncclInProgress,
// and then the communicator's state (ncclCommGetAsyncError) says when it is done.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <string>

namespace trellis::nccl {

using Clock = std::chrono::steady_clock;

// "ncclAllReduce failed: unhandled system error (...last error...)"
std::string describe(ncclResult_t result, ncclComm_t comm, const char* call);

// Throws CommError naming `call` and `what` when `status` is not cudaSuccess.
void check_cuda(cudaError_t status, const char* call, const std::string& what);

// Waits until `comm` has finished what `result` (the return of a call on it) left in progress,
// polling ncclCommGetAsyncError, up to `deadline`. Throws CommError for a failure and
// TimeoutError past the deadline (then the caller aborts the communicator).
void settle(ncclComm_t comm, ncclResult_t result, const char* call, const std::string& what,
            Clock::time_point deadline);

// A short sleep that grows with the number of polls so far: spin, then 10 us doubling to 250 us.
void nap(int polls);

}  // namespace trellis::nccl
