#include "ucx_communicator.h"

#include <cstring>

#include "engine.h"
#include "operation.h"
#include "tag_layout.h"
#include "trellis/error.h"
#include "ucx_work.h"

namespace trellis::ucx {

namespace {

std::byte* bytes_of(const Tensor& t) {
  return static_cast<std::byte*>(t.data_ptr());
}

ReduceSpec spec_of(const Tensor& t, ReduceOp op) {
  return {t.dtype(), op, dtype_size(t.dtype())};
}

// A group of one: the result is the input.
WorkPtr copy_locally(const Tensor& input, const Tensor& output) {
  if (input.data_ptr() != output.data_ptr()) {
    std::memcpy(output.data_ptr(), input.data_ptr(), input.nbytes());
  }
  return completed_work();
}

}  // namespace

UcxCommunicator::UcxCommunicator(std::shared_ptr<Engine> engine, std::shared_ptr<const Group> group,
                                 std::string name, std::chrono::milliseconds timeout)
    : engine_(std::move(engine)), group_(std::move(group)) {
  set_name(std::move(name));
  set_timeout(timeout);
}

UcxCommunicator::~UcxCommunicator() = default;

std::shared_ptr<Operation> UcxCommunicator::make_operation(const OpInfo& info) {
  const bool collective = info.tag < 0;
  return std::make_shared<Operation>(*engine_, group_, name(), info, collective ? sequence_++ : 0);
}

WorkPtr UcxCommunicator::launch(std::shared_ptr<Operation>&& operation, OpTask task) {
  operation->start(std::move(task));
  if (!operation->finished() || !operation->drained()) engine_->add(operation);
  // Moved, not copied: each copy of a shared_ptr is an atomic increment and decrement, a
  // noticeable part of a small message's time. (Taken by reference, so the callers' other
  // argument, the task made from *operation, never sees it moved from.)
  return std::make_unique<UcxWork>(engine_, std::move(operation), timeout());
}

WorkPtr UcxCommunicator::do_all_reduce(const Tensor& input, const Tensor& output, ReduceOp op) {
  if (input.numel() == 0) return completed_work();
  if (size() == 1) return copy_locally(input, output);

  const bool ring = input.nbytes() >= engine_->options().all_reduce_ring_bytes;
  auto operation = make_operation(
      {"all_reduce", ring ? "ring" : "recursive doubling", input.nbytes(), input.dtype(), op});
  operation->keep_alive(input);
  operation->keep_alive(output);
  const auto count = static_cast<std::size_t>(input.numel());
  const ReduceSpec spec = spec_of(input, op);
  if (ring) {
    return launch(std::move(operation),
                  ring_all_reduce(*operation, bytes_of(input), bytes_of(output), count, spec));
  }
  return launch(std::move(operation), all_reduce_recursive_doubling(*operation, bytes_of(input),
                                                                    bytes_of(output), count, spec));
}

WorkPtr UcxCommunicator::do_all_gather(const Tensor& input, const Tensor& output) {
  return all_gather_as("all_gather", input, output);
}

WorkPtr UcxCommunicator::all_gather_as(const char* name, const Tensor& input,
                                       const Tensor& output) {
  if (input.numel() == 0) return completed_work();
  if (size() == 1) return copy_locally(input, output);

  const bool ring = output.nbytes() >= engine_->options().all_gather_ring_bytes;
  auto operation = make_operation({name, ring ? "ring" : "Bruck", input.nbytes(), input.dtype()});
  operation->keep_alive(input);
  operation->keep_alive(output);
  if (ring) {
    return launch(std::move(operation),
                  ring_all_gather(*operation, bytes_of(input), bytes_of(output), input.nbytes()));
  }
  return launch(std::move(operation),
                bruck_all_gather(*operation, bytes_of(input), bytes_of(output), input.nbytes()));
}

WorkPtr UcxCommunicator::do_reduce_scatter(const Tensor& input, const Tensor& output, ReduceOp op) {
  if (output.numel() == 0) return completed_work();
  if (size() == 1) return copy_locally(input, output);

  auto operation = make_operation({"reduce_scatter", "ring", input.nbytes(), input.dtype(), op});
  operation->keep_alive(input);
  operation->keep_alive(output);
  return launch(std::move(operation),
                ring_reduce_scatter(*operation, bytes_of(input), bytes_of(output),
                                    static_cast<std::size_t>(output.numel()), spec_of(input, op)));
}

WorkPtr UcxCommunicator::do_broadcast(const Tensor& buffer, int root) {
  if (buffer.numel() == 0 || size() == 1) return completed_work();

  const bool chain = size() >= 3 && buffer.nbytes() >= engine_->options().broadcast_chain_bytes;
  OpInfo info{"broadcast", chain ? "pipelined chain" : "binomial tree", buffer.nbytes(),
              buffer.dtype()};
  info.root = root;
  auto operation = make_operation(info);
  operation->keep_alive(buffer);
  return launch(std::move(operation),
                tree_broadcast(*operation, bytes_of(buffer), buffer.nbytes(), root,
                               chain ? TreeShape::chain : TreeShape::binomial));
}

WorkPtr UcxCommunicator::do_reduce(const Tensor& input, const Tensor& output, ReduceOp op,
                                   int root) {
  // Only the root's output is written; other ranks may pass any tensor, or none.
  if (input.numel() == 0) return completed_work();
  if (size() == 1) return copy_locally(input, output);

  OpInfo info{"reduce", "binomial tree", input.nbytes(), input.dtype(), op};
  info.root = root;
  auto operation = make_operation(info);
  operation->keep_alive(input);
  if (output.defined()) operation->keep_alive(output);
  return launch(
      std::move(operation),
      binomial_reduce(*operation, bytes_of(input), rank() == root ? bytes_of(output) : nullptr,
                      static_cast<std::size_t>(input.numel()), spec_of(input, op), root));
}

WorkPtr UcxCommunicator::do_all_to_all(const Tensor& input, const Tensor& output) {
  if (input.numel() == 0) return completed_work();
  if (size() == 1) return copy_locally(input, output);

  auto operation =
      make_operation({"all_to_all", "pairwise exchange", input.nbytes(), input.dtype()});
  operation->keep_alive(input);
  operation->keep_alive(output);
  return launch(std::move(operation),
                pairwise_all_to_all(*operation, bytes_of(input), bytes_of(output),
                                    input.nbytes() / static_cast<std::size_t>(size())));
}

WorkPtr UcxCommunicator::do_all_to_all_v(const Tensor& input,
                                         std::span<const std::int64_t> send_counts,
                                         const Tensor& output,
                                         std::span<const std::int64_t> recv_counts) {
  const std::size_t element_bytes = dtype_size(input.dtype());
  const auto blocks = [&](std::span<const std::int64_t> counts) {
    std::vector<ByteBlock> out(counts.size());
    std::size_t offset = 0;
    for (std::size_t peer = 0; peer < counts.size(); ++peer) {
      out[peer] = {offset, static_cast<std::size_t>(counts[peer]) * element_bytes};
      offset += out[peer].bytes;
    }
    return out;
  };
  std::vector<ByteBlock> send = blocks(send_counts);
  std::vector<ByteBlock> recv = blocks(recv_counts);
  if (size() == 1) {
    if (send[0].bytes != recv[0].bytes) {
      throw Error("backend ucx: all_to_all_v on group '" + name() +
                  "': send_counts[0] = " + std::to_string(send_counts[0]) +
                  " but recv_counts[0] = " + std::to_string(recv_counts[0]) +
                  ": a group of one rank receives what it sends");
    }
    if (send[0].bytes > 0) std::memcpy(output.data_ptr(), input.data_ptr(), send[0].bytes);
    return completed_work();
  }
  // Every rank takes part even when it sends and receives nothing: the operation numbers the
  // group's collectives, and its peers' messages (empty ones included) are addressed to it.
  auto operation = make_operation(
      {"all_to_all_v", "pairwise exchange", send.back().offset + send.back().bytes, input.dtype()});
  operation->keep_alive(input);
  operation->keep_alive(output);
  return launch(std::move(operation),
                pairwise_all_to_all_v(*operation, bytes_of(input), bytes_of(output),
                                      std::move(send), std::move(recv)));
}

WorkPtr UcxCommunicator::do_barrier() {
  if (size() == 1) return completed_work();
  auto operation = make_operation({"barrier", "dissemination"});
  return launch(std::move(operation), dissemination_barrier(*operation));
}

int UcxCommunicator::max_tag() const {
  return static_cast<int>(tag_layout::kUserTagLimit - 1);
}

WorkPtr UcxCommunicator::do_send(const Tensor& input, int peer, int tag) {
  OpInfo info{"send", "", input.nbytes(), input.dtype()};
  info.peer = peer;
  info.tag = tag;
  auto operation = make_operation(info);
  operation->keep_alive(input);
  return launch(std::move(operation),
                send_message(*operation, bytes_of(input), input.nbytes(), peer, tag));
}

WorkPtr UcxCommunicator::do_recv(const Tensor& output, int peer, int tag) {
  OpInfo info{"recv", "", output.nbytes(), output.dtype()};
  info.peer = peer;
  info.tag = tag;
  auto operation = make_operation(info);
  operation->keep_alive(output);
  return launch(std::move(operation),
                recv_message(*operation, bytes_of(output), output.nbytes(), peer, tag));
}

}  // namespace trellis::ucx
