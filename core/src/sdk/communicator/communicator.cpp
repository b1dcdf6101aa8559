#include <string>
#include <vector>

#include "communicator/operand_checks.h"
#include "trellis/comm.h"
#include "trellis/error.h"

namespace trellis {

using namespace comm_checks;

const char* reduce_op_name(ReduceOp op) noexcept {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::avg:
      return "avg";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

namespace {

class CompletedWork final : public Work {
 public:
  CompletedWork() : Work(std::chrono::milliseconds(0)) {}
  bool test() override { return true; }
  void wait_for(std::chrono::milliseconds) override {}
};

constexpr DType kDtypes[] = {DType::f32, DType::bf16, DType::i32};

// "f32 and i32": the dtypes `accepted` says yes to.
template <class Accepted>
std::string dtype_list(const Accepted& accepted) {
  std::vector<const char*> names;
  for (DType dtype : kDtypes) {
    if (accepted(dtype)) names.push_back(dtype_name(dtype));
  }
  if (names.empty()) return "none";
  std::string text = names[0];
  for (std::size_t i = 1; i < names.size(); ++i) {
    text += (i + 1 == names.size() ? " and " : ", ");
    text += names[i];
  }
  return text;
}

constexpr InPlaceForm kSameTensor{};

}  // namespace

WorkPtr completed_work() {
  return std::make_unique<CompletedWork>();
}

void Communicator::unsupported(const char* operation) const {
  throw UnsupportedError(std::string("backend ") + backend() + " does not support " + operation);
}

bool Communicator::moves(DType) const {
  return true;
}

bool Communicator::reduces(DType dtype, ReduceOp op) const {
  return dtype == DType::f32 || (dtype == DType::i32 && op != ReduceOp::avg);
}

void Communicator::check_tensor(const char* operation, const char* role, const Tensor& tensor,
                                const Tensor* other) const {
  const CallSite site{backend(), name(), operation};
  check_defined(site, role, tensor);
  if (!moves(tensor.dtype())) {
    throw UnsupportedError(std::string("backend ") + backend() + " does not support " +
                           dtype_name(tensor.dtype()) + " " + operation + " on group '" + name() +
                           "': it moves " + dtype_list([&](DType d) { return moves(d); }));
  }
  const std::optional<Device> home = device();
  if (home && tensor.device() != *home) {
    throw UnsupportedError(std::string("backend ") + backend() + " does not support " +
                           tensor.device().str() + " tensors: " + operation + " on group '" +
                           name() + "': the " + role + " " + tensor.str() +
                           " must be on this communicator's device, " + home->str());
  }
  if (!home && other && other->device() != tensor.device()) {
    throw Error(site.str() + ": input and output must be on the same device, got " + other->str() +
                " and " + tensor.str());
  }
  check_contiguous(site, role, tensor);
}

void Communicator::check_reduction(const char* operation, DType dtype, ReduceOp op) const {
  if (reduces(dtype, op)) return;
  const std::string head = std::string("backend ") + backend() + " does not support ";
  const std::string where = std::string(operation) + " on group '" + name() + "'";
  const auto reducible = [&](DType d) {
    for (ReduceOp any : {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min}) {
      if (reduces(d, any)) return true;
    }
    return false;
  };
  if (!reducible(dtype)) {
    throw UnsupportedError(head + dtype_name(dtype) + " " + where + ": it reduces " +
                           dtype_list(reducible));
  }
  if (op == ReduceOp::avg && dtype == DType::i32) {
    throw UnsupportedError(head + "avg over i32 in " + where +
                           ": an integer average would be truncated; reduce with sum and divide, "
                           "or use f32");
  }
  throw UnsupportedError(head + reduce_op_name(op) + " over " + dtype_name(dtype) + " in " + where);
}

WorkPtr Communicator::all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) {
  constexpr const char* kOp = "all_reduce";
  const CallSite site{backend(), name(), kOp};
  check_tensor(kOp, "input", input, nullptr);
  check_tensor(kOp, "output", output, &input);
  check_same_dtype(site, input, output);
  check_count(site, "output", output, input.numel(), "as many elements as the input");
  check_reduction(kOp, input.dtype(), op);
  check_placement(site, input, output, true, kSameTensor);
  return do_all_reduce(input, output, op);
}

WorkPtr Communicator::all_gather(const Tensor& input, const Tensor& output) {
  constexpr const char* kOp = "all_gather";
  const CallSite site{backend(), name(), kOp};
  check_tensor(kOp, "input", input, nullptr);
  check_tensor(kOp, "output", output, &input);
  check_same_dtype(site, input, output);
  check_count(site, "output", output, size() * input.numel(), "size() x input elements");
  check_placement(site, input, output, false, InPlaceForm{"input", "output", rank()});
  return do_all_gather(input, output);
}

WorkPtr Communicator::reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) {
  constexpr const char* kOp = "reduce_scatter";
  const CallSite site{backend(), name(), kOp};
  check_tensor(kOp, "input", input, nullptr);
  check_tensor(kOp, "output", output, &input);
  check_same_dtype(site, input, output);
  check_count(site, "input", input, size() * output.numel(), "size() x output elements");
  check_reduction(kOp, input.dtype(), op);
  check_placement(site, input, output, true, InPlaceForm{"output", "input", rank()});
  return do_reduce_scatter(input, output, op);
}

