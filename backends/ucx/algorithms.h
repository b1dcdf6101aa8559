// The collective algorithms, one coroutine each (one file each).
//
// Every algorithm runs over an Operation (its group, transfers and scratch) on raw host memory;
// the communicator has already checked the tensors and picked the algorithm by size
// (ucx_communicator.cpp, README.md "Algorithms"). Buffers are byte pointers; counts are in
// elements. `input == output` (in-place) is allowed wherever the communicator allows it, and
// every algorithm is written for any group size, not only powers of two.
#pragma once

#include <cstddef>
#include <vector>

#include "op_task.h"
#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::ucx {

class Operation;

struct ReduceSpec {
  DType dtype;
  ReduceOp op;
  std::size_t element_bytes;
};

// all_reduce, small messages: log2(n) pairwise exchanges of the whole message; a group that is
// not a power of two first folds its extra ranks into partners and unfolds at the end.
OpTask all_reduce_recursive_doubling(Operation& op, const std::byte* input, std::byte* output,
                                     std::size_t count, ReduceSpec spec);

// all_reduce, large messages: pipelined ring reduce-scatter then all-gather (ring_reduce.cpp).
OpTask ring_all_reduce(Operation& op, const std::byte* input, std::byte* output, std::size_t count,
                       ReduceSpec spec);

// reduce_scatter: the ring's reduce-scatter half; `input` holds n blocks of `block_count`,
// `output` receives the rank's reduced block.
OpTask ring_reduce_scatter(Operation& op, const std::byte* input, std::byte* output,
                           std::size_t block_count, ReduceSpec spec);

// all_gather, large: pipelined ring. `output` holds n blocks of `block_bytes`.
OpTask ring_all_gather(Operation& op, const std::byte* input, std::byte* output,
                       std::size_t block_bytes);

// all_gather, small: Bruck's algorithm, ceil(log2 n) rounds for any n.
OpTask bruck_all_gather(Operation& op, const std::byte* input, std::byte* output,
                        std::size_t block_bytes);

// broadcast: pipelined tree, binomial (few rounds) or a chain (each rank sends the message once,
// best for large messages over several ranks).
enum class TreeShape : std::uint8_t { binomial, chain };
OpTask tree_broadcast(Operation& op, std::byte* buffer, std::size_t bytes, int root,
                      TreeShape shape);

// reduce: pipelined binomial tree towards root; `output` is written on root only.
OpTask binomial_reduce(Operation& op, const std::byte* input, std::byte* output, std::size_t count,
                       ReduceSpec spec, int root);

// all_to_all: pairwise exchange, step s sends to rank+s and receives from rank-s.
OpTask pairwise_all_to_all(Operation& op, const std::byte* input, std::byte* output,
                           std::size_t block_bytes);

// One rank's block of a buffer, in bytes.
struct ByteBlock {
  std::size_t offset = 0;
  std::size_t bytes = 0;
};
// all_to_all_v: the same exchange with a block per peer, send[j] of input to rank j and recv[j]
// of output from rank j (empty blocks as empty messages). Either the blocks of every rank are
// equal and input == output may hold (in place), or input and output are separate.
OpTask pairwise_all_to_all_v(Operation& op, const std::byte* input, std::byte* output,
                             std::vector<ByteBlock> send, std::vector<ByteBlock> recv);

// barrier: dissemination, ceil(log2 n) rounds of empty messages.
OpTask dissemination_barrier(Operation& op);

// send/recv: one message with the user's tag.
OpTask send_message(Operation& op, const std::byte* data, std::size_t bytes, int peer, int tag);
OpTask recv_message(Operation& op, std::byte* data, std::size_t bytes, int peer, int tag);

}  // namespace trellis::ucx
