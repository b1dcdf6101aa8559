#include "direct_all_gather.h"

#include <cstring>

#include "channel_tags.h"
#include "mpi_call.h"
#include "mpi_communicator.h"
#include "mpi_types.h"
#include "trellis/error.h"

namespace trellis::mpi {

DirectAllGatherWork::DirectAllGatherWork(MpiCommunicator& comm, const OpInfo& info,
                                         const Tensor& input, const Tensor& output, bool in_place,
                                         std::uint32_t sequence)
    : PollingWork(comm, info), input_(input), output_(output) {
  const int size = comm_.size();
  const int rank = comm_.rank();
  const int count = static_cast<int>(info_.count);
  const std::size_t block = info_.bytes();
  const MPI_Datatype type = mpi_datatype(info_.dtype);
  const MPI_Comm channel = comm_.channel();
  // The direct all_gathers' range of the channel's tags (channel_tags.h).
  const int tag = direct_all_gather_tags(comm_.world().tag_upper_bound()).block(sequence);
  auto* out = static_cast<std::byte*>(output_.data_ptr());
  const void* mine = in_place ? out + rank * block : input_.data_ptr();
  auto describe_op = [this] { return describe(); };
  requests_.reserve(static_cast<std::size_t>(2 * (size - 1)));
  try {
    // Receives first, so that a peer's block finds its receive posted; then the sends, each from
    // the input, in ring order from the next rank (every rank starts with a different peer).
    for (int step = 1; step < size; ++step) {
      const int peer = (rank - step + size) % size;
      MPI_Request request = MPI_REQUEST_NULL;
      check_mpi(MPI_Irecv(out + peer * block, count, type, peer, tag, channel, &request),
                "MPI_Irecv", describe_op);
      requests_.push_back(request);
    }
    for (int step = 1; step < size; ++step) {
      const int peer = (rank + step) % size;
      MPI_Request request = MPI_REQUEST_NULL;
      check_mpi(MPI_Isend(mine, count, type, peer, tag, channel, &request), "MPI_Isend",
                describe_op);
      requests_.push_back(request);
    }
  } catch (...) {
    hand_over_to_world();
    throw;
  }
  // While the blocks move: this rank's own block into the output.
  if (!in_place) std::memcpy(out + rank * block, input_.data_ptr(), block);
}

DirectAllGatherWork::~DirectAllGatherWork() {
  if (!done_) hand_over_to_world();
}

void DirectAllGatherWork::hand_over_to_world() noexcept {
  int flag = 0;
  if (requests_.empty() ||
      MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &flag,
                  MPI_STATUSES_IGNORE) != MPI_SUCCESS ||
      flag) {
    return;
  }
  // Blocks may still arrive into the output, and sends still read the input: keep both for MPI.
  AbandonedOp op;
  op.requests = std::move(requests_);
  op.tensors = {input_, output_};
  comm_.world().abandon(std::move(op));
}

bool DirectAllGatherWork::test() {
  if (!failure_.empty()) throw CommError(failure_);
  if (done_) return true;
  comm_.world().progress().run();  // the backend's stepped operations, if any are in flight
  int flag = 0;
  const int code =
      MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &flag, MPI_STATUSES_IGNORE);
  if (code != MPI_SUCCESS) {
    failure_ = "backend mpi: " + describe() + " failed: " + mpi_error_text(code);
    throw CommError(failure_);
  }
  if (!flag) return false;
  done_ = true;
  input_ = Tensor();  // the caller's handles are enough from here on
  output_ = Tensor();
  return true;
}

}  // namespace trellis::mpi
