// What the backend refuses, before any communication: bf16, an average of integers, and
// tensors or arguments that break comm.h's rules — each with a message saying what is wrong.
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

TEST_CASE("avg over i32 is not supported") {
  Communicator& comm = world();
  const Tensor t = tensor(DType::i32, 4, 1);
  CHECK_THROWS_WITH_AS(comm.all_reduce(t, t, ReduceOp::avg),
                       contains("does not support avg over i32 in all_reduce"), UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.reduce_scatter(tensor(DType::i32, 4 * comm.size()), t, ReduceOp::avg),
                       contains("avg over i32 in reduce_scatter"), UnsupportedError);
  CHECK_THROWS_WITH_AS(comm.reduce(t, t, ReduceOp::avg, 0), contains("avg over i32 in reduce"),
                       UnsupportedError);
}

TEST_CASE("wrong sizes, types, layouts and ranks are errors that say what is expected") {
  Communicator& comm = world();
  const int size = comm.size();
  const Tensor seven = tensor(DType::f32, 7);
  CHECK_THROWS_WITH_AS(
      comm.all_gather(seven, tensor(DType::f32, 7 * size + 1)),
      contains("output must have size() x input elements (" + std::to_string(7 * size) + ")"),
      Error);
  CHECK_THROWS_WITH_AS(comm.reduce_scatter(tensor(DType::f32, 7 * size + 1), seven, ReduceOp::sum),
                       contains("input must have size() x output elements"), Error);
  CHECK_THROWS_WITH_AS(comm.all_reduce(seven, tensor(DType::f32, 6), ReduceOp::sum),
                       contains("output must have as many elements as the input (7)"), Error);
  CHECK_THROWS_WITH_AS(comm.all_reduce(seven, tensor(DType::i32, 7), ReduceOp::sum),
                       contains("the same dtype, got f32 and i32"), Error);
  if (size > 1) {
    CHECK_THROWS_WITH_AS(
        comm.all_to_all(tensor(DType::f32, size + 1), tensor(DType::f32, size + 1)),
        contains("equal chunks"), Error);
  }

  static const std::shared_ptr<Allocator> cpu = make_cpu_allocator();
  const Tensor matrix = Tensor::empty(Shape{4, 6}, DType::f32, cpu);
  const Tensor columns = matrix.narrow(1, 0, 3);  // strided rows
  CHECK_THROWS_WITH_AS(comm.broadcast(columns, 0), contains("buffer must be contiguous"), Error);
  const Tensor rows = matrix.narrow(0, 1, 2);  // contiguous, overlapping `matrix`
  CHECK_THROWS_WITH_AS(comm.all_reduce(matrix, rows.view(Shape{24 / 2}), ReduceOp::sum),
                       contains("output must have as many elements"), Error);
  CHECK_THROWS_WITH_AS(
      comm.all_reduce(matrix.narrow(0, 0, 2), matrix.narrow(0, 1, 2), ReduceOp::sum),
      contains("overlap in memory"), Error);

  CHECK_THROWS_WITH_AS(comm.send(seven, size, 0),
                       contains("send on group 'world': peer " + std::to_string(size) +
                                " is not a rank of this group"),
                       Error);
  CHECK_THROWS_WITH_AS(comm.recv(seven, -1, 0), contains("peer -1 is not a rank"), Error);
  CHECK_THROWS_WITH_AS(comm.send(seven, 0, -3), contains("tag -3 is out of range"), Error);
  CHECK_THROWS_WITH_AS(comm.broadcast(seven, size), contains("root " + std::to_string(size)),
                       Error);
  CHECK_THROWS_WITH_AS(comm.all_reduce(Tensor(), seven, ReduceOp::sum),
                       contains("input is an undefined tensor"), Error);
}
