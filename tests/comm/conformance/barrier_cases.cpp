// barrier(): it completes, repeatedly, and no rank leaves it before every rank has entered it.
//
// The second is checked without timing anything: rank 0 writes a marker file in a directory
// every rank sees and only then enters the barrier; the others look for the marker after leaving
// it. A barrier that let a rank through early would let it look before the marker exists (rank
// 0 sleeps first to make that likely).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "suite.h"

namespace trellis::conformance {

void check_barrier(Suite& suite, Communicator& comm) {
  const CaseId repeated{"barrier x3", DType::f32, 0, Placement::single_buffer, group_label(comm)};
  suite.report.run(repeated, [&] {
    for (int i = 0; i < 3; ++i) comm.barrier()->wait();
    return std::string();
  });
  if (suite.scratch_dir.empty() || comm.size() == 1) return;

  const CaseId ordered{"barrier holds every rank until all have entered", DType::f32, 0,
                       Placement::single_buffer, group_label(comm)};
  const std::filesystem::path marker =
      std::filesystem::path(suite.scratch_dir) /
      ("barrier-marker-" + std::string(comm.backend()) + "-" + std::to_string(comm.size()));
  suite.report.run(ordered, [&] {
    std::error_code ignored;
    if (comm.rank() == 0) {
      std::filesystem::create_directories(marker.parent_path(), ignored);
      std::filesystem::remove(marker, ignored);  // from an earlier run
    }
    comm.barrier()->wait();
    if (comm.rank() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::ofstream(marker) << "rank 0 entered the barrier\n";
    }
    comm.barrier()->wait();
    std::string wrong;
    if (comm.rank() != 0 && !std::filesystem::exists(marker)) {
      wrong = "left the barrier before rank 0 had entered it (no marker " + marker.string() + ")";
    }
    comm.barrier()->wait();  // everyone has looked
    if (comm.rank() == 0) std::filesystem::remove(marker, ignored);
    return wrong;
  });
}

}  // namespace trellis::conformance
