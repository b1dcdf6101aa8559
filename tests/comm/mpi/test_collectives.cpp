// Every collective at this group size: f32 and i32, in place and out of place, every size of
// kSizes, results checked element by element against what every rank can compute.
#include <doctest/doctest.h>

#include <algorithm>

#include "mpi_test_support.h"

using namespace trellis;
using namespace trellis::mpi_test;

namespace {

constexpr DType kTypes[] = {DType::f32, DType::i32};
constexpr ReduceOp kOps[] = {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min};

// op over ranks 0..size-1 of contribution(rank, i).
double reduced(ReduceOp op, int size, std::int64_t i) {
  double sum = 0, high = contribution(0, i), low = contribution(0, i);
  for (int r = 0; r < size; ++r) {
    sum += contribution(r, i);
    high = std::max(high, contribution(r, i));
    low = std::min(low, contribution(r, i));
  }
  switch (op) {
    case ReduceOp::sum:
      return sum;
    case ReduceOp::avg:
      // What the backend computes: the f32 sum divided by the size, rounded to f32.
      return static_cast<float>(sum) / static_cast<float>(size);
    case ReduceOp::max:
      return high;
    case ReduceOp::min:
      return low;
  }
  return 0;
}

bool skip(DType dtype, ReduceOp op) {
  return dtype == DType::i32 && op == ReduceOp::avg;  // unsupported: test_operand_errors.cpp
}

}  // namespace

TEST_CASE("all_reduce gives every rank op over the ranks' inputs") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  for (DType dtype : kTypes) {
    for (ReduceOp op : kOps) {
      if (skip(dtype, op)) continue;
      for (std::int64_t n : kSizes) {
        for (bool in_place : {false, true}) {
          const std::string type = dtype_name(dtype);
          CAPTURE(type);
          const std::string reduction = reduce_op_name(op);
          CAPTURE(reduction);
          CAPTURE(n);
          CAPTURE(in_place);
          CAPTURE(rank);
          const Tensor input = tensor_of(dtype, n, [&](auto i) { return contribution(rank, i); });
          const Tensor output = in_place ? input : tensor(dtype, n);
          comm.all_reduce(input, output, op)->wait();
          CHECK(mismatches(output, [&](auto i) { return reduced(op, size, i); }) == "");
          if (!in_place) {
            CHECK(mismatches(input, [&](auto i) { return contribution(rank, i); }) == "");
          }
        }
      }
    }
  }
}

TEST_CASE("all_gather concatenates the ranks' inputs in rank order") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  for (DType dtype : kTypes) {
    for (std::int64_t n : kSizes) {
      for (bool in_place : {false, true}) {
        const std::string type = dtype_name(dtype);
        CAPTURE(type);
        CAPTURE(n);
        CAPTURE(in_place);
        CAPTURE(rank);
        const Tensor output = tensor(dtype, size * n);
        // In place: the input is this rank's chunk of the output.
        const Tensor input = in_place ? output.narrow(0, rank * n, n) : tensor(dtype, n);
        for (std::int64_t i = 0; i < n; ++i) set(input, i, contribution(rank, i));
        comm.all_gather(input, output)->wait();
        CHECK(mismatches(output, [&](auto i) {
                return contribution(static_cast<int>(i / std::max<std::int64_t>(n, 1)), i % n);
              }) == "");
      }
    }
  }
}

TEST_CASE("reduce_scatter gives each rank its chunk of op over the ranks' inputs") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  for (DType dtype : kTypes) {
    for (ReduceOp op : kOps) {
      if (skip(dtype, op)) continue;
      for (std::int64_t n : kSizes) {
        const std::string type = dtype_name(dtype);
        CAPTURE(type);
        const std::string reduction = reduce_op_name(op);
        CAPTURE(reduction);
        CAPTURE(n);
        CAPTURE(rank);
        const Tensor input =
            tensor_of(dtype, size * n, [&](auto i) { return contribution(rank, i); });
        const Tensor output = tensor(dtype, n);
        comm.reduce_scatter(input, output, op)->wait();
        CHECK(mismatches(output, [&](auto i) { return reduced(op, size, rank * n + i); }) == "");
        if (size == 1) {  // the one group where input and output can be the same tensor
          comm.reduce_scatter(input, input, op)->wait();
          CHECK(mismatches(input, [&](auto i) { return reduced(op, size, i); }) == "");
        }
      }
    }
  }
}

TEST_CASE("broadcast copies the root's buffer to every rank, from every root") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  for (DType dtype : kTypes) {
    for (std::int64_t n : kSizes) {
      for (int root = 0; root < size; ++root) {
        const std::string type = dtype_name(dtype);
        CAPTURE(type);
        CAPTURE(n);
        CAPTURE(root);
        CAPTURE(rank);
        const Tensor buffer = tensor_of(dtype, n, [&](auto i) { return contribution(rank, i); });
        comm.broadcast(buffer, root)->wait();
        CHECK(mismatches(buffer, [&](auto i) { return contribution(root, i); }) == "");
      }
    }
  }
}

TEST_CASE("reduce writes op over the ranks' inputs on the root only") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  for (DType dtype : kTypes) {
    for (ReduceOp op : kOps) {
      if (skip(dtype, op)) continue;
      for (std::int64_t n : {std::int64_t{0}, std::int64_t{7}, std::int64_t{262144}}) {
        for (int root = 0; root < size; ++root) {
          for (bool in_place : {false, true}) {
            const std::string type = dtype_name(dtype);
            CAPTURE(type);
            const std::string reduction = reduce_op_name(op);
            CAPTURE(reduction);
            CAPTURE(n);
            CAPTURE(root);
            CAPTURE(in_place);
            CAPTURE(rank);
            const Tensor input = tensor_of(dtype, n, [&](auto i) { return contribution(rank, i); });
            const Tensor output = in_place ? input : tensor(dtype, n, -7);
            comm.reduce(input, output, op, root)->wait();
            if (rank == root) {
              CHECK(mismatches(output, [&](auto i) { return reduced(op, size, i); }) == "");
            } else if (in_place) {
              CHECK(mismatches(input, [&](auto i) { return contribution(rank, i); }) == "");
            } else {
              CHECK(mismatches(output, [](auto) { return -7.0; }) == "");
            }
          }
        }
      }
    }
  }
}

TEST_CASE("all_to_all sends chunk j of rank i to chunk i of rank j") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  // Element k of the chunk rank `from` sends to rank `to`.
  auto value = [](int from, int to, std::int64_t k) { return from * 1000 + to * 100 + k % 97; };
  for (DType dtype : kTypes) {
    for (std::int64_t chunk : kSizes) {
      for (bool in_place : {false, true}) {
        const std::string type = dtype_name(dtype);
        CAPTURE(type);
        CAPTURE(chunk);
        CAPTURE(in_place);
        CAPTURE(rank);
        const Tensor input = tensor_of(dtype, size * chunk, [&](auto i) {
          return value(rank, static_cast<int>(i / chunk), i % chunk);
        });
        const Tensor output = in_place ? input : tensor(dtype, size * chunk);
        comm.all_to_all(input, output)->wait();
        CHECK(mismatches(output, [&](auto i) {
                return value(static_cast<int>(i / chunk), rank, i % chunk);
              }) == "");
      }
    }
  }
}

TEST_CASE("barrier completes on every rank") {
  for (int i = 0; i < 3; ++i) world().barrier()->wait();
}
