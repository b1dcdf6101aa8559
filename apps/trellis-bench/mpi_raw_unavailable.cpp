// The mpi-raw baseline in a build without MPI: it says so.
#include "mpi_raw_transport.h"
#include "trellis/error.h"

namespace trellis::bench {

bool mpi_raw_available() noexcept {
  return false;
}

MpiRawSession::MpiRawSession() {}
MpiRawSession::~MpiRawSession() = default;

std::unique_ptr<BenchTransport> make_mpi_raw_transport() {
  throw InputError(
      "backend mpi-raw needs MPI, and this build has none (on Debian: apt-get install "
      "libopenmpi-dev openmpi-bin, then configure again)");
}

}  // namespace trellis::bench
