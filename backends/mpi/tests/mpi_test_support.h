// What the mpi backend's tests share: the world communicator of the process, tensors, and the
// values each rank contributes.
//
// Every rank runs the same test cases in the same order (doctest's file order), so collectives
// in the tests match up across ranks. Values are small integers, so f32 sums are exact and every
// expected result can be computed by any rank.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::mpi_test {

// The world communicator made by mpi_test_main.cpp, with a 20 s timeout.
Communicator& world();
// Whether the world runs large all_reduces by the backend's ring (ring_collective.h) at its
// size: the default in groups of 2 or 3 ranks, unless --ring-all-reduce-bytes=0.
bool ring_all_reduce_in_use();

// A 1-D tensor of n elements of `dtype`, each set to `fill`.
Tensor tensor(DType dtype, std::int64_t n, double fill = -1);
// Element i as a double (f32 and i32).
double get(const Tensor& t, std::int64_t i);
void set(const Tensor& t, std::int64_t i, double value);
// A tensor of `n` elements, element i = value(i).
Tensor tensor_of(DType dtype, std::int64_t n, const std::function<double(std::int64_t)>& value);

// What rank `rank` contributes at element i: distinct per rank, small.
double contribution(int rank, std::int64_t i);

// The number of elements of `t` that differ from expected(i), and the first of them, in words
// ("" when none differ).
std::string mismatches(const Tensor& t, const std::function<double(std::int64_t)>& expected);

// doctest's Contains for a std::string.
inline doctest::Contains contains(const std::string& text) {
  return doctest::Contains(doctest::String(text.c_str()));
}

// Sizes every operation is tried with: empty, one, odd, and each side of the all_reduce sizes
// where the backend changes from recursive doubling to MPI_Iallreduce (64 KiB, and 1 MiB in
// groups of 2 or 3) in f32.
inline constexpr std::int64_t kSizes[] = {0, 1, 7, 16384, 16385, 262144, 262145};

}  // namespace trellis::mpi_test
