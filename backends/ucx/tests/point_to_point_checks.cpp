// send/recv: tags, peers, sizes, and that user messages never mix with collective traffic.
#include <vector>

#include "rank_world.h"
#include "trellis/error.h"

namespace trellis::ucx_test {

TEST_CASE("send and recv pass messages around a ring, of every size") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  const int next = (me + 1) % n, prev = (me + n - 1) % n;
  for (DType dtype : {DType::f32, DType::i32}) {
    for (std::int64_t count : {0, 1, 7, 262147}) {
      CAPTURE(count);
      Tensor out = filled(dtype, count, [me](std::int64_t i) { return data(me, i); });
      Tensor in = empty(dtype, count);
      WorkPtr r = comm.recv(in, prev, 5);
      WorkPtr s = comm.send(out, next, 5);
      r->wait();
      s->wait();
      CHECK(first_mismatch(in, [prev](std::int64_t i) { return data(prev, i); }) == -1);
    }
  }
}

TEST_CASE("a receive matches the send with its tag, whatever the order") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  if (n < 2) return;
  const int tags[] = {3, 1, 2, 134217727};
  if (me == 0) {
    std::vector<WorkPtr> sends;
    for (int tag : tags) {
      sends.push_back(
          comm.send(filled(DType::i32, 3, [tag](std::int64_t i) { return tag + i; }), 1, tag));
    }
    for (auto& s : sends) s->wait();
  } else if (me == 1) {
    std::vector<Tensor> got;
    std::vector<WorkPtr> recvs;
    for (int i = 3; i >= 0; --i) {  // posted in reverse order, waited in another
      got.push_back(empty(DType::i32, 3));
      recvs.push_back(comm.recv(got.back(), 0, tags[i]));
    }
    for (int i : {2, 0, 3, 1}) recvs[static_cast<std::size_t>(i)]->wait();
    for (int i = 0; i < 4; ++i) {
      const int tag = tags[3 - i];
      CHECK(first_mismatch(got[static_cast<std::size_t>(i)],
                           [tag](std::int64_t k) { return tag + k; }) == -1);
    }
  }
  comm.barrier()->wait();
}

TEST_CASE("a rank can send to itself") {
  Communicator& comm = world();
  Tensor out = filled(DType::f32, 1000, [](std::int64_t i) { return i; });
  Tensor in = empty(DType::f32, 1000);
  WorkPtr r = comm.recv(in, comm.rank(), 9);
  comm.send(out, comm.rank(), 9)->wait();
  r->wait();
  CHECK(first_mismatch(in, [](std::int64_t i) { return i; }) == -1);
}

TEST_CASE("user messages and collectives do not match each other") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  if (n < 2) return;
  // Rank 0's send (tag 0) is in flight while every rank runs collectives.
  WorkPtr pending;
  Tensor message = filled(DType::f32, 64, [](std::int64_t i) { return 1000 + i; });
  if (me == 0) pending = comm.send(message, 1, 0);
  Tensor x = filled(DType::f32, 64, [me](std::int64_t i) { return data(me, i); });
  comm.all_reduce(x, x, ReduceOp::sum)->wait();
  comm.barrier()->wait();
  if (me == 1) {
    Tensor got = empty(DType::f32, 64);
    comm.recv(got, 0, 0)->wait();
    CHECK(first_mismatch(got, [](std::int64_t i) { return 1000 + i; }) == -1);
  }
  if (pending) pending->wait();
  CHECK(first_mismatch(x, [n](std::int64_t i) {
          double s = 0;
          for (int r = 0; r < n; ++r) s += data(r, i);
          return s;
        }) == -1);
}

TEST_CASE("a receive of the wrong size fails, naming the sender and both sizes") {
  Communicator& comm = world();
  const int n = comm.size(), me = comm.rank();
  if (n < 2) return;
  if (me == 0) comm.send(empty(DType::f32, 4), 1, 77)->wait();
  if (me == 1) {
    Tensor too_big = empty(DType::f32, 8);
    try {
      comm.recv(too_big, 0, 77)->wait();
      FAIL("the receive should have failed");
    } catch (const CommError& e) {
      const std::string what = e.what();
      CHECK(what.find("rank 0 sent 16 bytes where 32 were expected") != std::string::npos);
      CHECK(what.find("recv") != std::string::npos);
    }
  }
  comm.barrier()->wait();
}

}  // namespace trellis::ucx_test
