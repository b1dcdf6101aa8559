// The flight record of one rank: the last operations of each of its communication groups, kept
// so that when a run hangs every rank can say what it was doing (docs/launching.md, "Debugging a
// hang"). Each group's operations are numbered from 0 in the order this rank issued them; in a
// correct run operation #k of a group is the same collective on every member, so the first
// number where the members' records differ names the operation a rank skipped, reordered or
// called with other sizes. launch/flight_report reads the records back and compares them.
//
// Recording is a few stores under an uncontended mutex per operation (and one more when it is
// seen complete). The mutex is there for the one reader from another thread: the dump a signal
// asks for (flight_signal_dump.h), which must not see half-written entries.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "trellis/tensor.h"

namespace trellis {

enum class FlightState : unsigned char { enqueued, started, completed, failed };
const char* flight_state_name(FlightState state) noexcept;

struct FlightEntry {
  std::int64_t seq = -1;  // -1: an empty slot
  const char* op = "";    // a literal: "all_reduce", "send", ...
  DType dtype = DType::f32;
  std::int64_t bytes = 0;  // of the larger buffer (all_gather's output, reduce_scatter's input)
  int peer = -1;           // send/recv: the peer; broadcast/reduce: the root (group ranks)
  int tag = -1;
  FlightState state = FlightState::enqueued;
  std::int64_t step = 0;                     // the training step when issued (0: none)
  std::shared_ptr<const std::string> where;  // the activity when issued; null: none
  double enqueued_us = 0;
  double completed_us = 0;
};

// One group's ring of its last operations. Made by FlightLog::add_group.
class FlightGroupRecord {
 public:
  FlightGroupRecord(std::string backend, int rank, int size, std::size_t capacity);

  // Called by the recording communicator: the group's name as core set it (names change after a
  // split), then each operation. Returns the operation's number.
  std::int64_t record(const std::string& name, const char* op, DType dtype, std::int64_t bytes,
                      int peer, int tag, std::int64_t step,
                      std::shared_ptr<const std::string> where);
  void set_state(std::int64_t seq, FlightState state);

 private:
  friend class FlightLog;
  std::mutex* mutex_ = nullptr;  // the log's
  std::string name_;
  std::string backend_;
  int rank_ = 0;
  int size_ = 1;
  std::int64_t next_seq_ = 0;
  std::vector<FlightEntry> ring_;
};

class FlightLog {
 public:
  // `capacity`: operations kept per group.
  FlightLog(int world_rank, int world_size, std::size_t capacity = 256);

  std::shared_ptr<FlightGroupRecord> add_group(std::string backend, int rank, int size);

  // What the rank is doing, recorded with each operation it issues from now on ("step 3, 1B2
  // (stage 0, microbatch 2)", "step 3: gradient reduction"); empty: nothing in particular.
  void set_activity(const std::string& activity);
  // Around a blocking wait for operation `seq` of `group`: a rank that hangs is either inside a
  // wait (on what, since when) or not waiting at all (stopped, or busy outside communication),
  // and the record says which. Each also counts as communication activity.
  void enter_wait(const FlightGroupRecord& group, std::int64_t seq);
  void leave_wait();
  // A test() or an operation issued: activity, without a wait.
  void note_activity();
  // The process was continued after a stop (SIGCONT): it had been quiet since its last activity.
  // A launcher that stops ranks continues them before it signals them (Open MPI's does), so the
  // record must say the rank was stopped, or its resumed wait would look like any other.
  void note_continued();

  // The training step (1-based) recorded with each operation from now on.
  void set_step(std::int64_t step);

  // What an operation being issued is recorded with: the step and the activity, read together
  // (one lock per operation, not three); issuing counts as activity.
  struct IssueContext {
    std::int64_t step = 0;
    std::shared_ptr<const std::string> activity;
  };
  IssueContext note_issue();

  // The record as JSON (launch/flight_report.h describes the fields); `reason`: why it is
  // written (the error, or the signal).
  std::string to_json(const std::string& reason) const;
  // Writes to_json() to `dir`/rank-<world rank>.json (through a temporary file and a rename, so
  // a reader never sees half a record); creates `dir`. Returns the file. Throws Error.
  std::filesystem::path write(const std::filesystem::path& dir, const std::string& reason) const;

  int world_rank() const noexcept { return world_rank_; }

 private:
  int world_rank_;
  int world_size_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<FlightGroupRecord>> groups_;
  std::shared_ptr<const std::string> activity_;
  std::int64_t step_ = 0;
  const FlightGroupRecord* waiting_group_ = nullptr;  // inside a wait for its operation...
  std::int64_t waiting_seq_ = -1;                     // ...number waiting_seq_
  double waiting_since_us_ = 0;
  double last_activity_us_ = 0;
  double continued_us_ = 0;     // 0: never continued
  double quiet_before_us_ = 0;  // last activity before that stop
};

// Microseconds on CLOCK_MONOTONIC, shared by every process of one machine.
double flight_clock_us();

}  // namespace trellis
