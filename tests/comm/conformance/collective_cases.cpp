// Every collective of comm.h x dtype (f32, i32) x reduce op x element count x placement.
//
// Counts are what each operation counts: all_reduce, broadcast, reduce: the elements of the
// buffer; all_gather: each rank's input; reduce_scatter: each rank's output; all_to_all: one
// chunk (a rank sends size() of them); all_to_all_v: the unit its count patterns multiply. The
// large case (Suite::large_count elements, 64 MiB of f32) is the whole buffer, as nccl-tests
// counts it: all_gather's output, reduce_scatter's input.
//
// Placements. comm.h defines in place as "the same tensor as input and output"; where the two
// differ in size, in place means NCCL's convention: all_gather's input is this rank's chunk of
// the output, reduce_scatter's output is this rank's chunk of the input. comm.h does not oblige
// a backend to take reduce_scatter in place, so a backend may decline it with an error at the
// call (on every rank alike); wrong values are always failures.
//
// Beyond the result, each case checks what must not change: an out-of-place input, and on the
// ranks that are not the root of a reduce, its output (comm.h: "not written").
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "suite.h"
#include "tensor_check.h"
#include "trellis/error.h"
#include "values.h"

namespace trellis::conformance {

namespace {

constexpr DType kDtypes[] = {DType::f32, DType::i32};
constexpr ReduceOp kReduceOps[] = {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min};
constexpr Placement kPlacements[] = {Placement::out_of_place, Placement::in_place};

// avg is f32 only (error_cases.cpp checks the refusal).
bool defined_for(DType dtype, ReduceOp op) {
  return !(dtype == DType::i32 && op == ReduceOp::avg);
}

std::string with_op(const char* operation, ReduceOp op) {
  return std::string(operation) + "(" + reduce_op_name(op) + ")";
}

// `found` (what check() said) prefixed with which tensor it is about.
std::string about(const char* what, const std::string& found) {
  return found.empty() ? found : std::string(what) + ": " + found;
}

// The tensor `rank` contributes: contribution(dtype, rank, i) at element i.
Tensor contributed(Suite& suite, DType dtype, int rank, std::int64_t count) {
  Tensor tensor = Tensor::empty(Shape{count}, dtype, suite.allocator);
  fill(tensor, [&](std::int64_t i) { return contribution(dtype, rank, i); });
  return tensor;
}

void all_reduce_case(Suite& suite, Communicator& comm, DType dtype, ReduceOp op, std::int64_t n,
                     Placement placement) {
  const int rank = comm.rank(), size = comm.size();
  const CaseId id{with_op("all_reduce", op), dtype, n, placement, group_label(comm)};
  suite.report.run(id, [&] {
    const Tensor input = contributed(suite, dtype, rank, n);
    const Tensor output = placement == Placement::in_place
                              ? input
                              : filled_tensor(suite.allocator, dtype, n, kUntouched);
    comm.all_reduce(input, output, op)->wait();
    std::string wrong = about(
        "output", check(output, [&](std::int64_t i) { return reduction(op, dtype, size, i); }));
    if (wrong.empty() && placement == Placement::out_of_place) {
      wrong = about("input changed",
                    check(input, [&](std::int64_t i) { return contribution(dtype, rank, i); }));
    }
    return wrong;
  });
}

void all_gather_case(Suite& suite, Communicator& comm, DType dtype, std::int64_t n,
                     Placement placement) {
  const int rank = comm.rank(), size = comm.size();
  const CaseId id{"all_gather", dtype, n, placement, group_label(comm)};
  suite.report.run(id, [&] {
    const Tensor output = filled_tensor(suite.allocator, dtype, size * n, kUntouched);
    const Tensor input = placement == Placement::in_place
                             ? output.narrow(0, rank * n, n)
                             : Tensor::empty(Shape{n}, dtype, suite.allocator);
    fill(input, [&](std::int64_t i) { return contribution(dtype, rank, i); });
    comm.all_gather(input, output)->wait();
    return about("output", check(output, [&](std::int64_t i) {
                   return contribution(dtype, static_cast<int>(i / n), i % n);
                 }));
  });
}

void reduce_scatter_case(Suite& suite, Communicator& comm, DType dtype, ReduceOp op, std::int64_t n,
                         Placement placement) {
  const int rank = comm.rank(), size = comm.size();
  const CaseId id{with_op("reduce_scatter", op), dtype, n, placement, group_label(comm)};
  suite.report.run(id, [&] {
    const Tensor input = contributed(suite, dtype, rank, size * n);
    const Tensor output = placement == Placement::in_place
                              ? input.narrow(0, rank * n, n)
                              : filled_tensor(suite.allocator, dtype, n, kUntouched);
    WorkPtr work;
    try {
      work = comm.reduce_scatter(input, output, op);
    } catch (const Error& error) {
      if (placement == Placement::in_place && size > 1) throw Declined(error.what());
      throw;
    }
    work->wait();
    std::string wrong = about("output", check(output, [&](std::int64_t i) {
                                return reduction(op, dtype, size, rank * n + i);
                              }));
    if (wrong.empty() && placement == Placement::out_of_place) {
      wrong = about("input changed",
                    check(input, [&](std::int64_t i) { return contribution(dtype, rank, i); }));
    }
    return wrong;
  });
}

void broadcast_case(Suite& suite, Communicator& comm, DType dtype, std::int64_t n, int root) {
  const int rank = comm.rank();
  const CaseId id{"broadcast(root " + std::to_string(root) + ")", dtype, n,
                  Placement::single_buffer, group_label(comm)};
  suite.report.run(id, [&] {
    const Tensor buffer = contributed(suite, dtype, rank, n);
    comm.broadcast(buffer, root)->wait();
    return about("buffer",
                 check(buffer, [&](std::int64_t i) { return contribution(dtype, root, i); }));
  });
}

void reduce_case(Suite& suite, Communicator& comm, DType dtype, ReduceOp op, std::int64_t n,
                 int root, Placement placement) {
  const int rank = comm.rank(), size = comm.size();
  const CaseId id{with_op("reduce", op) + " to root " + std::to_string(root), dtype, n, placement,
                  group_label(comm)};
  suite.report.run(id, [&] {
    const Tensor input = contributed(suite, dtype, rank, n);
    const Tensor output = placement == Placement::in_place
                              ? input
                              : filled_tensor(suite.allocator, dtype, n, kUntouched);
    comm.reduce(input, output, op, root)->wait();
    auto mine = [&](std::int64_t i) { return contribution(dtype, rank, i); };
    if (rank == root) {
      std::string wrong = about(
          "output", check(output, [&](std::int64_t i) { return reduction(op, dtype, size, i); }));
      if (wrong.empty() && placement == Placement::out_of_place) {
        wrong = about("input changed", check(input, mine));
      }
      return wrong;
    }
    if (placement == Placement::in_place) {
      return about("a non-root rank's buffer (input and output) was written", check(input, mine));
    }
    std::string wrong = about("a non-root rank's output was written",
                              check(output, [](std::int64_t) { return kUntouched; }));
    if (wrong.empty()) wrong = about("input changed", check(input, mine));
    return wrong;
  });
}

void all_to_all_case(Suite& suite, Communicator& comm, DType dtype, std::int64_t chunk,
                     Placement placement) {
  const int rank = comm.rank(), size = comm.size();
  const CaseId id{"all_to_all", dtype, chunk, placement, group_label(comm)};
  suite.report.run(id, [&] {
    const Tensor input = Tensor::empty(Shape{size * chunk}, dtype, suite.allocator);
    fill(input, [&](std::int64_t i) {
      return message_value(dtype, rank, static_cast<int>(i / chunk), i % chunk);
    });
    const Tensor output = placement == Placement::in_place
                              ? input
                              : filled_tensor(suite.allocator, dtype, size * chunk, kUntouched);
    comm.all_to_all(input, output)->wait();
    return about("output", check(output, [&](std::int64_t i) {
                   return message_value(dtype, static_cast<int>(i / chunk), rank, i % chunk);
                 }));
  });
}

// How many elements rank `from` sends rank `to` in an all_to_all_v, in units of the case's count:
// uneven: (from + to) % size, so each rank sends nothing to one peer (rank 0 to itself, rank 1 to
// rank size-1, ...) and differing amounts to the others;
// silent: rank 0 sends nothing and rank size-1 receives nothing, the others 1 to 3 units.
enum class CountPattern : std::uint8_t { uneven, silent };

std::int64_t pattern_count(CountPattern pattern, int from, int to, int size, std::int64_t unit) {
  if (pattern == CountPattern::uneven) return unit * ((from + to) % size);
  if (from == 0 || to == size - 1) return 0;
  return unit * (1 + (from + 2 * to) % 3);
}

// The input and output have kSlack elements past the counted ones, which must stay as they were:
// the operation reads and writes only what its counts say.
void all_to_all_v_case(Suite& suite, Communicator& comm, DType dtype, std::int64_t unit,
                       CountPattern pattern) {
  constexpr std::int64_t kSlack = 3;
  const int rank = comm.rank(), size = comm.size();
  const std::string name = std::string("all_to_all_v(") +
                           (pattern == CountPattern::uneven ? "uneven" : "silent ranks") + ")";
  const CaseId id{name, dtype, unit, Placement::out_of_place, group_label(comm)};
  suite.report.run(id, [&] {
    std::vector<std::int64_t> send_counts(size), recv_counts(size);
    std::vector<std::int64_t> send_offsets(size + 1, 0), recv_offsets(size + 1, 0);
    for (int peer = 0; peer < size; ++peer) {
      send_counts[peer] = pattern_count(pattern, rank, peer, size, unit);
      recv_counts[peer] = pattern_count(pattern, peer, rank, size, unit);
      send_offsets[peer + 1] = send_offsets[peer] + send_counts[peer];
      recv_offsets[peer + 1] = recv_offsets[peer] + recv_counts[peer];
    }
    const std::int64_t sent = send_offsets[size], received = recv_offsets[size];
    // Element i of a buffer laid out by `offsets`: the block of the last peer starting at or
    // before i (empty blocks start where the next one does), or the slack past the last block.
    const auto block_of = [](const std::vector<std::int64_t>& offsets, std::int64_t i) {
      return static_cast<int>(std::upper_bound(offsets.begin(), offsets.end(), i) -
                              offsets.begin()) -
             1;
    };
    const auto sent_value = [&](std::int64_t i) {
      if (i >= sent) return kUntouched;
      const int to = block_of(send_offsets, i);
      return message_value(dtype, rank, to, i - send_offsets[to]);
    };
    const Tensor input = Tensor::empty(Shape{sent + kSlack}, dtype, suite.allocator);
    fill(input, sent_value);
    const Tensor output = filled_tensor(suite.allocator, dtype, received + kSlack, kUntouched);
    comm.all_to_all_v(input, send_counts, output, recv_counts)->wait();
    std::string wrong = about("output", check(output, [&](std::int64_t i) {
                                if (i >= received) return kUntouched;
                                const int from = block_of(recv_offsets, i);
                                return message_value(dtype, from, rank, i - recv_offsets[from]);
                              }));
    if (wrong.empty()) wrong = about("input changed", check(input, sent_value));
    return wrong;
  });
}

}  // namespace

std::string group_label(const Communicator& comm) {
  return comm.name() + " (" + std::to_string(comm.size()) +
         (comm.size() == 1 ? " rank)" : " ranks)");
}

void check_collectives(Suite& suite, Communicator& comm, const std::vector<std::int64_t>& counts,
                       bool with_large) {
  const int size = comm.size();
  for (DType dtype : kDtypes) {
    for (ReduceOp op : kReduceOps) {
      if (!defined_for(dtype, op)) continue;
      for (std::int64_t n : counts) {
        for (Placement placement : kPlacements)
          all_reduce_case(suite, comm, dtype, op, n, placement);
      }
    }
  }
  for (DType dtype : kDtypes) {
    for (std::int64_t n : counts) {
      for (Placement placement : kPlacements) all_gather_case(suite, comm, dtype, n, placement);
    }
  }
  for (DType dtype : kDtypes) {
    for (ReduceOp op : kReduceOps) {
      if (!defined_for(dtype, op)) continue;
      for (std::int64_t n : counts) {
        for (Placement placement : kPlacements) {
          reduce_scatter_case(suite, comm, dtype, op, n, placement);
        }
      }
    }
  }
  for (DType dtype : kDtypes) {
    for (std::int64_t n : counts) {
      for (int root = 0; root < size; ++root) broadcast_case(suite, comm, dtype, n, root);
    }
  }
  for (DType dtype : kDtypes) {
    for (ReduceOp op : kReduceOps) {
      if (!defined_for(dtype, op)) continue;
      for (std::int64_t n : counts) {
        for (int root = 0; root < size; ++root) {
          for (Placement placement : kPlacements) {
            reduce_case(suite, comm, dtype, op, n, root, placement);
          }
        }
      }
    }
  }
  for (DType dtype : kDtypes) {
    for (std::int64_t chunk : counts) {
      for (Placement placement : kPlacements) all_to_all_case(suite, comm, dtype, chunk, placement);
    }
  }

  for (DType dtype : kDtypes) {
    for (std::int64_t unit : counts) {
      for (CountPattern pattern : {CountPattern::uneven, CountPattern::silent}) {
        all_to_all_v_case(suite, comm, dtype, unit, pattern);
      }
    }
  }

  if (!with_large || suite.large_count == 0) return;
  // 64 MiB: where bandwidth algorithms (rings, pipelines, chunking) take over. A few operations
  // only, to keep the suite's time down.
  const std::int64_t large = suite.large_count;
  for (Placement placement : kPlacements) {
    all_reduce_case(suite, comm, DType::f32, ReduceOp::sum, large, placement);
  }
  all_reduce_case(suite, comm, DType::i32, ReduceOp::max, large, Placement::in_place);
  all_gather_case(suite, comm, DType::f32, large / size, Placement::out_of_place);
  reduce_scatter_case(suite, comm, DType::f32, ReduceOp::sum, large / size,
                      Placement::out_of_place);
  broadcast_case(suite, comm, DType::f32, large, size - 1);
}

}  // namespace trellis::conformance
