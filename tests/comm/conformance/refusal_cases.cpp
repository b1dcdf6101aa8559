// What a backend must refuse, and how: comm.h says an operation a backend lacks fails with
// UnsupportedError "backend X does not support Y". The CPU backends move f32 and i32 only, and
// an average of integers would be truncated, so:
//   - avg over i32 (all_reduce, reduce_scatter, reduce): UnsupportedError naming the backend,
//     "avg" and "i32";
//   - any operation on bf16: UnsupportedError naming the backend and "bf16".
// The refusal must come from the call itself, before anything is sent, so every rank refuses
// alike and the group stays usable; a refusal that only comes from wait() is accepted but noted.
//
// A group of one is core's SelfCommunicator, which copies whatever it is given (the average of
// one integer is exact), so nothing is checked there.
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

  const std::vector<std::string> integer_average = {"avg", "i32"};
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
  refusal("all_gather", DType::bf16, 8, half,
          [&] { return comm.all_gather(tensor(DType::bf16, 8), tensor(DType::bf16, size * 8)); });
  refusal("broadcast(root 0)", DType::bf16, 8, half,
          [&] { return comm.broadcast(tensor(DType::bf16, 8), 0); });

  const CaseId after{"a group that refused still works: barrier", DType::f32, 0,
                     Placement::single_buffer, group};
  suite.report.run(after, [&] {
    comm.barrier()->wait();
    return std::string();
  });
}

}  // namespace trellis::conformance
