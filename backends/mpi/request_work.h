// RequestWork: one operation MPI does itself (MPI_Iallreduce, MPI_Irecv, ...), as one request.
//
// The Work keeps the operation's tensors alive until MPI has finished with them. test() runs the
// backend's own stepped operations (progress_list.h), then MPI_Test, which is also what moves
// MPI's non-blocking operations on. On completion an average is finished by dividing the sum,
// and a receive checks it got as many elements as it asked for.
//
// Destroyed before completion, the Work hands its request and tensors to the MpiWorld, which
// keeps them until MPI is done with them (a receive is cancelled first).
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "polling_work.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

class RequestWork final : public PollingWork {
 public:
  // Keeps `first` and `second` (either may be undefined) alive until completion.
  RequestWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& first, const Tensor& second);
  ~RequestWork() override;

  // Where the MPI_I* call puts its request.
  MPI_Request* request() noexcept { return &request_; }
  // On completion, divide `count` floats at `data` by the group size: the avg of a sum.
  void average_on_completion(float* data, std::int64_t count) noexcept {
    average_data_ = data;
    average_count_ = count;
  }
  // Keeps `memory` (the count and displacement arrays of MPI_Ialltoallv, which MPI reads until
  // the operation completes) alive as long as the tensors.
  void keep_until_completion(std::shared_ptr<void> memory) noexcept { memory_ = std::move(memory); }

  bool test() override;

 private:
  void complete(const MPI_Status& status);

  MPI_Request request_ = MPI_REQUEST_NULL;
  std::array<Tensor, 2> tensors_;
  std::shared_ptr<void> memory_;
  float* average_data_ = nullptr;
  std::int64_t average_count_ = 0;
  bool done_ = false;
  std::string failure_;  // set once the operation failed: every later test() throws it again
};

}  // namespace trellis::mpi
