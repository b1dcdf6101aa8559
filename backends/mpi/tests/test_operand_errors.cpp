// What this backend refuses of its own: bf16, which MPI has no type for, by every operation, and
// all_to_all_v counts past MPI's int.
// The rules comm.h checks for every backend (sizes, dtypes, layouts, ranks, tags, an average of
// integers) are the conformance suite's (tests/comm/conformance: argument_cases.cpp,
// refusal_cases.cpp).
#include <doctest/doctest.h>

#include <climits>
#include <vector>

#include "mpi_test_support.h"
#include "trellis/error.h"

using namespace trellis;
using namespace trellis::mpi_test;

namespace {

Tensor bf16_tensor(std::int64_t n) {
  static const std::shared_ptr<Allocator> cpu = make_cpu_allocator();
  return Tensor::empty(Shape{n}, DType::bf16, cpu);
}

}  // namespace

TEST_CASE("bf16 is not supported, by any operation") {
  Communicator& comm = world();
  const Tensor b = bf16_tensor(4);
  CHECK_THROWS_WITH_AS(comm.all_reduce(b, b, ReduceOp::sum),
                       contains("backend mpi does not support bf16 all_reduce"), UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.broadcast(b, 0), contains("does not support bf16 broadcast"),
                       UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.send(b, 0, 0), contains("does not support bf16 send"),
                       UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.all_gather(b, bf16_tensor(4 * comm.size())),
                       contains("does not support bf16 all_gather"), UnsupportedError);
}

TEST_CASE("all_to_all_v whose counts pass INT_MAX elements is refused before MPI sees them") {
  Communicator& comm = world();
  const int size = comm.size();
  // Views of memory never touched: the refusal comes before anything is read. The output (one
  // element) ends where the input starts, so the two do not overlap.
  static float memory[2];
  const Tensor output = Tensor::borrow(&memory[0], {1}, DType::f32, Device::cpu());
  const Tensor input =
      Tensor::borrow(&memory[1], {std::int64_t{INT_MAX} + size}, DType::f32, Device::cpu());
  std::vector<std::int64_t> send_counts(size, 1);
  send_counts.back() = std::int64_t{INT_MAX} - size + 2;  // the sum is INT_MAX + 1
  const std::vector<std::int64_t> recv_counts(size, 0);
  CHECK_THROWS_WITH_AS(
      comm.all_to_all_v(input, send_counts, output, recv_counts),
      contains("send_counts reach 2147483648 elements by rank " + std::to_string(size - 1) +
               "; MPI counts and displacements stop "
               "at 2147483647: split the operation"),
      Error);
  comm.barrier()->wait();  // nothing was started: the group still works
}
