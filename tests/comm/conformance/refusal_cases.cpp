// What a backend must refuse, and how: comm.h says an operation a backend lacks fails with
// UnsupportedError "backend X does not support Y". The CPU backends reduce f32 and i32 only,
// and an average of integers would be truncated, so:
//   - avg over i32 (all_reduce, reduce_scatter, reduce): UnsupportedError naming the backend,
//     "avg" and "i32", and saying what to do instead ("sum and divide");
//   - reductions of bf16: UnsupportedError naming the backend and "bf16".
// Operations that only move bf16 (all_gather, broadcast, all_to_all, all_to_all_v) may be refused
// the same way, or done: then every bit must arrive unchanged. (Backends differ here: mpi refuses,
// ucx moves.) A refusal must come from the call itself, before anything is sent, so every rank
// refuses alike and the group stays usable.
//
// A group of one is core's SelfCommunicator, which copies whatever it is given (the average of
// one integer is exact), so nothing is checked there.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "suite.h"
#include "tensor_check.h"
#include "trellis/error.h"

namespace trellis::conformance {

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `start` (an operation that must be refused) and says what was wrong with how it was.
std::string refused(const Communicator& comm, const std::vector<std::string>& words,
                    const std::function<WorkPtr()>& start) {
  std::string message;
  bool at_call = true;
  try {
    WorkPtr work = start();
    at_call = false;
    work->wait();
    return "was accepted and completed; expected UnsupportedError";
  } catch (const UnsupportedError& error) {
    message = error.what();
  } catch (const std::exception& error) {
    return std::string("threw something other than UnsupportedError") +
           (at_call ? "" : " from wait()") + ": " + error.what();
  }
  std::vector<std::string> wanted = words;
  wanted.push_back("does not support");
  wanted.push_back(comm.backend());
  for (const std::string& word : wanted) {
    if (!contains(message, word)) {
      return "the UnsupportedError does not say '" + word + "': " + message;
    }
  }
  if (!at_call) return "refused only from wait(), not at the call: " + message;
  return std::string();
}

// bf16 bit patterns: what `rank` holds at element i (distinct per rank and element).
std::uint16_t bf16_bits(int rank, std::int64_t i) {
  return static_cast<std::uint16_t>(0x3f80 + rank * 97 + i % 89);
}

Tensor bf16_tensor(Suite& suite, std::int64_t n, int rank) {
  Tensor tensor = Tensor::empty(Shape{n}, DType::bf16, suite.allocator);
  for (std::int64_t i = 0; i < n; ++i) tensor.data<bf16>()[i].bits = bf16_bits(rank, i);
  return tensor;
}

// "" when `tensor` holds bits(i) at every i, else the first difference.
std::string bits_differ(const Tensor& tensor,
                        const std::function<std::uint16_t(std::int64_t)>& bits) {
  for (std::int64_t i = 0; i < tensor.numel(); ++i) {
    const std::uint16_t got = tensor.data<bf16>()[i].bits;
    if (got != bits(i)) {
      return "bf16 element " + std::to_string(i) + " arrived as bits " + std::to_string(got) +
             ", sent as " + std::to_string(bits(i));
    }
  }
  return std::string();
}

// Runs `start`, which a backend may refuse with UnsupportedError naming bf16, or do: then
// `delivered` says whether the bits arrived.
std::string refused_or_moved(const Communicator& comm, const std::function<WorkPtr()>& start,
                             const std::function<std::string()>& delivered) {
  WorkPtr work;
  try {
    work = start();
  } catch (const UnsupportedError& error) {
    const std::string message = error.what();
    if (!contains(message, "bf16") || !contains(message, comm.backend())) {
      return "the UnsupportedError does not name the backend and bf16: " + message;
    }
    return std::string();
  } catch (const std::exception& error) {
    return std::string("threw something other than UnsupportedError: ") + error.what();
  }
  try {
    work->wait();
  } catch (const std::exception& error) {
    return std::string("accepted at the call, then failed: ") + error.what();
  }
  return delivered();
}

}  // namespace

