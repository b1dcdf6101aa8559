// The analysis of a flight record: the files rank-<R>.json that each rank writes on a hang, a
// timeout or a signal, each holding the last operations the rank issued on each of its groups.
// Reading them back and naming the first operation where a group's ranks disagree is how a hang
// is explained after the fact: which rank never entered the collective the others wait in, or
// entered a different one, or wrote nothing at all.
//
// The recorder writes the files; this only reads them, so it is strict about their shape (a
// malformed file is an InputError naming it) and makes no assumption about which ranks wrote one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

// Where an operation was when its rank wrote the record.
enum class FlightOpState {
  enqueued,   // called, the backend has not returned yet
  started,    // in flight, not seen complete
  completed,  //
  failed,     //
};

struct FlightOp {
  std::int64_t seq = 0;  // per group, from 0 on each rank
  std::string op;        // "all_reduce", "send", ...
  std::string dtype;     // "f32", ...
  std::int64_t bytes = 0;
  int peer = -1;  // send/recv: the peer's group rank; broadcast/reduce: the root's; else -1
  int tag = -1;   // send/recv: the tag; else -1
  FlightOpState state = FlightOpState::enqueued;
  std::string where;  // the code path active when issued; "" if none
  double enqueued_us = 0;
  std::optional<double> completed_us;  // only when completed
};

struct FlightGroup {
  std::string name;  // "world", "data group [1, 3]", ...: identifies the group across ranks
  std::string backend;
  int rank = 0;  // this rank's place in the group
  int size = 0;
  // World ranks in group order. From the file, else from the [..] of the name ("world": every
  // rank); empty when neither says.
  std::vector<int> members;
  std::int64_t next_seq = 0;  // operations issued on the group so far
  std::vector<FlightOp> ops;  // the last few, oldest first, seq consecutive up to next_seq - 1
};

struct FlightRankRecord {
  std::filesystem::path file;  // where it was read from
  int rank = 0;
  int world_size = 0;
  std::int64_t pid = 0;
  std::string host;
  std::string reason;  // "signal SIGTERM", "backend mpi: timed out after ..."
  double written_us = 0;
  // The blocking wait the rank was in when it wrote the record (group name and op number), and
  // since when; none: it was not waiting (computing, stopped, or outside communication).
  struct Waiting {
    std::string group;
    std::int64_t seq = 0;
    double since_us = 0;
  };
  std::optional<Waiting> waiting;
  // The last time it issued, tested or waited for an operation (0: not recorded).
  double last_activity_us = 0;
  // When the rank was continued after a stop (SIGCONT), and its last activity before: a stopped
  // rank that its launcher continued before stopping it looks busy again in its record.
  struct Continued {
    double at_us = 0;
    double quiet_since_us = 0;
  };
  std::optional<Continued> continued;
  std::vector<FlightGroup> groups;
};

// Reads one rank-<R>.json. Throws InputError naming the file and the field at fault when it
// cannot be read or is not a flight record.
FlightRankRecord read_flight_record(const std::filesystem::path& file);
// The same from the file's text; `name` names it in messages.
FlightRankRecord parse_flight_record(std::string_view text, const std::string& name);

// Reads every rank-*.json of `dir`, ordered by rank. A file that cannot be read is skipped, and
// the reason, naming it, is appended to `problems` when given (a rank killed while writing leaves
// half a file; the other ranks' records still explain the hang). Throws InputError when `dir` is
// not a readable directory.
std::vector<FlightRankRecord> read_flight_records(const std::filesystem::path& dir,
                                                  std::vector<std::string>* problems = nullptr);

// The report for people: which ranks wrote a record, a line "first disagreement: ..." naming the
// likeliest culprit, then each group whose members disagree, wait, or lack a record. Ranks are
// world ranks throughout. `problems` (from read_flight_records) are listed in the header.
std::string analyze_flight_records(const std::vector<FlightRankRecord>& records, int world_size,
                                   const std::vector<std::string>& problems = {});

}  // namespace trellis
