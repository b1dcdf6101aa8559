// Wrong arguments (comm.h, "Arguments"): every backend refuses them the same way, because
// Communicator's public operations check them in core before the backend is called. Each must
// fail at the call on every rank alike with a trellis::Error that names the backend, the group
// and what was expected; nothing is sent, so the group still works afterwards.
#include <climits>
#include <functional>
#include <string>
#include <vector>

#include "suite.h"
#include "trellis/error.h"

namespace trellis::conformance {

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `start`, which must throw trellis::Error (UnsupportedError where `unsupported`) at the
// call whose message holds the backend, the group's name and every one of `words`.
std::string refused(const Communicator& comm, const std::vector<std::string>& words,
                    bool unsupported, const std::function<WorkPtr()>& start) {
  std::string message;
  try {
    WorkPtr work = start();
    if (work) work->wait();
    return "was accepted; expected an Error at the call";
  } catch (const UnsupportedError& error) {
    message = error.what();
  } catch (const Error& error) {
    if (unsupported) return std::string("expected UnsupportedError, got: ") + error.what();
    message = error.what();
  } catch (const std::exception& error) {
    return std::string("threw something other than trellis::Error: ") + error.what();
  }
  std::vector<std::string> wanted = words;
  wanted.push_back(std::string("backend ") + comm.backend());
  wanted.push_back(comm.name());
  for (const std::string& word : wanted) {
    if (!contains(message, word)) return "the message does not say '" + word + "': " + message;
  }
  return std::string();
}

}  // namespace

