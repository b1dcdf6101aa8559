// What `trellis-bench comm -c 1` puts in the buffers and expects back.
//
// Small integers (|v| < 16) in f32 or i32: any sum over up to a million ranks is exact in both,
// whatever the order of the additions, so results are compared exactly and #wrong counts the
// elements that differ (nccl-tests' column). Each value depends on the rank and the element, so
// misplaced chunks show.
#pragma once

#include <cstdint>

#include "bench_transport.h"

namespace trellis::bench {

// Fills the inputs of `call` for rank `rank` of `nranks`, and its output (where it has its own
// memory) with a value no result has, so unwritten elements count as wrong.
void fill_call(const BenchCall& call, int rank, int nranks);

// Elements of `result` (the outcome of `call` on rank `rank`) that are not what they must be.
// Ranks that receive nothing (reduce away from the root) have none.
std::int64_t count_wrong(const BenchCall& call, const Tensor& result, int rank, int nranks);

}  // namespace trellis::bench
