// split(color, key): membership, order, nesting, names, and separation of the groups' traffic.
#include <vector>

#include "rank_world.h"
#include "trellis/error.h"

namespace trellis::ucx_test {

namespace {

// Sum over the given world ranks of data(rank, i).
double sum_of(const std::vector<int>& ranks, std::int64_t i) {
  double s = 0;
  for (int r : ranks) s += data(r, i);
  return s;
}

// The world ranks of `comm`, in its rank order, found by gathering each member's world rank.
std::vector<int> members(Communicator& comm, int world_rank) {
  Tensor mine = filled(DType::i32, 1, [world_rank](std::int64_t) { return world_rank; });
  Tensor all = empty(DType::i32, comm.size());
  comm.all_gather(mine, all)->wait();
  return std::vector<int>(all.data<std::int32_t>(), all.data<std::int32_t>() + comm.size());
}

}  // namespace

TEST_CASE("split by parity makes disjoint groups ordered by key") {
  Communicator& world_comm = world();
  const int n = world_comm.size(), me = world_comm.rank();
  auto group = world_comm.split(me % 2, me);
  REQUIRE(group != nullptr);
  std::vector<int> expected;
  for (int r = me % 2; r < n; r += 2) expected.push_back(r);
  CHECK(group->size() == static_cast<int>(expected.size()));
  CHECK(group->rank() == me / 2);
  CHECK(std::string(group->backend()) == "ucx");
  CHECK(group->name() == "world/color " + std::to_string(me % 2));
  CHECK(members(*group, me) == expected);
  Tensor x = filled(DType::f32, 1000, [me](std::int64_t i) { return data(me, i); });
  group->all_reduce(x, x, ReduceOp::sum)->wait();
  CHECK(first_mismatch(x, [&](std::int64_t i) { return sum_of(expected, i); }) == -1);
}

TEST_CASE("split orders a group by key, not by rank, and breaks ties by rank") {
  Communicator& world_comm = world();
  const int n = world_comm.size(), me = world_comm.rank();
  auto reversed = world_comm.split(0, -me);
  CHECK(reversed->rank() == n - 1 - me);
  std::vector<int> backwards;
  for (int r = n - 1; r >= 0; --r) backwards.push_back(r);
  CHECK(members(*reversed, me) == backwards);

  auto tied = world_comm.split(7, 0);
  CHECK(tied->rank() == me);
  // Broadcast from the reversed group's rank 0 (world rank n-1).
  Tensor b = filled(DType::i32, 5, [me](std::int64_t i) { return data(me, i); });
  reversed->broadcast(b, 0)->wait();
  CHECK(first_mismatch(b, [n](std::int64_t i) { return data(n - 1, i); }) == -1);
}

TEST_CASE("split of a split maps ranks through to the world") {
  Communicator& world_comm = world();
  const int n = world_comm.size(), me = world_comm.rank();
  auto all = world_comm.split(0, me);
  auto halves = all->split(me < n / 2 ? 0 : 1, me);
  auto inner = halves->split(0, -halves->rank());
  std::vector<int> expected;
  for (int r = n - 1; r >= 0; --r) {
    if ((r < n / 2) == (me < n / 2)) expected.push_back(r);
  }
  CHECK(members(*inner, me) == expected);
  CHECK(inner->name().find("world/color 0/color") == 0);
  Tensor x = filled(DType::i32, 300, [me](std::int64_t i) { return data(me, i); });
  inner->all_reduce(x, x, ReduceOp::sum)->wait();
  CHECK(first_mismatch(x, [&](std::int64_t i) { return sum_of(expected, i); }) == -1);
}

TEST_CASE("a negative color leaves a rank out of every group") {
  Communicator& world_comm = world();
  const int n = world_comm.size(), me = world_comm.rank();
  auto group = world_comm.split(me == 0 ? -1 : 4, me);
  if (me == 0) {
    CHECK(group == nullptr);
    return;
  }
  REQUIRE(group != nullptr);
  CHECK(group->size() == n - 1);
  CHECK(group->rank() == me - 1);
  group->barrier()->wait();
}

TEST_CASE("two groups with the same members keep their messages apart") {
  Communicator& world_comm = world();
  const int n = world_comm.size(), me = world_comm.rank();
  auto first = world_comm.split(0, me);
  auto second = world_comm.split(0, me);
  Tensor a = filled(DType::f32, 5000, [me](std::int64_t i) { return data(me, i); });
  Tensor b = filled(DType::f32, 5000, [me](std::int64_t i) { return 2 * data(me, i); });
  WorkPtr wa = first->all_reduce(a, a, ReduceOp::sum);
  WorkPtr wb = second->all_reduce(b, b, ReduceOp::sum);
  wb->wait();
  wa->wait();
  std::vector<int> everyone;
  for (int r = 0; r < n; ++r) everyone.push_back(r);
  CHECK(first_mismatch(a, [&](std::int64_t i) { return sum_of(everyone, i); }) == -1);
  CHECK(first_mismatch(b, [&](std::int64_t i) { return 2 * sum_of(everyone, i); }) == -1);
}

TEST_CASE("every collective works on a split group") {
  Communicator& world_comm = world();
  const int me = world_comm.rank();
  auto group = world_comm.split(me % 2, -me);
  const int g = group->size(), gr = group->rank();
  const std::vector<int> ranks = members(*group, me);  // world rank of each group rank
  Tensor gathered = empty(DType::f32, 3 * g);
  group->all_gather(filled(DType::f32, 3, [me](std::int64_t i) { return data(me, i); }), gathered)
      ->wait();
  CHECK(first_mismatch(gathered, [&](std::int64_t i) { return data(ranks[i / 3], i % 3); }) == -1);

  Tensor scattered = empty(DType::i32, 4);
  group
      ->reduce_scatter(filled(DType::i32, 4 * g, [me](std::int64_t i) { return data(me, i); }),
                       scattered, ReduceOp::sum)
      ->wait();
  CHECK(first_mismatch(scattered, [&](std::int64_t i) { return sum_of(ranks, 4 * gr + i); }) == -1);

  Tensor reduced = empty(DType::f32, 9);
  group
      ->reduce(filled(DType::f32, 9, [me](std::int64_t i) { return data(me, i); }), reduced,
               ReduceOp::sum, g - 1)
      ->wait();
  if (gr == g - 1)
    CHECK(first_mismatch(reduced, [&](std::int64_t i) { return sum_of(ranks, i); }) == -1);

  Tensor exchanged = empty(DType::i32, 2 * g);
  group
      ->all_to_all(filled(DType::i32, 2 * g, [me](std::int64_t i) { return data(me, i); }),
                   exchanged)
      ->wait();
  CHECK(first_mismatch(exchanged,
                       [&](std::int64_t i) { return data(ranks[i / 2], 2 * gr + i % 2); }) == -1);

  if (g > 1) {
    Tensor m = filled(DType::f32, 2, [gr](std::int64_t i) { return gr * 10 + i; });
    const int peer = (gr + 1) % g, from = (gr + g - 1) % g;
    Tensor got = empty(DType::f32, 2);
    WorkPtr r = group->recv(got, from, 1);
    group->send(m, peer, 1)->wait();
    r->wait();
    CHECK(first_mismatch(got, [from](std::int64_t i) { return from * 10 + i; }) == -1);
  }
  group->barrier()->wait();
}

}  // namespace trellis::ucx_test
