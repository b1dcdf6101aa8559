// split(color, key): who ends up in which group, in which order, and that the groups work.
//
// Every rank computes, from the colors and keys every rank passes, the world ranks of its new
// group in group order (ordered by key, ties by rank in the parent; comm.h), and checks the group
// against it: size(), rank(), an all_gather of the members' world ranks, an all_reduce of them.
// Groups: even/odd ranks (disjoint; the whole collective matrix runs on them at a few counts),
// the world with its order reversed, a split of a split of that (nested three deep), sparse
// colors with tied keys, and ranks passing a negative color (they get nullptr). Finally the
// even and odd groups run different collectives at the same time as a world all_reduce is in
// flight.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "suite.h"
#include "tensor_check.h"
#include "values.h"

namespace trellis::conformance {

namespace {

// A group as the suite expects it: the world ranks of its members, in group order.
using Members = std::vector<int>;

std::string format(const Members& members) {
  std::string text = "[";
  for (std::size_t i = 0; i < members.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(members[i]);
  }
  return text + "]";
}

// The members of the group this rank lands in when each rank r of `parent` (its members) passes
// color(r) and key(r); empty for a negative color.
Members expected_group(const Members& parent, int parent_rank, const std::function<int(int)>& color,
                       const std::function<int(int)>& key) {
  const int mine = color(parent_rank);
  if (mine < 0) return {};
  std::vector<std::pair<int, int>> order;  // (key, parent rank)
  for (int r = 0; r < static_cast<int>(parent.size()); ++r) {
    if (color(r) == mine) order.emplace_back(key(r), r);
  }
  std::sort(order.begin(), order.end());
  Members members;
  for (const auto& [k, r] : order) members.push_back(parent[static_cast<std::size_t>(r)]);
  return members;
}

// "" when `group` is the group `members` in that order, seen from world rank `world_rank`.
std::string membership(Suite& suite, Communicator& group, const Members& members, int world_rank) {
  if (group.size() != static_cast<int>(members.size())) {
    return "size() is " + std::to_string(group.size()) + ", expected " +
           std::to_string(members.size()) + " (members " + format(members) + ")";
  }
  const int expected_rank =
      static_cast<int>(std::find(members.begin(), members.end(), world_rank) - members.begin());
  if (group.rank() != expected_rank) {
    return "rank() is " + std::to_string(group.rank()) + ", expected " +
           std::to_string(expected_rank) + " (members in order " + format(members) + ")";
  }
  const Tensor mine = filled_tensor(suite.allocator, DType::i32, 1, world_rank);
  const Tensor gathered = filled_tensor(suite.allocator, DType::i32, group.size(), kUntouched);
  group.all_gather(mine, gathered)->wait();
  const std::string order =
      check(gathered, [&](std::int64_t i) { return members[static_cast<std::size_t>(i)]; });
  if (!order.empty()) return "all_gather of world ranks in group order: " + order;
  const Tensor total = filled_tensor(suite.allocator, DType::i32, 1, world_rank + 1);
  group.all_reduce(total, total, ReduceOp::sum)->wait();
  double want = 0;
  for (int member : members) want += member + 1;
  const std::string sum = check(total, [&](std::int64_t) { return want; });
  return sum.empty() ? sum : "all_reduce of world ranks + 1: " + sum;
}

// Splits `parent` (whose members are `parent_members`) and checks the new group; returns it
// (nullptr for a negative color, or when the split went wrong: the failure is recorded).
std::unique_ptr<Communicator> split_and_check(Suite& suite, Communicator& parent,
                                              const Members& parent_members,
                                              const std::string& label,
                                              const std::function<int(int)>& color,
                                              const std::function<int(int)>& key) {
  const int world_rank = suite.world.rank();
  const Members members = expected_group(parent_members, parent.rank(), color, key);
  std::unique_ptr<Communicator> group;
  const CaseId id{label, DType::i32, static_cast<std::int64_t>(members.size()),
                  Placement::single_buffer,
                  group_label(parent) + " split by color " + std::to_string(color(parent.rank()))};
  suite.report.run(id, [&] {
    group = parent.split(color(parent.rank()), key(parent.rank()));
    if (members.empty()) {
      return group ? std::string("a negative color must give nullptr, got a group of ") +
                         std::to_string(group->size())
                   : std::string();
    }
    if (!group)
      return std::string("split() returned nullptr for color ") +
             std::to_string(color(parent.rank()));
    group->set_name(label + " " + format(members));
    return membership(suite, *group, members, world_rank);
  });
  return group;
}

Tensor contributed(Suite& suite, DType dtype, int rank, std::int64_t count) {
  Tensor tensor = Tensor::empty(Shape{count}, dtype, suite.allocator);
  fill(tensor, [&](std::int64_t i) { return contribution(dtype, rank, i); });
  return tensor;
}

// Even ranks' group and odd ranks' group run different collectives while a world all_reduce
// started between them is in flight; waited world first, then the groups' in reverse.
void check_concurrent_groups(Suite& suite, Communicator& parity_group, bool even) {
  Communicator& world = suite.world;
  const int rank = parity_group.rank(), size = parity_group.size();
  const CaseId id{even ? "even group: all_reduce + all_gather, world all_reduce in flight"
                       : "odd group: broadcast + reduce_scatter, world all_reduce in flight",
                  DType::f32, 262147, Placement::out_of_place, group_label(parity_group)};
  suite.report.run(id, [&] {
    const std::int64_t n = 262147;
    std::vector<WorkPtr> works;
    const Tensor first = contributed(suite, DType::f32, rank, n);
    const Tensor second_in = even ? contributed(suite, DType::i32, rank, 7)
                                  : contributed(suite, DType::i32, rank, size * 7);
    const Tensor second_out =
        filled_tensor(suite.allocator, DType::i32, even ? size * 7 : 7, kUntouched);
    works.push_back(even ? parity_group.all_reduce(first, first, ReduceOp::max)
                         : parity_group.broadcast(first, size - 1));
    const Tensor world_sum = contributed(suite, DType::f32, world.rank(), n);
    WorkPtr world_work = world.all_reduce(world_sum, world_sum, ReduceOp::sum);
    works.push_back(even ? parity_group.all_gather(second_in, second_out)
                         : parity_group.reduce_scatter(second_in, second_out, ReduceOp::sum));
    world_work->wait();
    for (auto it = works.rbegin(); it != works.rend(); ++it) (*it)->wait();

    std::string wrong = check(world_sum, [&](std::int64_t i) {
      return reduction(ReduceOp::sum, DType::f32, world.size(), i);
    });
    if (!wrong.empty()) return "world all_reduce: " + wrong;
    wrong = check(first, [&](std::int64_t i) {
      return even ? reduction(ReduceOp::max, DType::f32, size, i)
                  : contribution(DType::f32, size - 1, i);
    });
    if (!wrong.empty()) return std::string(even ? "all_reduce: " : "broadcast: ") + wrong;
    wrong = check(second_out, [&](std::int64_t i) {
      return even ? contribution(DType::i32, static_cast<int>(i / 7), i % 7)
                  : reduction(ReduceOp::sum, DType::i32, size, rank * 7 + i);
    });
    if (!wrong.empty()) return std::string(even ? "all_gather: " : "reduce_scatter: ") + wrong;
    return std::string();
  });
}

// Two groups of the same ranks (the world's duplicates A and B), each rank starting one operation
// on each but in an order that depends on the rank — legal, as the order only has to agree within
// a communicator. A backend that blocked in a start, or matched messages across communicators,
// would hang or mix the results.
void check_opposite_orders(Suite& suite, Communicator& a, Communicator& b) {
  const int rank = a.rank(), size = a.size();
  const CaseId id{"two groups, operations started in opposite orders on alternate ranks",
                  DType::f32, 262147, Placement::in_place,
                  group_label(a) + " and " + group_label(b)};
  suite.report.run(id, [&] {
    const Tensor on_a = contributed(suite, DType::f32, rank, 262147);
    const Tensor on_b = contributed(suite, DType::i32, rank, 7);
    WorkPtr work_a, work_b;
    if (rank % 2 == 0) {
      work_a = a.all_reduce(on_a, on_a, ReduceOp::sum);
      work_b = b.all_reduce(on_b, on_b, ReduceOp::max);
    } else {
      work_b = b.all_reduce(on_b, on_b, ReduceOp::max);
      work_a = a.all_reduce(on_a, on_a, ReduceOp::sum);
    }
    work_b->wait();
    work_a->wait();
    std::string wrong =
        check(on_a, [&](std::int64_t i) { return reduction(ReduceOp::sum, DType::f32, size, i); });
    if (!wrong.empty()) return "all_reduce on the first group: " + wrong;
    wrong =
        check(on_b, [&](std::int64_t i) { return reduction(ReduceOp::max, DType::i32, size, i); });
    return wrong.empty() ? wrong : "all_reduce on the second group: " + wrong;
  });
}

}  // namespace

void check_split(Suite& suite) {
  Communicator& world = suite.world;
  const int size = world.size();
  Members everyone(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) everyone[static_cast<std::size_t>(r)] = r;

  // Disjoint groups, and the whole matrix on them.
  std::unique_ptr<Communicator> parity = split_and_check(
      suite, world, everyone, "even/odd", [](int r) { return r % 2; }, [](int r) { return r; });
  if (parity) {
    check_collectives(suite, *parity, {0, 7, 262147}, false);
    check_point_to_point(suite, *parity);
    check_concurrent_groups(suite, *parity, world.rank() % 2 == 0);
  }

  // The world reversed; nested splits of it.
  std::unique_ptr<Communicator> reversed = split_and_check(
      suite, world, everyone, "reversed", [](int) { return 0; }, [](int r) { return -r; });
  if (reversed) {
    check_collectives(suite, *reversed, {7}, false);
    check_point_to_point(suite, *reversed);
    Members reversed_members(everyone.rbegin(), everyone.rend());
    std::unique_ptr<Communicator> halves = split_and_check(
        suite, *reversed, reversed_members, "nested: halves of reversed",
        [](int r) { return r % 2; }, [](int r) { return r; });
    if (halves) {
      const Members halves_members = expected_group(
          reversed_members, reversed->rank(), [](int r) { return r % 2; }, [](int r) { return r; });
      std::unique_ptr<Communicator> innermost = split_and_check(
          suite, *halves, halves_members, "nested: reversed half of a half", [](int) { return 3; },
          [](int r) { return 100 - r; });
      if (innermost) check_collectives(suite, *innermost, {7}, false);
    }
  }

  // Sparse colors (7 and 3), every key tied: ordered by rank.
  split_and_check(
      suite, world, everyone, "sparse colors, tied keys", [](int r) { return r % 3 == 0 ? 7 : 3; },
      [](int) { return 0; });

  // A split while an operation on the parent is in flight: split is a collective of the world
  // like any other, ordered after the all_reduce on every rank.
  {
    const int rank = world.rank();
    const Tensor pending = contributed(suite, DType::f32, rank, 262147);
    WorkPtr in_flight;
    const CaseId started{"all_reduce in flight across a split of its group", DType::f32, 262147,
                         Placement::in_place, group_label(world)};
    suite.report.run(started, [&] {
      in_flight = world.all_reduce(pending, pending, ReduceOp::sum);
      return std::string();
    });
    std::unique_ptr<Communicator> during = split_and_check(
        suite, world, everyone, "split during an all_reduce", [](int) { return 0; },
        [](int r) { return r; });
    suite.report.run(started, [&] {
      in_flight->wait();
      return check(pending,
                   [&](std::int64_t i) { return reduction(ReduceOp::sum, DType::f32, size, i); });
    });
    if (during) {
      std::unique_ptr<Communicator> other = split_and_check(
          suite, world, everyone, "a second duplicate", [](int) { return 1; },
          [](int r) { return r; });
      if (other) check_opposite_orders(suite, *during, *other);
    }
  }

  // Splits made and dropped one after another: resources (MPI communicators, UCX tag spaces)
  // must be given back or reused correctly.
  for (int round = 0; round < 16; ++round) {
    std::unique_ptr<Communicator> brief = split_and_check(
        suite, world, everyone, "split " + std::to_string(round + 1) + " of 16 made and dropped",
        [round](int r) { return (r + round) % 2; }, [round](int r) { return round % 2 ? -r : r; });
  }

  // Negative colors: rank 0, and the last rank when at least 3, are left out.
  std::unique_ptr<Communicator> rest = split_and_check(
      suite, world, everyone, "negative color for some",
      [size](int r) { return r == 0 || (size >= 3 && r == size - 1) ? -1 : 5; },
      [](int r) { return r; });
  if (rest) check_collectives(suite, *rest, {7}, false);
}

}  // namespace trellis::conformance
