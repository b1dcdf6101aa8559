// The conformance suite's parts, and what each is handed.
//
// Each part checks one aspect of comm.h's contract on a communicator and records every case in
// the rank's CaseReport. Parts run in the order of this header (conformance_main.cpp); all ranks
// run the same parts with the same arguments, so they call the same collectives in the same order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "case_report.h"
#include "trellis/comm.h"

namespace trellis::conformance {

struct Suite {
  Communicator& world;
  CaseReport& report;
  std::shared_ptr<Allocator> allocator;
  // Element counts every operation is checked at.
  std::vector<std::int64_t> counts;
  // Elements of the large case (64 MiB of f32), run for a few operations only; 0: none.
  std::int64_t large_count = 0;
  // A directory every rank sees, for the barrier check; empty: that check is skipped.
  std::string scratch_dir;
  // The timeout the timeout check sets on its communicator.
  std::chrono::milliseconds short_timeout{1500};
};

// "world (4 ranks)": a group's name in case descriptions.
std::string group_label(const Communicator& comm);

// Every collective x dtype x count x placement, on `comm` (collective_cases.cpp). With
// `with_large`, the large case for the operations that take it.
void check_collectives(Suite& suite, Communicator& comm, const std::vector<std::int64_t>& counts,
                       bool with_large);
// max and min with NaN in some ranks' elements: NaN wins, on every backend alike (nan_cases.cpp).
void check_nan_reductions(Suite& suite, Communicator& comm);
// Barriers, including that no rank leaves one before every rank has entered it.
void check_barrier(Suite& suite, Communicator& comm);
// send/recv: a ring, to self, several tags, every pair at once.
void check_point_to_point(Suite& suite, Communicator& comm);
// Several operations in flight at once, waited in another order.
void check_in_flight(Suite& suite);
// split(): disjoint, nested, reversed, ties, negative colors; groups working concurrently.
void check_split(Suite& suite);
// Wrong arguments, refused at the call with the same messages on every backend (argument_cases.cpp).
void check_arguments(Suite& suite, Communicator& comm);
// What must be refused with comm.h's UnsupportedError: avg over i32, bf16.
void check_refusals(Suite& suite, Communicator& comm);
// A recv nobody sends fails with a TimeoutError naming the peer, within the timeout.
void check_timeout(Suite& suite);

}  // namespace trellis::conformance
