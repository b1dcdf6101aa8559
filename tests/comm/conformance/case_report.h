// CaseReport: what one rank of the conformance suite found, case by case.
//
// A case is one operation on one group with one dtype, element count and placement. Each case
// passes, fails (wrong values, a wrong error, an unexpected exception) or is declined: the backend
// refused, with a clear error on every rank, something comm.h leaves optional (see
// collective_cases.cpp). Failures are printed at once, one line each, naming everything needed
// to reproduce the case; the summary at the end counts all three.
//
// An exception thrown by a case that was not expected to throw stops the run (StopRun): after it
// the ranks may no longer agree on which collective comes next, and carrying on would only add
// timeouts to the one real failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>

#include "trellis/tensor.h"

namespace trellis::conformance {

enum class Placement : std::uint8_t { out_of_place, in_place, single_buffer };
const char* placement_name(Placement placement) noexcept;

struct CaseId {
  std::string op;  // "all_reduce(sum)", "broadcast(root 2)", "send/recv ring"
  DType dtype = DType::f32;
  std::int64_t count = 0;  // elements, as the operation counts them (see collective_cases.cpp)
  Placement placement = Placement::single_buffer;
  std::string group;  // "world (4 ranks)", "even/odd split, color 1 (2 ranks)"
};

// Thrown (after the failure is recorded) to end the run early; see above.
class StopRun : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by a case body when the backend refused something comm.h leaves optional; the message
// is the backend's error.
class Declined : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CaseReport {
 public:
  CaseReport(std::string backend, int world_rank, int world_size);

  // Runs `body` as case `id`. `body` returns "" when the case passed, else what was wrong, or
  // throws Declined. Any other exception from `body` fails the case and throws StopRun.
  void run(const CaseId& id, const std::function<std::string()>& body);
  // Records an outcome found without run().
  void pass(const CaseId& id);
  void fail(const CaseId& id, const std::string& what);
  void decline(const CaseId& id, const std::string& why);

  int cases() const noexcept { return cases_; }
  int failures() const noexcept { return failures_; }
  int declined() const noexcept { return declined_; }

  // "conformance ucx rank 1 of 4: 2310 cases, 0 failed, 4 declined in 12.3 s"
  std::string summary() const;
  // One line per rank, to stderr, prefixed "conformance <backend> rank R: ".
  void note(const std::string& text) const;

 private:
  std::string describe(const CaseId& id) const;

  std::string backend_;
  int world_rank_;
  int world_size_;
  int cases_ = 0;
  int failures_ = 0;
  int declined_ = 0;
  std::set<std::string> declined_kinds_;  // "reduce_scatter in-place": printed once
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace trellis::conformance
