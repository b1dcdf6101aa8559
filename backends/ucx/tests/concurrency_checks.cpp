// Several operations in flight at once: each progresses whichever Work a rank waits on, ranks
// may wait in different orders, and a dropped Work still does its part.
#include <chrono>
#include <thread>
#include <vector>

#include "rank_world.h"
#include "trellis/error.h"

namespace trellis::ucx_test {

namespace {

double sum_over_ranks(int n, std::int64_t i) {
  double s = 0;
  for (int r = 0; r < n; ++r) s += data(r, i);
  return s;
}

}  // namespace

TEST_CASE("collectives in flight together complete whatever order ranks wait in") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  const std::int64_t big = 262147, small = 7;
  Tensor a = filled(DType::f32, big, [me](std::int64_t i) { return data(me, i); });
  Tensor b_in = filled(DType::i32, small, [me](std::int64_t i) { return data(me, i); });
  Tensor b_out = empty(DType::i32, small * n);
  Tensor c =
      filled(DType::f32, big, [me, n](std::int64_t i) { return me == n - 1 ? data(me, i) : 0; });
  Tensor e = filled(DType::f32, small, [me](std::int64_t i) { return data(me, i); });

  std::vector<WorkPtr> works;
  works.push_back(comm.all_reduce(a, a, ReduceOp::sum));
  works.push_back(comm.all_gather(b_in, b_out));
  works.push_back(comm.broadcast(c, n - 1));
  works.push_back(comm.barrier());
  works.push_back(comm.all_reduce(e, e, ReduceOp::max));
  if (me % 2 == 0) {
    for (auto it = works.rbegin(); it != works.rend(); ++it) (*it)->wait();
  } else {
    for (auto& w : works) w->wait();
  }
  CHECK(first_mismatch(a, [n](std::int64_t i) { return sum_over_ranks(n, i); }) == -1);
  CHECK(first_mismatch(b_out, [small](std::int64_t i) {
          return data(static_cast<int>(i / small), i % small);
        }) == -1);
  CHECK(first_mismatch(c, [n](std::int64_t i) { return data(n - 1, i); }) == -1);
  CHECK(first_mismatch(e, [n](std::int64_t i) {
          double m = data(0, i);
          for (int r = 1; r < n; ++r) m = std::max(m, data(r, i));
          return m;
        }) == -1);
}

TEST_CASE("test() alone drives an operation to completion") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  Tensor x = filled(DType::f32, 100000, [me](std::int64_t i) { return data(me, i); });
  WorkPtr work = comm.all_reduce(x, x, ReduceOp::sum);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool done = false;
  while (!(done = work->test()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(done);
  CHECK(first_mismatch(x, [n](std::int64_t i) { return sum_over_ranks(n, i); }) == -1);
}

TEST_CASE("a wait with the longest timeout there is still completes") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  Tensor x = filled(DType::i32, 10, [me](std::int64_t i) { return data(me, i); });
  comm.all_reduce(x, x, ReduceOp::sum)->wait_for(std::chrono::milliseconds::max());
  CHECK(first_mismatch(x, [n](std::int64_t i) { return sum_over_ranks(n, i); }) == -1);
}

TEST_CASE("collectives on a split group and on the world run at the same time") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  auto half = comm.split(me % 2, me);
  const int h = half->size();
  Tensor w = filled(DType::f32, 65536, [me](std::int64_t i) { return data(me, i); });
  Tensor s = filled(DType::f32, 65536, [me](std::int64_t i) { return data(me, i); });
  WorkPtr on_world = comm.all_reduce(w, w, ReduceOp::sum);
  WorkPtr on_half = half->all_reduce(s, s, ReduceOp::sum);
  on_half->wait();
  on_world->wait();
  CHECK(first_mismatch(w, [n](std::int64_t i) { return sum_over_ranks(n, i); }) == -1);
  CHECK(first_mismatch(s, [&](std::int64_t i) {
          double total = 0;
          for (int k = 0; k < h; ++k) total += data(2 * k + me % 2, i);
          return total;
        }) == -1);
}

TEST_CASE("an operation whose Work was dropped still does its part") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  Tensor first = filled(DType::f32, 262147, [me](std::int64_t i) { return data(me, i); });
  Tensor second = filled(DType::f32, 7, [me](std::int64_t i) { return data(me, i); });
  if (me == 0) {
    comm.all_reduce(first, first, ReduceOp::sum).reset();  // nobody on rank 0 waits for it
  } else {
    WorkPtr w = comm.all_reduce(first, first, ReduceOp::sum);
    w->wait();
    CHECK(first_mismatch(first, [n](std::int64_t i) { return sum_over_ranks(n, i); }) == -1);
  }
  comm.all_reduce(second, second, ReduceOp::sum)->wait();
  CHECK(first_mismatch(second, [n](std::int64_t i) { return sum_over_ranks(n, i); }) == -1);
  comm.barrier()->wait();
}

TEST_CASE("a stream of small broadcasts and reduces from one root stays in order") {
  // The root only sends (the leaves of a reduce too): it runs ahead of its peers until the
  // transport's queue to them is full, then waits for room; every message still arrives, in
  // order, whether each operation is waited on at once or all at the end.
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  constexpr int kStream = 3000;
  auto value = [](int iteration, int rank) { return static_cast<float>(iteration % 1000 + rank); };
  Tensor buffer = empty(DType::f32, 2);
  Tensor out = empty(DType::f32, 2);
  int wrong_broadcasts = 0, wrong_reduces = 0;
  for (int it = 0; it < kStream; ++it) {
    buffer.data<float>()[0] = buffer.data<float>()[1] = me == 0 ? value(it, 0) : -1.0f;
    comm.broadcast(buffer, 0)->wait();
    if (buffer.data<float>()[1] != value(it, 0)) ++wrong_broadcasts;
  }
  for (int it = 0; it < kStream; ++it) {
    buffer.data<float>()[0] = buffer.data<float>()[1] = value(it, me);
    comm.reduce(buffer, out, ReduceOp::max, 0)->wait();
    if (me == 0 && out.data<float>()[1] != value(it, n - 1)) ++wrong_reduces;
  }
  CHECK(wrong_broadcasts == 0);
  CHECK(wrong_reduces == 0);

  // Many in flight at once: sends that found the queue full must still leave.
  constexpr int kInFlight = 400;
  std::vector<Tensor> buffers;
  std::vector<WorkPtr> works;
  for (int it = 0; it < kInFlight; ++it) {
    buffers.push_back(filled(DType::f32, 2, [&](std::int64_t) { return me == 0 ? it : -1; }));
    works.push_back(comm.broadcast(buffers.back(), 0));
  }
  for (WorkPtr& work : works) work->wait();
  int wrong_in_flight = 0;
  for (int it = 0; it < kInFlight; ++it) {
    if (at(buffers[static_cast<std::size_t>(it)], 1) != it) ++wrong_in_flight;
  }
  CHECK(wrong_in_flight == 0);
}

}  // namespace trellis::ucx_test
