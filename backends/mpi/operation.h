// What an operation is, for messages.
//
// Every Work carries an OpInfo: a few plain fields, copied without allocating. The words are made
// only when something goes wrong (a failed MPI call, a timeout), so a healthy operation formats
// nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "trellis/comm.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

enum class OpKind : std::uint8_t {
  all_reduce,
  all_gather,
  reduce_scatter,
  broadcast,
  reduce,
  all_to_all,
  all_to_all_v,
  barrier,
  send,
  recv,
  split,
};

// The name of the Communicator method: "all_reduce", "recv", ...
const char* op_kind_name(OpKind kind) noexcept;

struct OpInfo {
  OpKind kind = OpKind::barrier;
  DType dtype = DType::f32;
  std::int64_t count = 0;  // elements each rank contributes (the input's; all_to_all_v: it sends)
  ReduceOp reduce_op = ReduceOp::sum;  // all_reduce, reduce_scatter, reduce
  int peer = -1;                       // root (broadcast, reduce) or peer (send, recv): group rank
  int tag = 0;                         // send, recv

  bool is_point_to_point() const noexcept { return kind == OpKind::send || kind == OpKind::recv; }
  bool has_root() const noexcept { return kind == OpKind::broadcast || kind == OpKind::reduce; }
  bool reduces() const noexcept {
    return kind == OpKind::all_reduce || kind == OpKind::reduce_scatter || kind == OpKind::reduce;
  }
  std::size_t bytes() const noexcept { return static_cast<std::size_t>(count) * dtype_size(dtype); }
};

// "all_reduce (sum) of 262144 f32 elements", "broadcast of 7 i32 elements from root 2 (world
// rank 5)", "reduce (max) of 3 f32 elements to root 0 (world rank 0)", "recv of 1 f32 elements from
// rank 1 (world rank 3), tag 9". `peer_world_rank` is the world rank of info.peer (ignored when the
// operation has no peer or root).
std::string describe_operation(const OpInfo& info, int peer_world_rank);

}  // namespace trellis::mpi