void check_arguments(Suite& suite, Communicator& comm) {
  const int size = comm.size();
  const std::string group = group_label(comm);
  auto tensor = [&](DType dtype, std::int64_t n) {
    return Tensor::empty(Shape{n}, dtype, suite.allocator);
  };
  auto refusal = [&](const std::string& what, const std::vector<std::string>& words,
                     const std::function<WorkPtr()>& start, bool unsupported = false) {
    const CaseId id{what + " must be refused", DType::f32, 0, Placement::out_of_place, group};
    suite.report.run(id, [&] { return refused(comm, words, unsupported, start); });
  };

  const Tensor seven = tensor(DType::f32, 7);
  refusal("all_reduce with a smaller output", {"output must have as many elements as the input"},
          [&] { return comm.all_reduce(seven, tensor(DType::f32, 6), ReduceOp::sum); });
  refusal("all_reduce of f32 into i32", {"must have the same dtype, got f32 and i32"},
          [&] { return comm.all_reduce(seven, tensor(DType::i32, 7), ReduceOp::sum); });
  refusal("all_gather with a wrong output", {"output must have size() x input elements"},
          [&] { return comm.all_gather(seven, tensor(DType::f32, 7 * size + 1)); });
  refusal("reduce_scatter with a wrong input", {"input must have size() x output elements"}, [&] {
    return comm.reduce_scatter(tensor(DType::f32, 7 * size + 1), seven, ReduceOp::sum);
  });
  if (size > 1) {
    refusal("all_to_all of unequal chunks", {"equal chunks"}, [&] {
      return comm.all_to_all(tensor(DType::f32, size + 1), tensor(DType::f32, size + 1));
    });
  }
  // all_to_all_v: a count per rank, none negative, whose sums fit in the tensors.
  const std::vector<std::int64_t> ones(size, 1);
  std::vector<std::int64_t> one_short(ones.begin(), ones.end() - 1);
  refusal("all_to_all_v with a count missing",
          {"send_counts must have size() = " + std::to_string(size) + " entries",
           "got " + std::to_string(size - 1)},
          [&] { return comm.all_to_all_v(seven, one_short, tensor(DType::f32, size), ones); });
  std::vector<std::int64_t> negative = ones;
  negative.back() = -2;
  refusal("all_to_all_v with a negative count",
          {"recv_counts[" + std::to_string(size - 1) + "] is -2", "0 or more"},
          [&] { return comm.all_to_all_v(seven, ones, tensor(DType::f32, size), negative); });
  std::vector<std::int64_t> too_many = ones;
  too_many.back() = 8;
  refusal("all_to_all_v with send_counts past the input",
          {"send_counts sum past the input", "send_counts[" + std::to_string(size - 1) + "] = 8",
           "has 7"},
          [&] { return comm.all_to_all_v(seven, too_many, tensor(DType::f32, 7 + size), ones); });
  refusal("all_to_all_v with recv_counts past the output", {"recv_counts sum past the output"},
          [&] { return comm.all_to_all_v(seven, ones, tensor(DType::f32, size - 1), ones); });
  refusal("all_to_all_v of f32 into i32", {"must have the same dtype, got f32 and i32"},
          [&] { return comm.all_to_all_v(seven, ones, tensor(DType::i32, size), ones); });
  const Tensor both = tensor(DType::f32, 2 * size);
  refusal("all_to_all_v in place", {"overlap in memory", "no in-place form"},
          [&] { return comm.all_to_all_v(both, ones, both, ones); });

  refusal("all_reduce of an undefined input", {"input is an undefined tensor"},
          [&] { return comm.all_reduce(Tensor(), seven, ReduceOp::sum); });

  const Tensor matrix = Tensor::empty(Shape{4, 6}, DType::f32, suite.allocator);
  refusal("broadcast of a strided view", {"buffer must be contiguous"},
          [&] { return comm.broadcast(matrix.narrow(1, 0, 3), 0); });
  refusal("all_reduce of partly overlapping tensors", {"overlap in memory"}, [&] {
    return comm.all_reduce(matrix.narrow(0, 0, 2), matrix.narrow(0, 1, 2), ReduceOp::sum);
  });
  const Tensor gathered = tensor(DType::f32, 2 * size);
  if (size > 1) {
    // In place is this rank's chunk of the output; another chunk overlaps without being it.
    const int other = (comm.rank() + 1) % size;
    refusal("all_gather from another rank's chunk of the output", {"overlap in memory"},
            [&] { return comm.all_gather(gathered.narrow(0, 2 * other, 2), gathered); });
  }

  refusal("broadcast from a root outside the group",
          {"root " + std::to_string(size) + " is not a rank of this group"},
          [&] { return comm.broadcast(seven, size); });
  refusal("reduce to root -1", {"root -1 is not a rank of this group"},
          [&] { return comm.reduce(seven, seven, ReduceOp::sum, -1); });
  refusal("send to a peer outside the group",
          {"peer " + std::to_string(size) + " is not a rank of this group"},
          [&] { return comm.send(seven, size, 0); });
  refusal("recv from peer -1", {"peer -1 is not a rank of this group"},
          [&] { return comm.recv(seven, -1, 0); });
  refusal("send with tag -1", {"tag -1 is out of range"}, [&] { return comm.send(seven, 0, -1); });
  if (comm.max_tag() < INT_MAX) {
    const int beyond = comm.max_tag() + 1;
    refusal("recv with a tag above max_tag()",
            {"tag " + std::to_string(beyond) + " is out of range"},
            [&] { return comm.recv(seven, 0, beyond); });
  }

  // A tensor on another device than the communicator's: host memory labelled cuda:0 for a host
  // backend (never touched: the call refuses it first), a host tensor for a GPU backend.
  if (const std::optional<Device> home = comm.device()) {
    float host[8] = {};
    const Tensor elsewhere = home->kind == DeviceKind::cpu
                                 ? Tensor::borrow(host, {8}, DType::f32, Device::cuda(0))
                                 : Tensor::empty(Shape{8}, DType::f32, make_cpu_allocator());
    refusal(
        "all_reduce of a tensor on another device",
        {"does not support " + elsewhere.device().str() + " tensors"},
        [&] { return comm.all_reduce(elsewhere, elsewhere, ReduceOp::sum); }, true);
  }

  const CaseId after{"a group that refused wrong arguments still works: barrier", DType::f32, 0,
                     Placement::single_buffer, group};
  suite.report.run(after, [&] {
    comm.barrier()->wait();
    return std::string();
  });
}

}  // namespace trellis::conformance
