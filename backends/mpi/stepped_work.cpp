#include "stepped_work.h"

#include "mpi_communicator.h"
#include "trellis/error.h"

namespace trellis::mpi {

bool SteppedWork::test() {
  if (!failure_.empty()) throw CommError(failure_);
  if (done_) return true;
  comm_.world().progress().run();  // advances this operation too
  if (!failure_.empty()) throw CommError(failure_);
  return done_;
}

}  // namespace trellis::mpi
