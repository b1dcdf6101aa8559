#include "comm/self_communicator.h"

#include <cstring>
#include <string>

#include "trellis/error.h"

namespace trellis {

namespace {

std::string numel_text(const Tensor& t) {
  return std::to_string(t.numel()) + " elements (" + t.str() + ")";
}

}  // namespace

SelfCommunicator::SelfCommunicator(std::chrono::milliseconds timeout) {
  set_timeout(timeout);
}

void SelfCommunicator::check_tensor(const Tensor& tensor, const char* operation,
                                    const char* role) const {
  const std::string where = "backend self, " + name() + ": " + operation + ": ";
  if (!tensor.defined()) throw Error(where + "the " + role + " is an undefined tensor");
  if (!tensor.is_contiguous()) {
    throw Error(where + "the " + role + " must be contiguous; got " + tensor.str() +
                " with strides " + tensor.strides().str());
  }
}

void SelfCommunicator::check_root(int root, const char* operation) const {
  if (root != 0) {
    throw Error("backend self, " + name() + ": " + operation + ": root " + std::to_string(root) +
                " is not a rank of this group of 1 rank; valid: 0");
  }
}

WorkPtr SelfCommunicator::copy(const Tensor& input, const Tensor& output, const char* operation) {
  check_tensor(input, operation, "input");
  check_tensor(output, operation, "output");
  const std::string where = "backend self, " + name() + ": " + operation + ": ";
  if (input.dtype() != output.dtype()) {
    throw Error(where + "input and output differ in dtype: " + input.str() + " and " +
                output.str());
  }
  if (input.numel() != output.numel()) {
    throw Error(where + "the output must hold " + numel_text(input) +
                " for a group of 1 rank; it holds " + numel_text(output));
  }
  if (input.device() != output.device()) {
    throw Error(where + "input and output are on different devices: " + input.str() + " and " +
                output.str());
  }
  if (input.data_ptr() == output.data_ptr()) return completed_work();  // in place
  if (input.device().kind != DeviceKind::cpu) {
    throw UnsupportedError(where + "copying between two " + input.device().str() +
                           " tensors is not supported yet; pass the same tensor as input and "
                           "output (in place)");
  }
  std::memmove(output.data_ptr(), input.data_ptr(), input.nbytes());
  return completed_work();
}

// One rank: sum, avg, max and min of a single value are the value.
WorkPtr SelfCommunicator::all_reduce(const Tensor& input, const Tensor& output, ReduceOp) {
  return copy(input, output, "all_reduce");
}

WorkPtr SelfCommunicator::all_gather(const Tensor& input, const Tensor& output) {
  return copy(input, output, "all_gather");
}

WorkPtr SelfCommunicator::reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp) {
  return copy(input, output, "reduce_scatter");
}

WorkPtr SelfCommunicator::broadcast(const Tensor& buffer, int root) {
  check_root(root, "broadcast");
  check_tensor(buffer, "broadcast", "buffer");
  return completed_work();
}

WorkPtr SelfCommunicator::reduce(const Tensor& input, const Tensor& output, ReduceOp, int root) {
  check_root(root, "reduce");
  return copy(input, output, "reduce");
}

WorkPtr SelfCommunicator::all_to_all(const Tensor& input, const Tensor& output) {
  return copy(input, output, "all_to_all");
}

WorkPtr SelfCommunicator::barrier() {
  return completed_work();
}

WorkPtr SelfCommunicator::send(const Tensor&, int peer, int) {
  throw UnsupportedError("backend self, " + name() + ": send to rank " + std::to_string(peer) +
                         ": a group of 1 rank has no peer to send to");
}

WorkPtr SelfCommunicator::recv(const Tensor&, int peer, int) {
  throw UnsupportedError("backend self, " + name() + ": recv from rank " + std::to_string(peer) +
                         ": a group of 1 rank has no peer to receive from");
}

std::unique_ptr<Communicator> SelfCommunicator::split(int color, int) {
  if (color < 0) return nullptr;
  return std::make_unique<SelfCommunicator>(timeout());
}

}  // namespace trellis
