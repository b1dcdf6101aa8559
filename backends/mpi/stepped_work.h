// The Work of an operation the backend runs itself in steps (progress_list.h): the small
// all_reduce and the ring. Its test() runs the process's progress list, which advances this
// operation together with every other one in flight, and says how it ended.
#pragma once

#include <string>

#include "polling_work.h"
#include "progress_list.h"

namespace trellis::mpi {

class SteppedWork : public PollingWork, protected SteppedOp {
 public:
  bool test() final;

 protected:
  SteppedWork(MpiCommunicator& comm, const OpInfo& info) : PollingWork(comm, info) {}

  bool done_ = false;    // completed successfully
  std::string failure_;  // why it failed (set by advance()); empty while it has not
};

}  // namespace trellis::mpi
