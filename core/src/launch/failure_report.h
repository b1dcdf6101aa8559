// FailureReport: how the processes of one launch tell each other, through the store, that a rank
// failed. The first report wins (a counter decides which), so every launcher names the same rank:
// the one that failed first, not those stopped because of it.
//
// Written by the launcher of the node where the rank ran (several nodes), or by the reporting
// wrapper each rank runs in under trellis-run --mpirun (reporting_rank.h); read by the launchers.
#pragma once

#include <optional>
#include <string>

#include "comm/tcp_store.h"
#include "trellis/store.h"

namespace trellis {

struct FailureReport {
  int exit_code = 1;    // what the launchers exit with: the rank's code, or 128 + its signal
  std::string message;  // "rank 3 (pid 1234 on node7) exited with code 3"
};

// Records `report` unless another failure was recorded first.
void record_failure(Store& store, const FailureReport& report);
// The first failure recorded, if any; never waits.
std::optional<FailureReport> recorded_failure(TcpStore& store);

}  // namespace trellis