void check_refusals(Suite& suite, Communicator& comm) {
  if (comm.size() == 1) return;
  const int size = comm.size();
  const std::string group = group_label(comm);
  auto tensor = [&](DType dtype, std::int64_t n) {
    return Tensor::empty(Shape{n}, dtype, suite.allocator);
  };
  auto refusal = [&](const std::string& op, DType dtype, std::int64_t n,
                     const std::vector<std::string>& words, const std::function<WorkPtr()>& start) {
    const CaseId id{op + " must be refused", dtype, n, Placement::out_of_place, group};
    // refused() catches everything itself: an accepted operation completes on every rank alike.
    suite.report.run(id, [&] { return refused(comm, words, start); });
  };

  const std::vector<std::string> integer_average = {"avg", "i32", "sum and divide"};
  refusal("all_reduce(avg)", DType::i32, 7, integer_average, [&] {
    return comm.all_reduce(tensor(DType::i32, 7), tensor(DType::i32, 7), ReduceOp::avg);
  });
  refusal("reduce_scatter(avg)", DType::i32, 7, integer_average, [&] {
    return comm.reduce_scatter(tensor(DType::i32, size * 7), tensor(DType::i32, 7), ReduceOp::avg);
  });
  refusal("reduce(avg) to root 0", DType::i32, 7, integer_average, [&] {
    return comm.reduce(tensor(DType::i32, 7), tensor(DType::i32, 7), ReduceOp::avg, 0);
  });

  const std::vector<std::string> half = {"bf16"};
  refusal("all_reduce(sum)", DType::bf16, 8, half, [&] {
    return comm.all_reduce(tensor(DType::bf16, 8), tensor(DType::bf16, 8), ReduceOp::sum);
  });
  refusal("reduce_scatter(max)", DType::bf16, 8, half, [&] {
    return comm.reduce_scatter(tensor(DType::bf16, size * 8), tensor(DType::bf16, 8),
                               ReduceOp::max);
  });
  refusal("reduce(sum) to root 0", DType::bf16, 8, half, [&] {
    return comm.reduce(tensor(DType::bf16, 8), tensor(DType::bf16, 8), ReduceOp::sum, 0);
  });

  const int rank = comm.rank();
  const CaseId gather{"all_gather: refused or every bit moved", DType::bf16, 8,
                      Placement::out_of_place, group};
  suite.report.run(gather, [&] {
    const Tensor gathered = tensor(DType::bf16, size * 8);
    return refused_or_moved(
        comm, [&] { return comm.all_gather(bf16_tensor(suite, 8, rank), gathered); },
        [&] {
          return bits_differ(
              gathered, [](std::int64_t i) { return bf16_bits(static_cast<int>(i / 8), i % 8); });
        });
  });
  const int root = size - 1;
  const CaseId spread{"broadcast(root " + std::to_string(root) + "): refused or every bit moved",
                      DType::bf16, 8, Placement::single_buffer, group};
  suite.report.run(spread, [&] {
    const Tensor buffer = bf16_tensor(suite, 8, rank);
    return refused_or_moved(
        comm, [&] { return comm.broadcast(buffer, root); },
        [&] { return bits_differ(buffer, [&](std::int64_t i) { return bf16_bits(root, i); }); });
  });

  const CaseId exchange{"all_to_all_v: refused or every bit moved", DType::bf16, 8,
                        Placement::out_of_place, group};
  suite.report.run(exchange, [&] {
    const std::vector<std::int64_t> eights(size, 8);
    const Tensor exchanged = tensor(DType::bf16, size * 8);
    return refused_or_moved(
        comm,
        [&] {
          return comm.all_to_all_v(bf16_tensor(suite, size * 8, rank), eights, exchanged, eights);
        },
        [&] {
          return bits_differ(exchanged, [&](std::int64_t i) {
            return bf16_bits(static_cast<int>(i / 8), rank * 8 + i % 8);
          });
        });
  });

  const CaseId after{"a group that refused still works: barrier", DType::f32, 0,
                     Placement::single_buffer, group};
  suite.report.run(after, [&] {
    comm.barrier()->wait();
    return std::string();
  });
}

}  // namespace trellis::conformance
