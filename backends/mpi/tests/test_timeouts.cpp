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
      std::this_thread::sleep_for(600ms);  // late, but not past the others' second wait
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
