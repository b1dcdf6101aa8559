#include "launch/flight_collection.h"

#include <stdlib.h>

#include <system_error>
#include <vector>

#include "launch/flight_gathering.h"
#include "launch/flight_report.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::filesystem::path make_temporary_dir() {
  const char* tmp = ::getenv("TMPDIR");
  std::string pattern =
      (std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / "trellis-flight-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw Error("could not make a directory for the ranks' flight records (" + pattern + ")");
  }
  return std::filesystem::path(buffer.data());
}

}  // namespace

FlightCollection::FlightCollection(std::optional<std::filesystem::path> chosen) {
  if (chosen) {
    dir_ = std::move(*chosen);
  } else {
    dir_ = make_temporary_dir();
    owned_ = true;
  }
  // A record from an earlier run in the same directory would be read as this run's.
  remove_earlier_flight_files(dir_);
}

FlightCollection::~FlightCollection() {
  if (!owned_ || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::optional<std::string> FlightCollection::report(int world_size) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) return std::nullopt;
  const std::vector<FlightRankRecord> records = read_flight_records(dir_);
  if (records.empty()) return std::nullopt;
  keep_ = true;
  return analyze_flight_records(records, world_size);
}

}  // namespace trellis
