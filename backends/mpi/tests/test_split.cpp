// split: disjoint groups ordered by key (here the reverse of the ranks), names, groups of
// groups, ranks that take no part, and groups working alongside their parent.
#include <doctest/doctest.h>

#include "mpi_test_support.h"

using namespace trellis;
using namespace trellis::mpi_test;

TEST_CASE("split by parity, keys reversed: disjoint groups ordered by key") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  const int color = rank % 2;
  std::unique_ptr<Communicator> group = comm.split(color, -rank);
  REQUIRE(group != nullptr);
  // Members: the ranks of this parity, highest first.
  int members = 0, position = 0;
  for (int r = size - 1; r >= 0; --r) {
    if (r % 2 != color) continue;
    if (r == rank) position = members;
    ++members;
  }
  CHECK(group->size() == members);
  CHECK(group->rank() == position);
  CHECK(group->name() == "split of world (color " + std::to_string(color) + ")");
  CHECK(group->timeout() == comm.timeout());
  CHECK(std::string(group->backend()) == "mpi");

  // The sum of the world ranks of the members, in the group only.
  const Tensor value = tensor(DType::i32, 3, rank);
  group->all_reduce(value, value, ReduceOp::sum)->wait();
  int expected = 0;
  for (int r = color; r < size; r += 2) expected += r;
  CHECK(mismatches(value, [&](auto) { return expected; }) == "");

  // Group rank 0 is the highest world rank of the parity: its broadcast reaches the others.
  const Tensor from_first = tensor(DType::f32, 2, rank);
  group->broadcast(from_first, 0)->wait();
  int highest = color;
  for (int r = color; r < size; r += 2) highest = r;
  CHECK(get(from_first, 1) == highest);
}

TEST_CASE("a negative color takes no part; the others form a group") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  std::unique_ptr<Communicator> group = comm.split(rank == 0 ? -1 : 7, rank);
  if (rank == 0) {
    CHECK(group == nullptr);
    return;
  }
  REQUIRE(group != nullptr);
  CHECK(group->size() == size - 1);
  CHECK(group->rank() == rank - 1);
  CHECK(group->name() == "split of world (color 7)");
}

TEST_CASE("groups split from groups, renamed, working while the parent does") {
  Communicator& comm = world();
  const int rank = comm.rank(), size = comm.size();
  std::unique_ptr<Communicator> everyone = comm.split(0, rank);
  REQUIRE(everyone != nullptr);
  everyone->set_name("data group");
  std::unique_ptr<Communicator> pairs = everyone->split(everyone->rank() / 2, everyone->rank());
  REQUIRE(pairs != nullptr);
  CHECK(pairs->name() == "split of data group (color " + std::to_string(rank / 2) + ")");
  const int pair_size = std::min(2, size - (rank / 2) * 2);
  CHECK(pairs->size() == pair_size);

  // Collectives on the parent and on the group in flight together.
  const Tensor in_world = tensor(DType::f32, 1000, 1);
  const Tensor in_pair = tensor(DType::f32, 3, 1);
  WorkPtr world_sum = comm.all_reduce(in_world, in_world, ReduceOp::sum);
  WorkPtr pair_sum = pairs->all_reduce(in_pair, in_pair, ReduceOp::sum);
  pair_sum->wait();
  world_sum->wait();
  CHECK(mismatches(in_world, [&](auto) { return size; }) == "");
  CHECK(mismatches(in_pair, [&](auto) { return pair_size; }) == "");
}
