// What this backend refuses of its own: bf16, which MPI has no type for, by every operation.
// The rules comm.h checks for every backend (sizes, dtypes, layouts, ranks, tags, an average of
// integers) are the conformance suite's (tests/comm/conformance: argument_cases.cpp,
// refusal_cases.cpp).
#include <doctest/doctest.h>

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
