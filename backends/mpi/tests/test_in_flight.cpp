// Several operations in flight at once, of every kind and both all_reduce paths, waited for in
// another order than they were started (and a different order on different ranks).
#include <doctest/doctest.h>

#include <vector>

#include "mpi_test_support.h"

using namespace trellis;
using namespace trellis::mpi_test;

TEST_CASE("operations started together complete whatever order they are waited in") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  auto mine = [&](auto i) { return contribution(rank, i); };
  auto sum = [&](auto i) {
    double total = 0;
    for (int r = 0; r < size; ++r) total += contribution(r, i);
    return total;
  };

  const Tensor small_a = tensor_of(DType::f32, 5, mine);
  const Tensor small_b = tensor_of(DType::i32, 9, mine);
  const Tensor large_in = tensor_of(DType::f32, 300000, mine);
  const Tensor large_out = tensor(DType::f32, 300000);
  const Tensor gathered = tensor(DType::i32, size * 3);
  const Tensor broadcasted = tensor_of(DType::f32, 4, mine);
  const Tensor incoming = tensor(DType::f32, 6);
  const Tensor outgoing = tensor_of(DType::f32, 6, mine);

  std::vector<WorkPtr> works;
  works.push_back(comm.recv(incoming, left, 21));
  works.push_back(comm.all_reduce(small_a, small_a, ReduceOp::sum));
  works.push_back(comm.all_reduce(large_in, large_out, ReduceOp::sum));
  works.push_back(comm.all_reduce(small_b, small_b, ReduceOp::max));
  works.push_back(comm.all_gather(tensor_of(DType::i32, 3, mine), gathered));
  works.push_back(comm.broadcast(broadcasted, size - 1));
  works.push_back(comm.barrier());
  works.push_back(comm.send(outgoing, right, 21));
  // Even ranks wait newest first, odd ranks oldest first.
  if (rank % 2 == 0) {
    for (auto it = works.rbegin(); it != works.rend(); ++it) (*it)->wait();
  } else {
    for (auto& work : works) work->wait();
  }

  CHECK(mismatches(small_a, sum) == "");
  CHECK(mismatches(small_b, [&](auto i) { return contribution(size - 1, i); }) == "");
  CHECK(mismatches(large_out, sum) == "");
  CHECK(mismatches(gathered,
                   [&](auto i) { return contribution(static_cast<int>(i / 3), i % 3); }) == "");
  CHECK(mismatches(broadcasted, [&](auto i) { return contribution(size - 1, i); }) == "");
  CHECK(mismatches(incoming, [&](auto i) { return contribution(left, i); }) == "");
}

TEST_CASE("large all_reduces, reduce_scatters and reduces in flight together keep apart") {
  // The backend's rings, where they run (every size by default in small groups), number their
  // messages together; two reduces in flight each need a chunk of partial results.
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  constexpr std::int64_t kCount = 300000;
  auto mine = [&](auto i) { return contribution(rank, i); };
  auto sum = [&](auto i) {
    double total = 0;
    for (int r = 0; r < size; ++r) total += contribution(r, i);
    return total;
  };
  const Tensor input = tensor_of(DType::f32, kCount * size, mine);
  const Tensor scattered = tensor(DType::f32, kCount);
  const Tensor reduced_first = tensor(DType::f32, kCount * size);
  const Tensor reduced_last = tensor(DType::f32, kCount * size);
  const Tensor all_reduced = tensor(DType::f32, kCount * size);
  std::vector<WorkPtr> works;
  works.push_back(comm.reduce(input, reduced_first, ReduceOp::sum, 0));
  works.push_back(comm.reduce_scatter(input, scattered, ReduceOp::sum));
  works.push_back(comm.all_reduce(input, all_reduced, ReduceOp::sum));
  works.push_back(comm.reduce(input, reduced_last, ReduceOp::sum, size - 1));
  if (rank % 2 == 0) {
    for (auto it = works.rbegin(); it != works.rend(); ++it) (*it)->wait();
  } else {
    for (auto& work : works) work->wait();
  }
  CHECK(mismatches(scattered, [&](auto i) { return sum(rank * kCount + i); }) == "");
  CHECK(mismatches(all_reduced, sum) == "");
  if (rank == 0) CHECK(mismatches(reduced_first, sum) == "");
  if (rank == size - 1) CHECK(mismatches(reduced_last, sum) == "");
}

TEST_CASE("many small all_reduces in flight keep their messages apart") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  constexpr int kOps = 24;
  std::vector<Tensor> buffers;
  std::vector<WorkPtr> works;
  for (int k = 0; k < kOps; ++k) {
    buffers.push_back(tensor(DType::i32, 1 + k, (rank + 1) * (k + 1)));
    works.push_back(comm.all_reduce(buffers.back(), buffers.back(), ReduceOp::sum));
  }
  // Waited in an order that differs between ranks.
  for (int j = 0; j < kOps; ++j) {
    const int k = (j * 7 + rank * 5) % kOps;
    works[k]->wait();
  }
  for (int k = 0; k < kOps; ++k) {
    CAPTURE(k);
    CHECK(mismatches(buffers[k], [&](auto) { return (k + 1) * size * (size + 1) / 2; }) == "");
  }
}

TEST_CASE("an all_reduce left in flight moves on while its rank waits for something else") {
  // Odd ranks wait for the all_reduce before splitting, even ranks split first: the even ranks'
  // part of the all_reduce (its later steps, with 3 or more ranks) must move on inside split.
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const Tensor value = tensor(DType::f32, 2, rank);
  WorkPtr sum = comm.all_reduce(value, value, ReduceOp::sum);
  std::unique_ptr<Communicator> group;
  if (rank % 2 == 1) {
    sum->wait();
    group = comm.split(0, rank);
  } else {
    group = comm.split(0, rank);
    sum->wait();
  }
  CHECK(group->size() == size);
  CHECK(mismatches(value, [&](auto) { return size * (size - 1) / 2; }) == "");
}
