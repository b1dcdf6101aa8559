#include "nccl_call.h"

#include <algorithm>
#include <thread>

#include "trellis/error.h"

namespace trellis::nccl {

std::string describe(ncclResult_t result, ncclComm_t comm, const char* call) {
  std::string text = std::string(call) + " failed: " + ncclGetErrorString(result);
  const char* last = ncclGetLastError(comm);
  if (last && *last) text += std::string(" (") + last + ")";
  return text;
}

void check_cuda(cudaError_t status, const char* call, const std::string& what) {
  if (status != cudaSuccess) {
    throw CommError("backend nccl: " + std::string(call) + " failed: " + cudaGetErrorName(status) +
                    " (" + cudaGetErrorString(status) + ") in " + what);
  }
}

void settle(ncclComm_t comm, ncclResult_t result, const char* call, const std::string& what,
            Clock::time_point deadline) {
  int polls = 0;
  while (result == ncclInProgress) {
    if (Clock::now() >= deadline) {
      throw TimeoutError("backend nccl: timed out in " + std::string(call) + " for " + what +
                         ": a peer has not joined (is every rank running, on its own GPU?)");
    }
    nap(polls++);
    const ncclResult_t query = ncclCommGetAsyncError(comm, &result);
    if (query != ncclSuccess) result = query;
  }
  if (result != ncclSuccess) {
    throw CommError("backend nccl: " + describe(result, comm, call) + " in " + what);
  }
}

void nap(int polls) {
  if (polls < 64) return;  // the first polls spin: most operations end within microseconds
  const int doublings = std::min(polls - 64, 5);
  std::this_thread::sleep_for(std::chrono::microseconds(std::min(10 << doublings, 250)));
}

}  // namespace trellis::nccl
