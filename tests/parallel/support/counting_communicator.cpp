#include "support/counting_communicator.h"

namespace trellis::test {

const char* CountingCommunicator::op_name(Op op) {
  static const char* const names[] = {"all_reduce", "all_gather", "reduce_scatter",
                                      "broadcast",  "reduce",     "other"};
  return names[op];
}

CountingCommunicator::CountingCommunicator(Communicator* inner) : inner_(inner) {
  set_name(inner->name());
  set_timeout(inner->timeout());
}

void CountingCommunicator::count(Op op, std::size_t buffer_bytes, double factor) {
  ++calls_[op];
  if (size() > 1) bytes_[op] += factor * static_cast<double>(buffer_bytes);
}

WorkPtr CountingCommunicator::do_all_reduce(const Tensor& input, const Tensor& output,
                                            ReduceOp op) {
  const double p = size();
  count(all_reduce_op, input.nbytes(), 2.0 * (p - 1) / p);
  return inner_->all_reduce(input, output, op);
}

WorkPtr CountingCommunicator::do_all_gather(const Tensor& input, const Tensor& output) {
  const double p = size();
  count(all_gather_op, output.nbytes(), (p - 1) / p);
  return inner_->all_gather(input, output);
}

WorkPtr CountingCommunicator::do_reduce_scatter(const Tensor& input, const Tensor& output,
                                                ReduceOp op) {
  const double p = size();
  count(reduce_scatter_op, input.nbytes(), (p - 1) / p);
  return inner_->reduce_scatter(input, output, op);
}

WorkPtr CountingCommunicator::do_broadcast(const Tensor& buffer, int root) {
  count(broadcast_op, buffer.nbytes(), 1.0);
  return inner_->broadcast(buffer, root);
}

WorkPtr CountingCommunicator::do_reduce(const Tensor& input, const Tensor& output, ReduceOp op,
                                        int root) {
  count(reduce_op, input.nbytes(), 1.0);
  return inner_->reduce(input, output, op, root);
}

WorkPtr CountingCommunicator::do_all_to_all(const Tensor& input, const Tensor& output) {
  const double p = size();
  count(other_op, input.nbytes(), (p - 1) / p);
  return inner_->all_to_all(input, output);
}

// What leaves this rank for its peers: every count but its own.
WorkPtr CountingCommunicator::do_all_to_all_v(const Tensor& input,
                                              std::span<const std::int64_t> send_counts,
                                              const Tensor& output,
                                              std::span<const std::int64_t> recv_counts) {
  std::int64_t sent = 0;
  for (int peer = 0; peer < size(); ++peer) {
    if (peer != rank()) sent += send_counts[static_cast<std::size_t>(peer)];
  }
  count(other_op, static_cast<std::size_t>(sent) * dtype_size(input.dtype()), 1.0);
  return inner_->all_to_all_v(input, send_counts, output, recv_counts);
}

WorkPtr CountingCommunicator::do_barrier() {
  count(other_op, 0, 0.0);
  return inner_->barrier();
}

WorkPtr CountingCommunicator::do_send(const Tensor& input, int peer, int tag) {
  count(other_op, input.nbytes(), 1.0);
  return inner_->send(input, peer, tag);
}

WorkPtr CountingCommunicator::do_recv(const Tensor& output, int peer, int tag) {
  count(other_op, output.nbytes(), 1.0);
  return inner_->recv(output, peer, tag);
}

double CountingCommunicator::bus_bytes() const {
  double total = 0.0;
  for (double b : bytes_) total += b;
  return total;
}

void CountingCommunicator::reset() {
  calls_.fill(0);
  bytes_.fill(0.0);
}

}  // namespace trellis::test