WorkPtr Communicator::broadcast(const Tensor& buffer, int root) {
  constexpr const char* kOp = "broadcast";
  check_rank(CallSite{backend(), name(), kOp}, "root", root, size());
  check_tensor(kOp, "buffer", buffer, nullptr);
  return do_broadcast(buffer, root);
}

WorkPtr Communicator::reduce(const Tensor& input, const Tensor& output, ReduceOp op, int root) {
  constexpr const char* kOp = "reduce";
  const CallSite site{backend(), name(), kOp};
  check_rank(site, "root", root, size());
  check_tensor(kOp, "input", input, nullptr);
  check_reduction(kOp, input.dtype(), op);
  if (rank() == root) {  // other ranks' output is not written, so not looked at
    check_tensor(kOp, "output", output, &input);
    check_same_dtype(site, input, output);
    check_count(site, "output", output, input.numel(), "as many elements as the input");
    check_placement(site, input, output, true, kSameTensor);
  }
  return do_reduce(input, output, op, root);
}

WorkPtr Communicator::all_to_all(const Tensor& input, const Tensor& output) {
  constexpr const char* kOp = "all_to_all";
  const CallSite site{backend(), name(), kOp};
  check_tensor(kOp, "input", input, nullptr);
  check_tensor(kOp, "output", output, &input);
  check_same_dtype(site, input, output);
  check_chunks(site, "input", input, size());
  check_count(site, "output", output, input.numel(), "as many elements as the input");
  check_placement(site, input, output, true, kSameTensor);
  return do_all_to_all(input, output);
}

WorkPtr Communicator::all_to_all_v(const Tensor& input, std::span<const std::int64_t> send_counts,
                                   const Tensor& output,
                                   std::span<const std::int64_t> recv_counts) {
  constexpr const char* kOp = "all_to_all_v";
  const CallSite site{backend(), name(), kOp};
  check_tensor(kOp, "input", input, nullptr);
  check_tensor(kOp, "output", output, &input);
  check_same_dtype(site, input, output);
  check_counts(site, "send_counts", send_counts, size(), "input", input);
  check_counts(site, "recv_counts", recv_counts, size(), "output", output);
  check_separate(site, input, output);
  return do_all_to_all_v(input, send_counts, output, recv_counts);
}

WorkPtr Communicator::barrier() {
  return do_barrier();
}

WorkPtr Communicator::send(const Tensor& input, int peer, int tag) {
  constexpr const char* kOp = "send";
  const CallSite site{backend(), name(), kOp};
  check_rank(site, "peer", peer, size());
  check_tag(site, backend(), tag, max_tag());
  check_tensor(kOp, "input", input, nullptr);
  return do_send(input, peer, tag);
}

WorkPtr Communicator::recv(const Tensor& output, int peer, int tag) {
  constexpr const char* kOp = "recv";
  const CallSite site{backend(), name(), kOp};
  check_rank(site, "peer", peer, size());
  check_tag(site, backend(), tag, max_tag());
  check_tensor(kOp, "output", output, nullptr);
  return do_recv(output, peer, tag);
}

std::unique_ptr<Communicator> Communicator::split(int color, int key) {
  return do_split(color, key);
}

WorkPtr Communicator::do_all_reduce(const Tensor&, const Tensor&, ReduceOp) {
  unsupported("all_reduce");
}
WorkPtr Communicator::do_all_gather(const Tensor&, const Tensor&) {
  unsupported("all_gather");
}
WorkPtr Communicator::do_reduce_scatter(const Tensor&, const Tensor&, ReduceOp) {
  unsupported("reduce_scatter");
}
WorkPtr Communicator::do_broadcast(const Tensor&, int) {
  unsupported("broadcast");
}
WorkPtr Communicator::do_reduce(const Tensor&, const Tensor&, ReduceOp, int) {
  unsupported("reduce");
}
WorkPtr Communicator::do_all_to_all(const Tensor&, const Tensor&) {
  unsupported("all_to_all");
}
WorkPtr Communicator::do_all_to_all_v(const Tensor&, std::span<const std::int64_t>, const Tensor&,
                                      std::span<const std::int64_t>) {
  unsupported("all_to_all_v");
}
WorkPtr Communicator::do_barrier() {
  unsupported("barrier");
}
WorkPtr Communicator::do_send(const Tensor&, int, int) {
  unsupported("send");
}
WorkPtr Communicator::do_recv(const Tensor&, int, int) {
  unsupported("recv");
}
std::unique_ptr<Communicator> Communicator::do_split(int, int) {
  unsupported("split");
}

}  // namespace trellis
