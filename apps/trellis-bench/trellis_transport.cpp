#include "trellis_transport.h"

#include "trellis/error.h"

namespace trellis::bench {

TrellisTransport::TrellisTransport(Communicator& comm, std::shared_ptr<Allocator> allocator)
    : comm_(comm),
      allocator_(std::move(allocator)),
      scalar_f32_(Tensor::empty({1}, DType::f32, allocator_)),
      scalar_i32_(Tensor::empty({1}, DType::i32, allocator_)) {}

std::string TrellisTransport::cannot(BenchOp op, bool in_place) const {
  if (op == BenchOp::broadcast && !in_place) return "one buffer";
  // Sending a buffer while receiving into it races: comm.h's send/recv have no in-place form.
  if ((op == BenchOp::sendrecv || op == BenchOp::all_to_all_v) && in_place) {
    return "no in-place form";
  }
  if (op == BenchOp::sendrecv && comm_.size() == 1) return "no peer";
  return "";
}

WorkPtr TrellisTransport::start(const BenchCall& call) {
  try {
    switch (call.op) {
      case BenchOp::all_reduce:
        return comm_.all_reduce(call.input, call.output, ReduceOp::sum);
      case BenchOp::all_gather:
        return comm_.all_gather(call.input, call.output);
      case BenchOp::reduce_scatter:
        return comm_.reduce_scatter(call.input, call.output, ReduceOp::sum);
      case BenchOp::broadcast:
        return comm_.broadcast(call.input, call.root);
      case BenchOp::reduce:
        return comm_.reduce(call.input, call.output, ReduceOp::sum, call.root);
      case BenchOp::all_to_all:
        return comm_.all_to_all(call.input, call.output);
      case BenchOp::all_to_all_v:
        return comm_.all_to_all_v(call.input, call.send_counts, call.output, call.recv_counts);
      case BenchOp::sendrecv:
        break;  // two operations: run() waits for both
    }
  } catch (const CommError&) {
    throw;  // a failure, not a refusal
  } catch (const Error& error) {
    throw Declined(error.what());
  }
  return nullptr;
}

void TrellisTransport::run(const BenchCall& call) {
  if (call.op == BenchOp::sendrecv) {
    const int rank = comm_.rank(), size = comm_.size();
    WorkPtr recv = comm_.recv(call.output, (rank + size - 1) % size, 0);
    WorkPtr send = comm_.send(call.input, (rank + 1) % size, 0);
    recv->wait();
    send->wait();
    return;
  }
  start(call)->wait();
}

double TrellisTransport::max_over_ranks(double value) {
  *scalar_f32_.data<float>() = static_cast<float>(value);
  comm_.all_reduce(scalar_f32_, scalar_f32_, ReduceOp::max)->wait();
  return *scalar_f32_.data<float>();
}

std::int64_t TrellisTransport::sum_over_ranks(std::int64_t value) {
  constexpr std::int64_t kMost = 1 << 26;  // so that the sum over ranks fits in i32
  *scalar_i32_.data<std::int32_t>() = static_cast<std::int32_t>(value < kMost ? value : kMost);
  comm_.all_reduce(scalar_i32_, scalar_i32_, ReduceOp::sum)->wait();
  return *scalar_i32_.data<std::int32_t>();
}

void TrellisTransport::barrier() {
  comm_.barrier()->wait();
}

}  // namespace trellis::bench
