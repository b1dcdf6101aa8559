#include "case_report.h"

#include <exception>

namespace trellis::conformance {

const char* placement_name(Placement placement) noexcept {
  switch (placement) {
    case Placement::out_of_place:
      return "out-of-place";
    case Placement::in_place:
      return "in-place";
    case Placement::single_buffer:
      return "one buffer";
  }
  return "?";
}

CaseReport::CaseReport(std::string backend, int world_rank, int world_size)
    : backend_(std::move(backend)), world_rank_(world_rank), world_size_(world_size) {}

std::string CaseReport::describe(const CaseId& id) const {
  return id.op + ", " + dtype_name(id.dtype) + ", " + std::to_string(id.count) + " elements, " +
         placement_name(id.placement) + ", " + id.group + ", world rank " +
         std::to_string(world_rank_);
}

void CaseReport::run(const CaseId& id, const std::function<std::string()>& body) {
  std::string wrong;
  try {
    wrong = body();
  } catch (const Declined& refusal) {
    decline(id, refusal.what());
    return;
  } catch (const std::exception& error) {
    fail(id, std::string("threw: ") + error.what());
    throw StopRun("an operation threw where it should not have");
  }
  if (wrong.empty()) {
    pass(id);
  } else {
    fail(id, wrong);
  }
}

void CaseReport::pass(const CaseId&) {
  ++cases_;
}

void CaseReport::fail(const CaseId& id, const std::string& what) {
  ++cases_;
  ++failures_;
  std::fprintf(stderr, "conformance %s FAIL: %s: %s\n", backend_.c_str(), describe(id).c_str(),
               what.c_str());
}

void CaseReport::decline(const CaseId& id, const std::string& why) {
  ++cases_;
  ++declined_;
  // Every rank declines alike, and for every count and reduce op alike: one line per operation
  // and placement is enough (the summary counts them all).
  const std::string kind = id.op.substr(0, id.op.find('(')) + " " + placement_name(id.placement);
  if (world_rank_ == 0 && declined_kinds_.insert(kind).second) {
    std::fprintf(stderr, "conformance %s declined (allowed; further %s cases not shown): %s: %s\n",
                 backend_.c_str(), kind.c_str(), describe(id).c_str(), why.c_str());
  }
}

std::string CaseReport::summary() const {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char time[32];
  std::snprintf(time, sizeof time, "%.1f", seconds);
  return "conformance " + backend_ + " rank " + std::to_string(world_rank_) + " of " +
         std::to_string(world_size_) + ": " + std::to_string(cases_) + " cases, " +
         std::to_string(failures_) + " failed, " + std::to_string(declined_) + " declined in " +
         time + " s";
}

void CaseReport::note(const std::string& text) const {
  std::fprintf(stderr, "conformance %s rank %d: %s\n", backend_.c_str(), world_rank_, text.c_str());
}

}  // namespace trellis::conformance
