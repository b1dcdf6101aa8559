// Every collective, checked against values computed here, at the world size this process was
// launched with: f32 and i32, every reduction, in place and out of place, sizes 0, 1, 7 and an
// odd ~1 MiB, each under several option sets so that every algorithm runs (ring and recursive
// doubling, ring and Bruck, chain and binomial tree, many chunks and one).
#include <algorithm>
#include <vector>

#include "rank_world.h"
#include "trellis/error.h"

namespace trellis::ucx_test {

namespace {

// One communicator and the message sizes (elements; per rank for the blocked operations) to
// test it with.
struct Setup {
  const char* name;
  Communicator* comm;
  std::vector<std::int64_t> counts;
};

const std::vector<Setup>& setups() {
  static const auto pipelined_tiny = make_world(options({{"all_reduce_ring_bytes", "0"},
                                                         {"all_gather_ring_bytes", "0"},
                                                         {"broadcast_chain_bytes", "0"},
                                                         {"chunk_bytes", "8"},
                                                         {"chunks_in_flight", "3"}}));
  static const auto pipelined_one_in_flight = make_world(options({{"all_reduce_ring_bytes", "0"},
                                                                  {"all_gather_ring_bytes", "0"},
                                                                  {"broadcast_chain_bytes", "0"},
                                                                  {"chunk_bytes", "4096"},
                                                                  {"chunks_in_flight", "1"}}));
  static const auto latency = make_world(options({{"all_reduce_ring_bytes", "1099511627776"},
                                                  {"all_gather_ring_bytes", "1099511627776"},
                                                  {"broadcast_chain_bytes", "1099511627776"}}));
  static const std::vector<Setup> all{
      {"default options", &world(), {0, 1, 7, 262147}},
      {"pipelined algorithms, 8-byte chunks", pipelined_tiny.get(), {1, 7, 61}},
      {"pipelined algorithms, 4 KiB chunks, one in flight", pipelined_one_in_flight.get(), {65539}},
      {"latency algorithms", latency.get(), {7, 262147}},
  };
  return all;
}

struct Reduction {
  DType dtype;
  ReduceOp op;
};
const Reduction kReductions[] = {
    {DType::f32, ReduceOp::sum}, {DType::f32, ReduceOp::avg}, {DType::f32, ReduceOp::max},
    {DType::f32, ReduceOp::min}, {DType::i32, ReduceOp::sum}, {DType::i32, ReduceOp::max},
    {DType::i32, ReduceOp::min},
};
const DType kDtypes[] = {DType::f32, DType::i32};

// op over ranks 0..n-1 of value(rank), as the backend computes it (avg: the f32 sum divided by
// n in f32).
double reduce_over_ranks(ReduceOp op, int n, const std::function<double(int)>& value) {
  double acc = value(0);
  for (int r = 1; r < n; ++r) {
    const double v = value(r);
    acc = op == ReduceOp::max ? std::max(acc, v) : op == ReduceOp::min ? std::min(acc, v) : acc + v;
  }
  if (op == ReduceOp::avg) return static_cast<float>(acc) / static_cast<float>(n);
  return acc;
}

void write_data(const Tensor& t, int rank, std::int64_t offset = 0) {
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype() == DType::f32) {
      t.data<float>()[i] = static_cast<float>(data(rank, offset + i));
    } else {
      t.data<std::int32_t>()[i] = static_cast<std::int32_t>(data(rank, offset + i));
    }
  }
}

}  // namespace

TEST_CASE("all_reduce gives every rank op over all ranks' inputs") {
  for (const Setup& setup : setups()) {
    Communicator& comm = *setup.comm;
    const int n = comm.size(), me = comm.rank();
    for (const Reduction& red : kReductions) {
      for (std::int64_t count : setup.counts) {
        for (bool in_place : {false, true}) {
          CAPTURE(setup.name);
          CAPTURE(dtype_name(red.dtype));
          CAPTURE(reduce_op_name(red.op));
          CAPTURE(count);
          CAPTURE(in_place);
          Tensor in = empty(red.dtype, count);
          write_data(in, me);
          Tensor out = in_place ? in : empty(red.dtype, count);
          comm.all_reduce(in, out, red.op)->wait();
          CHECK(first_mismatch(out, [&](std::int64_t i) {
                  return reduce_over_ranks(red.op, n, [i](int r) { return data(r, i); });
                }) == -1);
          if (!in_place)
            CHECK(first_mismatch(in, [&](std::int64_t i) { return data(me, i); }) == -1);
        }
      }
    }
  }
}

TEST_CASE("all_gather concatenates every rank's input in rank order") {
  for (const Setup& setup : setups()) {
    Communicator& comm = *setup.comm;
    const int n = comm.size(), me = comm.rank();
    for (DType dtype : kDtypes) {
      for (std::int64_t count : setup.counts) {
        for (bool in_place : {false, true}) {
          CAPTURE(setup.name);
          CAPTURE(dtype_name(dtype));
          CAPTURE(count);
          CAPTURE(in_place);
          Tensor out = empty(dtype, count * n);
          Tensor in = in_place ? out.narrow(0, count * me, count) : empty(dtype, count);
          write_data(in, me);
          comm.all_gather(in, out)->wait();
          CHECK(first_mismatch(out, [&](std::int64_t i) {
                  return data(static_cast<int>(i / count), i % count);
                }) == -1);
        }
      }
    }
  }
}

