// Nothing waits forever: a wait past the timeout throws a TimeoutError that names the operation,
// the group and the peer. The operation stays in flight, so once the late rank does its part a
// second wait completes it and the test ends cleanly.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "mpi_test_support.h"
#include "trellis/error.h"

using namespace trellis;
using namespace trellis::mpi_test;
using namespace std::chrono_literals;

namespace {

// Sets the world's timeout for the Works made while this lives.
class TimeoutScope {
 public:
  TimeoutScope(Communicator& comm, std::chrono::milliseconds timeout)
      : comm_(comm), saved_(comm.timeout()) {
    comm_.set_timeout(timeout);
  }
  ~TimeoutScope() { comm_.set_timeout(saved_); }

 private:
  Communicator& comm_;
  std::chrono::milliseconds saved_;
};

}  // namespace

TEST_CASE("a recv with no matching send times out within its timeout, naming the peer") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  const Tensor incoming = tensor(DType::f32, 7);
  WorkPtr received;
  {
    TimeoutScope one_second(comm, 1s);
    received = comm.recv(incoming, left, 77);
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string expected =
      "timed out after 1000 ms waiting for recv of 7 f32 elements from "
      "rank " +
      std::to_string(left) + " (world rank " + std::to_string(left) + "), tag 77 in group 'world'";
  CHECK_THROWS_WITH_AS(received->wait(), contains(expected), TimeoutError);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 1s);
  CHECK(waited < 10s);  // a generous bound: the machine may be busy

  // Everyone has timed out; now the message comes, and the same receive completes.
  comm.barrier()->wait();
  WorkPtr sent = comm.send(tensor(DType::f32, 7, rank), right, 77);
  received->wait();
  sent->wait();
  CHECK(get(incoming, 6) == left);
}

TEST_CASE("a collective a rank joins late times out on the others, saying the run must stop") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  if (size == 1) return;  // nobody to be late
  // Both all_reduce paths: recursive doubling (small) and, above 1 MiB, the ring (which also
  // says where it stands and whom it waits for) or MPI_Iallreduce.
  for (std::int64_t n : {std::int64_t{3}, std::int64_t{300000}}) {
    CAPTURE(n);
    const Tensor value = tensor(DType::f32, n, 1);
    if (rank == size - 1) {
      // Late by far more than the others' 200 ms wait: a loaded machine (2 cores, ctest -j2) can
      // deschedule them for a few hundred milliseconds before they get to their short waits.
      std::this_thread::sleep_for(1500ms);
      comm.all_reduce(value, value, ReduceOp::sum)->wait();
    } else {
      WorkPtr sum = comm.all_reduce(value, value, ReduceOp::sum);
      CHECK_THROWS_WITH_AS(sum->wait_for(200ms),
                           contains("waiting for all_reduce (sum) of " + std::to_string(n) +
                                    " f32 elements in group 'world' (world ranks [0"),
                           TimeoutError);
      if (n > 1000 && ring_all_reduce_in_use()) {
        CHECK_THROWS_WITH_AS(sum->wait_for(1ms), contains(", at ring step "), TimeoutError);
        CHECK_THROWS_WITH_AS(sum->wait_for(1ms), contains("still waiting for rank "), TimeoutError);
      }
      CHECK_THROWS_WITH_AS(sum->wait_for(1ms), contains("cannot be cancelled: the run must stop"),
                           TimeoutError);
      sum->wait();
    }
    CHECK(mismatches(value, [&](auto) { return size; }) == "");
  }
}

TEST_CASE("a small broadcast or reduce a rank joins late times out, naming it and the group") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  if (size == 1) return;  // nobody to be late
  // 3 elements: the binomial trees (small_collective.h). The broadcast is rooted at the late
  // rank, so every other rank waits for it; the reduce's root 0 waits for every rank, while
  // other ranks may finish as soon as their eager sends are queued, so only it is checked.
  const int late = size - 1;
  const Tensor buffer = tensor(DType::f32, 3, rank == late ? 5 : 0);
  const Tensor input = tensor(DType::f32, 3, 1);
  const Tensor output = tensor(DType::f32, 3, -1);
  for (const bool broadcast : {true, false}) {
    CAPTURE(broadcast);
    auto start = [&] {
      return broadcast ? comm.broadcast(buffer, late)
                       : comm.reduce(input, output, ReduceOp::sum, 0);
    };
    if (rank == late) {
      std::this_thread::sleep_for(1500ms);  // as above
      start()->wait();
    } else {
      WorkPtr work = start();
      if (broadcast || rank == 0) {
        const std::string operation =
            broadcast ? "waiting for broadcast of 3 f32 elements from root " + std::to_string(late)
                      : std::string("waiting for reduce (sum) of 3 f32 elements to root 0");
        CHECK_THROWS_WITH_AS(work->wait_for(200ms), contains(operation), TimeoutError);
        CHECK_THROWS_WITH_AS(work->wait_for(1ms), contains(" in group 'world' (world ranks [0"),
                             TimeoutError);
      }
      work->wait();
    }
  }
  CHECK(mismatches(buffer, [&](auto) { return 5; }) == "");
  if (rank == 0) CHECK(mismatches(output, [&](auto) { return size; }) == "");
}

TEST_CASE("a reduce_scatter or reduce a rank joins late times out on the others") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  if (size == 1) return;  // nobody to be late
  // Inputs of 1.2 MB per rank: several ring segments, and by the backend's ring at every group
  // size with the default limits (reduce from 64 KiB, reduce_scatter from 1 MiB at most), which
  // says where it stands and whom it waits for.
  constexpr std::int64_t kChunk = 300000;
  const Tensor input = tensor(DType::f32, kChunk * size, 1);
  const Tensor scattered = tensor(DType::f32, kChunk);
  const Tensor reduced = tensor(DType::f32, kChunk * size);
  for (const bool scatter : {true, false}) {
    CAPTURE(scatter);
    auto start = [&] {
      return scatter ? comm.reduce_scatter(input, scattered, ReduceOp::sum)
                     : comm.reduce(input, reduced, ReduceOp::sum, 0);
    };
    if (rank == size - 1) {
      std::this_thread::sleep_for(1500ms);  // as above
      start()->wait();
    } else {
      WorkPtr work = start();
      // One timed-out wait, its message checked whole: a second short wait could find the late
      // rank arrived on a busy machine.
      std::string message;
      try {
        work->wait_for(200ms);
      } catch (const TimeoutError& error) {
        message = error.what();
      }
      const std::string operation = std::string("waiting for ") +
                                    (scatter ? "reduce_scatter" : "reduce") + " (sum) of " +
                                    std::to_string(kChunk * size) + " f32 elements";
      CHECK(message.find(operation) != std::string::npos);
      CHECK(message.find(", at ring step ") != std::string::npos);
      CHECK(message.find("still waiting for rank ") != std::string::npos);
      work->wait();
    }
    if (scatter) CHECK(mismatches(scattered, [&](auto) { return size; }) == "");
    if (!scatter && rank == 0) CHECK(mismatches(reduced, [&](auto) { return size; }) == "");
  }
}
