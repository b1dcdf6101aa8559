#include "comm/self_communicator.h"

#include <cstring>
#include <string>

#include "trellis/error.h"

namespace trellis {

SelfCommunicator::SelfCommunicator(std::chrono::milliseconds timeout) {
  set_timeout(timeout);
}

WorkPtr SelfCommunicator::copy(const Tensor& input, const Tensor& output, const char* operation) {
  const std::string where = "backend self, " + name() + ": " + operation + ": ";
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
WorkPtr SelfCommunicator::do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp) {
  return copy(input, output, "all_reduce");
}

WorkPtr SelfCommunicator::do_all_gather(const Tensor& input, const Tensor& output) {
  return copy(input, output, "all_gather");
}

WorkPtr SelfCommunicator::do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp) {
  return copy(input, output, "reduce_scatter");
}

WorkPtr SelfCommunicator::do_broadcast(const Tensor&, int) {
  return completed_work();
}

WorkPtr SelfCommunicator::do_reduce(const Tensor& input, const Tensor& output, ReduceOp, int) {
  return copy(input, output, "reduce");
}

WorkPtr SelfCommunicator::do_all_to_all(const Tensor& input, const Tensor& output) {
  return copy(input, output, "all_to_all");
}

// One rank sends its first send_counts[0] elements to itself.
WorkPtr SelfCommunicator::do_all_to_all_v(const Tensor& input,
                                          std::span<const std::int64_t> send_counts,
                                          const Tensor& output,
                                          std::span<const std::int64_t> recv_counts) {
  const std::string where = "backend self, " + name() + ": all_to_all_v: ";
  if (send_counts[0] != recv_counts[0]) {
    throw Error(where + "send_counts[0] = " + std::to_string(send_counts[0]) +
                " but recv_counts[0] = " + std::to_string(recv_counts[0]) +
                ": a group of one rank receives what it sends");
  }
  if (send_counts[0] == 0) return completed_work();
  if (input.device().kind != DeviceKind::cpu) {
    throw UnsupportedError(where + "copying between two " + input.device().str() +
                           " tensors is not supported yet");
  }
  std::memcpy(output.data_ptr(), input.data_ptr(),
              static_cast<std::size_t>(send_counts[0]) * dtype_size(input.dtype()));
  return completed_work();
}

WorkPtr SelfCommunicator::do_barrier() {
  return completed_work();
}

WorkPtr SelfCommunicator::do_send(const Tensor&, int peer, int) {
  throw UnsupportedError("backend self, " + name() + ": send to rank " + std::to_string(peer) +
                         ": a group of 1 rank has no peer to send to");
}

WorkPtr SelfCommunicator::do_recv(const Tensor&, int peer, int) {
  throw UnsupportedError("backend self, " + name() + ": recv from rank " + std::to_string(peer) +
                         ": a group of 1 rank has no peer to receive from");
}

std::unique_ptr<Communicator> SelfCommunicator::do_split(int color, int) {
  if (color < 0) return nullptr;
  return std::make_unique<SelfCommunicator>(timeout());
}

}  // namespace trellis