TEST_CASE("reduce_scatter leaves block r of the reduction on rank r") {
  for (const Setup& setup : setups()) {
    Communicator& comm = *setup.comm;
    const int n = comm.size(), me = comm.rank();
    for (const Reduction& red : kReductions) {
      for (std::int64_t count : setup.counts) {
        for (bool in_place : {false, true}) {
          CAPTURE(setup.name);
          CAPTURE(dtype_name(red.dtype));
          CAPTURE(reduce_op_name(red.op));
          CAPTURE(count);
          CAPTURE(in_place);
          Tensor in = empty(red.dtype, count * n);
          write_data(in, me);
          Tensor out = in_place ? in.narrow(0, count * me, count) : empty(red.dtype, count);
          comm.reduce_scatter(in, out, red.op)->wait();
          CHECK(first_mismatch(out, [&](std::int64_t i) {
                  return reduce_over_ranks(red.op, n,
                                           [&](int r) { return data(r, count * me + i); });
                }) == -1);
        }
      }
    }
  }
}

TEST_CASE("broadcast copies the root's buffer to every rank, from every root") {
  for (const Setup& setup : setups()) {
    Communicator& comm = *setup.comm;
    const int n = comm.size(), me = comm.rank();
    for (DType dtype : kDtypes) {
      for (std::int64_t count : setup.counts) {
        for (int root = 0; root < n; ++root) {
          CAPTURE(setup.name);
          CAPTURE(dtype_name(dtype));
          CAPTURE(count);
          CAPTURE(root);
          Tensor buffer = filled(dtype, count, [](std::int64_t) { return 99; });
          if (me == root) write_data(buffer, root);
          comm.broadcast(buffer, root)->wait();
          CHECK(first_mismatch(buffer, [&](std::int64_t i) { return data(root, i); }) == -1);
        }
      }
    }
  }
}

TEST_CASE("reduce writes op over all ranks on the root only") {
  for (const Setup& setup : setups()) {
    Communicator& comm = *setup.comm;
    const int n = comm.size(), me = comm.rank();
    for (const Reduction& red : kReductions) {
      for (std::int64_t count : setup.counts) {
        for (int root = 0; root < n; ++root) {
          for (bool in_place : {false, true}) {
            CAPTURE(setup.name);
            CAPTURE(dtype_name(red.dtype));
            CAPTURE(reduce_op_name(red.op));
            CAPTURE(count);
            CAPTURE(root);
            CAPTURE(in_place);
            Tensor in = empty(red.dtype, count);
            write_data(in, me);
            // Non-roots pass no output at all: reduce never writes theirs.
            Tensor out = me != root ? Tensor() : in_place ? in : empty(red.dtype, count);
            comm.reduce(in, out, red.op, root)->wait();
            if (me == root) {
              CHECK(first_mismatch(out, [&](std::int64_t i) {
                      return reduce_over_ranks(red.op, n, [i](int r) { return data(r, i); });
                    }) == -1);
            } else {
              CHECK(first_mismatch(in, [&](std::int64_t i) { return data(me, i); }) == -1);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("all_to_all sends block j of rank i to block i of rank j") {
  for (const Setup& setup : setups()) {
    Communicator& comm = *setup.comm;
    const int n = comm.size(), me = comm.rank();
    for (DType dtype : kDtypes) {
      for (std::int64_t count : setup.counts) {
        for (bool in_place : {false, true}) {
          CAPTURE(setup.name);
          CAPTURE(dtype_name(dtype));
          CAPTURE(count);
          CAPTURE(in_place);
          Tensor in = empty(dtype, count * n);
          write_data(in, me);
          Tensor out = in_place ? in : empty(dtype, count * n);
          comm.all_to_all(in, out)->wait();
          // Block j of the output is rank j's block `me`.
          CHECK(first_mismatch(out, [&](std::int64_t i) {
                  const std::int64_t from = i / count, k = i % count;
                  return data(static_cast<int>(from), count * me + k);
                }) == -1);
        }
      }
    }
  }
}

TEST_CASE("barrier lets no rank through before every rank has arrived") {
  const int n = world().size();
  if (n == 1) {
    world().barrier()->wait();
    return;
  }
  for (int round = 0; round < 5; ++round) {
    const std::string key = "barrier-test-" + std::to_string(round);
    store()->add(key, 1);
    world().barrier()->wait();
    CHECK(store()->add(key, 0) == n);
    // A second barrier keeps the next round's counter from being read early by a fast rank.
    world().barrier()->wait();
  }
}

}  // namespace trellis::ucx_test
