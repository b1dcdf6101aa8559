// Timeouts and dead peers: errors that name the operation, the group and the peer, promptly.
//
// These run in launches of their own (the "failures" test suite), since they leave ranks
// behind or make them exit.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "rank_world.h"
#include "trellis/error.h"

namespace trellis::ucx_test {

TEST_SUITE("failures") {
  TEST_CASE("a wait that times out names the operation, the group and the peer it waits for") {
    Communicator& comm = world();
    const int n = comm.size(), me = comm.rank();
    REQUIRE(n >= 2);
    Tensor x = filled(DType::f32, 262147, [me](std::int64_t i) { return data(me, i); });
    if (me == n - 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    WorkPtr work = comm.all_reduce(x, x, ReduceOp::sum);
    if (me != n - 1) {
      try {
        work->wait_for(std::chrono::milliseconds(300));
        FAIL("the wait should have timed out");
      } catch (const TimeoutError& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("all_reduce (ring, 1048588 bytes of f32, sum) on world") !=
              std::string::npos);
        CHECK(what.find("timed out after 300 ms") != std::string::npos);
        // In the ring, rank 0 waits for data from its predecessor, the late rank.
        if (me == 0) {
          CHECK(what.find("still waiting for data from rank " + std::to_string(n - 1)) !=
                std::string::npos);
        }
      }
    }
    // The operation is still in flight: once the late rank arrives it completes.
    work->wait();
    CHECK(first_mismatch(x, [n](std::int64_t i) {
            double s = 0;
            for (int r = 0; r < n; ++r) s += data(r, i);
            return s;
          }) == -1);
  }

  TEST_CASE("a timeout on a split group names the group and the peer's world rank") {
    Communicator& comm = world();
    const int n = comm.size(), me = comm.rank();
    REQUIRE(n >= 2);
    auto reversed = comm.split(0, -me);  // group rank g is world rank n-1-g
    if (me == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    Tensor x = filled(DType::f32, 3, [](std::int64_t) { return 1; });
    WorkPtr work = reversed->all_gather(x, empty(DType::f32, 3 * n));
    if (me == n - 1) {  // group rank 0; in Bruck's first round it waits for group rank 1
      try {
        work->wait_for(std::chrono::milliseconds(200));
      } catch (const TimeoutError& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("on world/color 0 (world ranks " + std::to_string(n - 1)) !=
              std::string::npos);
        if (n == 2) CHECK(what.find("data from rank 1 (world rank 0)") != std::string::npos);
      }
    }
    work->wait();
  }

  TEST_CASE("a peer that exits is reported by name within seconds") {
    Communicator& comm = world();
    const int n = comm.size(), me = comm.rank();
    REQUIRE(n >= 2);
    comm.barrier()->wait();
    if (me == n - 1) {  // dies without a word, as a crashed process would
      std::fflush(stdout);
      std::_Exit(0);
    }
    Tensor x = filled(DType::f32, 262147, [me](std::int64_t i) { return data(me, i); });
    const auto start = std::chrono::steady_clock::now();
    try {
      comm.all_reduce(x, x, ReduceOp::sum)->wait_for(std::chrono::seconds(60));
      FAIL("the all_reduce should have failed");
    } catch (const TimeoutError& e) {
      FAIL("timed out instead of reporting the dead peer: " << e.what());
    } catch (const CommError& e) {
      const std::string what = e.what();
      INFO(what);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      MESSAGE("rank " << me << " learnt of the failure after " << seconds << " s: " << what);
      CHECK(seconds < 15);
      CHECK(what.find("all_reduce (ring") != std::string::npos);
      CHECK(what.find("rank " + std::to_string(n - 1) + " ") != std::string::npos);
    }
    // Survivors stay until all have reported (through the store, not UCX): a survivor that left
    // early would be the first failure its neighbours see, and they would rightly name it instead.
    store()->add("peer-exit-reported", 1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (store()->add("peer-exit-reported", 0) < n - 1 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  TEST_CASE("start-up names the ranks that never published their address") {
    const int n = env_world_size(), me = env_rank();
    REQUIRE(n >= 2);
    if (me == n - 1) return;  // never joins
    const std::string message = "for the worker address of rank(s) " + std::to_string(n - 1);
    CHECK_THROWS_WITH_AS(make_world(Options{}, std::chrono::milliseconds(500)),
                         doctest::Contains(message.c_str()), TimeoutError);
  }
}

}  // namespace trellis::ucx_test
