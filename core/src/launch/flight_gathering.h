// The flight records of a run started by a user's own mpirun or srun, gathered by its ranks.
//
// Under trellis-run (or a trellis-train that launched itself) the launcher collects the ranks'
// records once they have all ended (launch/flight_collection.h). Under a user's mpirun or srun
// there is no such launcher, and the first rank to exit with an error makes mpirun (or srun
// --kill-on-bad-exit) stop the others. So the ranks do it among themselves, through the directory
// they write their records to (<out_dir>/flight):
//   - at start, rank 0 removes what an earlier run left there, and once the world exists every
//     rank writes rank-R.pid ("host pid");
//   - after a rank fails and has written its record, the first to claim the report (a file made
//     with O_EXCL) asks every other rank on its host for its record (SIGUSR1, which
//     comm/flight_signal_dump.h serves), waits a few seconds for the records, prints the analysis
//     (launch/flight_report.h) and writes it to report.txt beside them;
//   - a failed rank that lost the claim waits for report.txt before it exits, so that its exit
//     does not have the launcher stop the rank writing the report halfway.
// Ranks on other hosts are asked for nothing: their records are in the report only when the
// directory is shared (the report names the ranks without one).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trellis {

// Removes what an earlier run left in a flight directory (records, pid files, the claim and the
// report), so that none of it is read as this run's. Nothing else in `dir` is touched.
void remove_earlier_flight_files(const std::filesystem::path& dir);

class FlightGathering {
 public:
  // How long the gathering rank waits for the others' records, and a losing rank for its report.
  static constexpr std::chrono::milliseconds kRecordWait{3000};
  static constexpr std::chrono::milliseconds kReportWait{8000};

  // Before the world exists: rank 0 removes an earlier run's records, pid files and report from
  // `dir` (no rank writes there before the world exists, which needs rank 0).
  static void clear_earlier_run(const std::filesystem::path& dir, int rank);

  // Once the world exists: writes this rank's pid file. Throws Error when it cannot.
  FlightGathering(std::filesystem::path dir, int rank, int world_size);

  // After this rank failed and wrote its record. The rank that claims the report returns it
  // (also in report.txt); the others wait for it (up to kReportWait) and return nullopt.
  std::optional<std::string> after_failure() const;

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  // Asks every other rank of this host that wrote a pid file for its record; returns a line for
  // each of them that is stopped, and so cannot answer.
  std::vector<std::string> ask_local_ranks() const;
  // Waits until every rank's record is there, or kRecordWait has passed.
  void wait_for_records() const;

  std::filesystem::path dir_;
  int rank_;
  int world_size_;
};

}  // namespace trellis
