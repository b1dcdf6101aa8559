// send and recv: around a ring of the group (to oneself in a group of one), every size, and
// messages told apart by their tags whatever the order they are posted in.
#include <doctest/doctest.h>

#include <vector>

#include "mpi_test_support.h"

using namespace trellis;
using namespace trellis::mpi_test;

TEST_CASE("send reaches the matching recv of the peer, around a ring") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  for (DType dtype : {DType::f32, DType::i32}) {
    for (std::int64_t n : kSizes) {
      const std::string type = dtype_name(dtype);
      CAPTURE(type);
      CAPTURE(n);
      CAPTURE(rank);
      const Tensor outgoing = tensor_of(dtype, n, [&](auto i) { return contribution(rank, i); });
      const Tensor incoming = tensor(dtype, n);
      WorkPtr received = comm.recv(incoming, left, 5);
      WorkPtr sent = comm.send(outgoing, right, 5);
      received->wait();
      sent->wait();
      CHECK(mismatches(incoming, [&](auto i) { return contribution(left, i); }) == "");
    }
  }
}

TEST_CASE("tags keep concurrent messages between the same ranks apart") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  constexpr int kMessages = 4;
  std::vector<Tensor> incoming;
  std::vector<WorkPtr> receives;
  // Receives posted with tags in the opposite order to the sends.
  for (int tag = kMessages - 1; tag >= 0; --tag) {
    incoming.push_back(tensor(DType::i32, 7));
    receives.push_back(comm.recv(incoming.back(), left, tag));
  }
  std::vector<WorkPtr> sends;
  for (int tag = 0; tag < kMessages; ++tag) {
    sends.push_back(comm.send(tensor(DType::i32, 7, rank * 10 + tag), right, tag));
  }
  for (auto& work : sends) work->wait();
  for (int k = 0; k < kMessages; ++k) {
    receives[k]->wait();
    const int tag = kMessages - 1 - k;
    CAPTURE(tag);
    CHECK(mismatches(incoming[k], [&](auto) { return left * 10 + tag; }) == "");
  }
}

TEST_CASE("test() reports completion without blocking") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const Tensor incoming = tensor(DType::f32, 3);
  WorkPtr received = comm.recv(incoming, (rank + size - 1) % size, 11);
  WorkPtr sent = comm.send(tensor(DType::f32, 3, rank), (rank + 1) % size, 11);
  while (!received->test() || !sent->test()) {
  }
  CHECK(received->test());  // and stays complete
  CHECK(sent->test());
  CHECK(get(incoming, 2) == (rank + size - 1) % size);
}
