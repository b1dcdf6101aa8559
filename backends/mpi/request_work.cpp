#include "request_work.h"

#include "mpi_call.h"
#include "mpi_communicator.h"
#include "mpi_types.h"
#include "trellis/error.h"
#include "trellis/reduce.h"

namespace trellis::mpi {

RequestWork::RequestWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& first,
                         const Tensor& second)
    : PollingWork(comm, info), tensors_{first, second} {}

RequestWork::~RequestWork() {
  if (done_ || request_ == MPI_REQUEST_NULL) return;
  int flag = 0;
  if (MPI_Test(&request_, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS || flag) return;
  // A receive nobody will wait for can be taken back (if it has not started to arrive); sends
  // and collectives cannot, so MPI keeps them and the world keeps their buffers.
  if (info_.kind == OpKind::recv) MPI_Cancel(&request_);
  AbandonedOp op;
  op.requests = {request_};
  op.tensors = std::move(tensors_);
  op.memory = std::move(memory_);
  comm_.world().abandon(std::move(op));
}

bool RequestWork::test() {
  if (!failure_.empty()) throw CommError(failure_);
  if (done_) return true;
  comm_.world().progress().run();
  int flag = 0;
  MPI_Status status;
  const int code = MPI_Test(&request_, &flag, &status);
  if (code != MPI_SUCCESS) {
    // A failed request is finished: MPI has let go of it and of its buffers.
    request_ = MPI_REQUEST_NULL;
    failure_ = "backend mpi: " + describe() + " failed: " + mpi_error_text(code);
    throw CommError(failure_);
  }
  if (!flag) return false;
  complete(status);
  return true;
}

void RequestWork::complete(const MPI_Status& status) {
  done_ = true;
  if (info_.kind == OpKind::recv) {
    int received = 0;
    MPI_Get_count(&status, mpi_datatype(info_.dtype), &received);
    if (received != info_.count) {
      failure_ = "backend mpi: " + describe() + " received " + std::to_string(received) +
                 " elements: the sender's tensor has another size";
      throw CommError(failure_);
    }
  }
  if (average_data_) divide_elements(average_data_, average_count_, comm_.size());
  tensors_ = {};  // the caller's handles are enough from here on
  memory_.reset();
}

}  // namespace trellis::mpi
