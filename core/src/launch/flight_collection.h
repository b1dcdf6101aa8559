// Where a launcher's ranks write their flight records (comm/flight_log.h), and what it makes of
// them when a rank has failed: the ranks get the directory as TRELLIS_FLIGHT_DIR; a rank writes
// its record there when a wait of its times out or fails, and when it is stopped by SIGTERM (which
// the launcher sends the others once one has failed). Once every rank has ended, the launcher
// reads the records and prints launch/flight_report's analysis.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace trellis {

class FlightCollection {
 public:
  // `chosen`: the directory the user (TRELLIS_FLIGHT_DIR) or the caller (trellis-train: the run's
  // out_dir/flight) named; none: a new directory under the temporary directory, removed at the
  // end when no rank failed. Records left from an earlier run in it are removed.
  explicit FlightCollection(std::optional<std::filesystem::path> chosen);
  ~FlightCollection();
  FlightCollection(const FlightCollection&) = delete;
  FlightCollection& operator=(const FlightCollection&) = delete;

  const std::filesystem::path& dir() const noexcept { return dir_; }

  // After a rank failed and every rank has ended: the report on the records the ranks wrote, for
  // a world of `world_size`, or nullopt when none wrote one. Keeps the directory.
  std::optional<std::string> report(int world_size);

 private:
  std::filesystem::path dir_;
  bool owned_ = false;  // made here: removed at the end unless a report was made
  bool keep_ = false;
};

}  // namespace trellis
