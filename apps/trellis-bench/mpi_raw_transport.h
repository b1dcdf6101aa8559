// The mpi-raw baseline: the benchmark's operations as plain blocking MPI calls on
// MPI_COMM_WORLD (MPI_Allreduce, MPI_Allgather, ...), made by trellis-bench itself. Set beside a
// plugin's figures it shows what the plugin adds to MPI, or gains over it.
//
// In place uses MPI's own forms (MPI_IN_PLACE; MPI_Sendrecv_replace), which for reduce_scatter
// leaves the result at the start of the buffer. Without MPI in the build, mpi_raw_available() is
// false and the rest throws InputError.
#pragma once

#include <memory>

#include "bench_transport.h"

namespace trellis::bench {

bool mpi_raw_available() noexcept;

// MPI's lifetime in a process that runs the baseline: initialises MPI unless something already
// has, and finalises it at the end if it did. Made before any world communicator, so that the
// mpi plugin, run in the same process, finds MPI initialised and leaves finalising to us.
class MpiRawSession {
 public:
  MpiRawSession();
  ~MpiRawSession();
  MpiRawSession(const MpiRawSession&) = delete;
  MpiRawSession& operator=(const MpiRawSession&) = delete;

 private:
  bool initialised_here_ = false;
};

std::unique_ptr<BenchTransport> make_mpi_raw_transport();

}  // namespace trellis::bench
