// libFuzzer harness: a rank's flight record (launch/flight_report.h), as trellis-run reads the
// records a failed run's ranks wrote, then the analysis over it and a second rank's record made
// from it (another rank, one operation fewer in its first group, the last one's size changed):
// the report must come out, whatever the records hold, and nothing but InputError may escape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "launch/flight_report.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  trellis::FlightRankRecord record;
  try {
    record = trellis::parse_flight_record(text, "fuzz/rank-0.json");
  } catch (const trellis::InputError&) {
    return 0;  // "flight record fuzz/rank-0.json: ...": skipped by the reader, named in the report
  }
  std::vector<trellis::FlightRankRecord> records = {record};
  if (record.world_size > 1) {
    trellis::FlightRankRecord other = record;
    other.rank = (record.rank + 1) % record.world_size;
    if (!other.groups.empty() && !other.groups[0].ops.empty()) {
      other.groups[0].ops.pop_back();
      --other.groups[0].next_seq;
      if (!other.groups[0].ops.empty()) other.groups[0].ops.back().bytes += 4;
    }
    records.push_back(other);
  }
  const std::string report = trellis::analyze_flight_records(records, record.world_size);
  if (report.empty()) std::abort();  // the header line is always there
  return 0;
}
