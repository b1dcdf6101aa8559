// Several operations in flight at once (comm.h: every operation is asynchronous): started one
// after another before any is waited for, then completed in another order than they were
// started — waited in reverse, or driven only by test() — and the order differs between ranks.
// Groups working concurrently are split_cases.cpp's.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "suite.h"
#include "tensor_check.h"
#include "values.h"

namespace trellis::conformance {

namespace {

Tensor contributed(Suite& suite, DType dtype, int rank, std::int64_t count) {
  Tensor tensor = Tensor::empty(Shape{count}, dtype, suite.allocator);
  fill(tensor, [&](std::int64_t i) { return contribution(dtype, rank, i); });
  return tensor;
}

// Calls test() on every work, round and round, until all report completion or `timeout` passes;
// returns how many never did. Each rank starts its rounds at a different work.
int complete_by_testing(std::vector<WorkPtr>& works, int rank, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<bool> done(works.size(), false);
  std::size_t remaining = works.size();
  while (remaining > 0 && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t k = 0; k < works.size(); ++k) {
      const std::size_t j = (k + static_cast<std::size_t>(rank)) % works.size();
      if (!done[j] && works[j]->test()) {
        done[j] = true;
        --remaining;
      }
    }
    if (remaining > 0) std::this_thread::yield();
  }
  return static_cast<int>(remaining);
}

}  // namespace

