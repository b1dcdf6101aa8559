// DirectAllGatherWork: all_gather in a small group as one exchange of MPI_Isend / MPI_Irecv,
// every rank sending its block straight from its input to every other rank.
//
// Why not MPI_Iallgather: Open MPI 4.1 runs it through libnbc, which out of place takes twice the
// time of the blocking MPI_Allgather from 64 KiB to 1 MiB on 2 ranks (8.7 against 4.3 us at
// 64 KiB, 76 against 46 at 1 MiB), and about 0.7 against 0.36 us for 8 bytes. It copies the
// rank's own block into the output and sends from there; sent right after being written, those
// lines are still in the writing core's cache. Here the block leaves from the input, and the copy
// into the output is made once every message is posted, while the data moves: 3.9 us at 64 KiB,
// 48 at 1 MiB, as fast as the blocking call. Each rank sends (n - 1) blocks and receives as many,
// what a ring moves too; with every pair in flight at once it suits small groups, so larger ones
// (`all_gather_direct_ranks`, mpi_communicator.h) keep MPI_Iallgather.
//
// The messages travel on the communicator's private channel, tagged in the direct all_gathers'
// range of its tags by the operation's sequence number (channel_tags.h), so operations in flight
// together never take each other's messages. Everything is posted by the
// constructor; test() and wait() test the requests.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "polling_work.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

class DirectAllGatherWork final : public PollingWork {
 public:
  // Posts the exchange. `sequence` numbers the communicator's direct all_gathers (the same on
  // every rank, which call them in the same order); `in_place`: the input is this rank's block
  // of the output.
  DirectAllGatherWork(MpiCommunicator& comm, const OpInfo& info, const Tensor& input,
                      const Tensor& output, bool in_place, std::uint32_t sequence);
  ~DirectAllGatherWork() override;

  bool test() override;

 private:
  // Gives the requests still in flight, and the tensors they use, to the world (which keeps them
  // for MPI): for a Work that goes before its operation has finished.
  void hand_over_to_world() noexcept;

  Tensor input_;
  Tensor output_;
  std::vector<MPI_Request> requests_;
  bool done_ = false;
  std::string failure_;  // set once the operation failed: every later test() throws it again
};

}  // namespace trellis::mpi