void check_in_flight(Suite& suite) {
  Communicator& comm = suite.world;
  const int rank = comm.rank(), size = comm.size();
  const std::string group = group_label(comm);

  const CaseId reverse{"4 all_reduces in flight, waited in reverse order", DType::f32, 262147,
                       Placement::out_of_place, group};
  suite.report.run(reverse, [&] {
    const std::int64_t counts[] = {1, 7, 262147, 256};
    const ReduceOp ops[] = {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::avg};
    std::vector<Tensor> inputs, outputs;
    std::vector<WorkPtr> works;
    for (int k = 0; k < 4; ++k) {
      inputs.push_back(contributed(suite, DType::f32, rank, counts[k]));
      // The second and fourth in place.
      outputs.push_back(k % 2 == 1
                            ? inputs.back()
                            : filled_tensor(suite.allocator, DType::f32, counts[k], kUntouched));
      works.push_back(comm.all_reduce(inputs.back(), outputs.back(), ops[k]));
    }
    for (int k = 3; k >= 0; --k) works[k]->wait();
    for (int k = 0; k < 4; ++k) {
      const std::string wrong =
          check(outputs[k], [&](std::int64_t i) { return reduction(ops[k], DType::f32, size, i); });
      if (!wrong.empty()) {
        return "all_reduce(" + std::string(reduce_op_name(ops[k])) + ") of " +
               std::to_string(counts[k]) + " elements, started " + std::to_string(k + 1) +
               " of 4: " + wrong;
      }
    }
    return std::string();
  });

  const CaseId many{"16 small all_reduces in flight, waited in a different order on each rank",
                    DType::i32, 16, Placement::in_place, group};
  suite.report.run(many, [&] {
    constexpr int kOps = 16;
    std::vector<Tensor> buffers;
    std::vector<WorkPtr> works;
    for (int k = 0; k < kOps; ++k) {
      buffers.push_back(contributed(suite, DType::i32, rank, 1 + k));
      works.push_back(comm.all_reduce(buffers.back(), buffers.back(), ReduceOp::sum));
    }
    for (int j = 0; j < kOps; ++j) works[(j * 5 + rank * 3) % kOps]->wait();
    for (int k = 0; k < kOps; ++k) {
      const std::string wrong = check(buffers[k], [&](std::int64_t i) {
        return reduction(ReduceOp::sum, DType::i32, size, i);
      });
      if (!wrong.empty()) return "all_reduce " + std::to_string(k + 1) + " of 16: " + wrong;
    }
    return std::string();
  });

  const CaseId mixed{"every kind of operation in flight, completed by test() only", DType::f32,
                     262147, Placement::out_of_place, group};
  suite.report.run(mixed, [&] {
    const int right = (rank + 1) % size, left = (rank + size - 1) % size;
    const Tensor summed = contributed(suite, DType::i32, rank, 262147);
    const Tensor gathered = filled_tensor(suite.allocator, DType::f32, size * 7, kUntouched);
    const Tensor broadcasted = contributed(suite, DType::f32, rank, 1000);
    const Tensor exchanged = filled_tensor(suite.allocator, DType::i32, size * 5, kUntouched);
    const Tensor scattered = filled_tensor(suite.allocator, DType::f32, 333, kUntouched);
    const Tensor reduced = filled_tensor(suite.allocator, DType::f32, 77, kUntouched);
    const Tensor incoming = filled_tensor(suite.allocator, DType::f32, 4099, kUntouched);
    Tensor outgoing_chunks = Tensor::empty(Shape{size * 5}, DType::i32, suite.allocator);
    fill(outgoing_chunks, [&](std::int64_t i) {
      return message_value(DType::i32, rank, static_cast<int>(i / 5), i % 5);
    });
    // all_to_all_v: rank `from` sends (from + 2 to) % 3 elements to rank `to`, some none.
    std::vector<std::int64_t> v_send(size), v_recv(size);
    std::vector<double> v_sent, v_expected;
    for (int peer = 0; peer < size; ++peer) {
      v_send[peer] = (rank + 2 * peer) % 3;
      v_recv[peer] = (peer + 2 * rank) % 3;
      for (std::int64_t k = 0; k < v_send[peer]; ++k) {
        v_sent.push_back(message_value(DType::f32, rank, peer, k));
      }
      for (std::int64_t k = 0; k < v_recv[peer]; ++k) {
        v_expected.push_back(message_value(DType::f32, peer, rank, k));
      }
    }
    const auto v_count = [](const std::vector<double>& values) {
      return static_cast<std::int64_t>(values.size());
    };
    const Tensor v_outgoing = Tensor::empty(Shape{v_count(v_sent)}, DType::f32, suite.allocator);
    fill(v_outgoing, [&](std::int64_t i) { return v_sent[i]; });
    const Tensor v_incoming =
        filled_tensor(suite.allocator, DType::f32, v_count(v_expected), kUntouched);

    std::vector<WorkPtr> works;
    works.push_back(comm.all_reduce(summed, summed, ReduceOp::sum));
    works.push_back(comm.all_gather(contributed(suite, DType::f32, rank, 7), gathered));
    if (size > 1) works.push_back(comm.recv(incoming, left, 41));
    works.push_back(comm.broadcast(broadcasted, size - 1));
    works.push_back(comm.all_to_all(outgoing_chunks, exchanged));
    works.push_back(comm.all_to_all_v(v_outgoing, v_send, v_incoming, v_recv));
    works.push_back(comm.reduce_scatter(contributed(suite, DType::f32, rank, size * 333), scattered,
                                        ReduceOp::sum));
    works.push_back(
        comm.reduce(contributed(suite, DType::f32, rank, 77), reduced, ReduceOp::max, 0));
    works.push_back(comm.barrier());
    if (size > 1) works.push_back(comm.send(contributed(suite, DType::f32, rank, 4099), right, 41));

    const int unfinished = complete_by_testing(works, rank, comm.timeout());
    if (unfinished > 0) {
      return std::to_string(unfinished) + " of " + std::to_string(works.size()) +
             " operations never reported completion from test() within " +
             std::to_string(comm.timeout().count()) + " ms";
    }
    struct Result {
      const char* what;
      std::string found;
    };
    const Result results[] = {
        {"all_reduce",
         check(summed,
               [&](std::int64_t i) { return reduction(ReduceOp::sum, DType::i32, size, i); })},
        {"all_gather", check(gathered,
                             [&](std::int64_t i) {
                               return contribution(DType::f32, static_cast<int>(i / 7), i % 7);
                             })},
        {"recv", size > 1 ? check(incoming,
                                  [&](std::int64_t i) { return contribution(DType::f32, left, i); })
                          : std::string()},
        {"broadcast",
         check(broadcasted, [&](std::int64_t i) { return contribution(DType::f32, size - 1, i); })},
        {"all_to_all", check(exchanged,
                             [&](std::int64_t i) {
                               return message_value(DType::i32, static_cast<int>(i / 5), rank,
                                                    i % 5);
                             })},
        {"all_to_all_v", check(v_incoming, [&](std::int64_t i) { return v_expected[i]; })},
        {"reduce_scatter", check(scattered,
                                 [&](std::int64_t i) {
                                   return reduction(ReduceOp::sum, DType::f32, size,
                                                    rank * 333 + i);
                                 })},
        {"reduce", check(reduced,
                         [&](std::int64_t i) {
                           return rank == 0 ? reduction(ReduceOp::max, DType::f32, size, i)
                                            : kUntouched;
                         })},
    };
    for (const Result& result : results) {
      if (!result.found.empty()) return std::string(result.what) + ": " + result.found;
    }
    return std::string();
  });
}

}  // namespace trellis::conformance
