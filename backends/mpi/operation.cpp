#include "operation.h"

namespace trellis::mpi {

const char* op_kind_name(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::all_reduce:
      return "all_reduce";
    case OpKind::all_gather:
      return "all_gather";
    case OpKind::reduce_scatter:
      return "reduce_scatter";
    case OpKind::broadcast:
      return "broadcast";
    case OpKind::reduce:
      return "reduce";
    case OpKind::all_to_all:
      return "all_to_all";
    case OpKind::all_to_all_v:
      return "all_to_all_v";
    case OpKind::barrier:
      return "barrier";
    case OpKind::send:
      return "send";
    case OpKind::recv:
      return "recv";
    case OpKind::split:
      return "split";
  }
  return "?";
}

std::string describe_operation(const OpInfo& info, int peer_world_rank) {
  std::string text = op_kind_name(info.kind);
  if (info.kind == OpKind::barrier || info.kind == OpKind::split) return text;
  if (info.reduces()) text += std::string(" (") + reduce_op_name(info.reduce_op) + ")";
  text += " of " + std::to_string(info.count) + " " + dtype_name(info.dtype) + " elements";
  const std::string peer =
      std::to_string(info.peer) + " (world rank " + std::to_string(peer_world_rank) + ")";
  if (info.kind == OpKind::broadcast) text += " from root " + peer;
  if (info.kind == OpKind::reduce) text += " to root " + peer;
  if (info.kind == OpKind::send) text += " to rank " + peer;
  if (info.kind == OpKind::recv) text += " from rank " + peer;
  if (info.is_point_to_point()) text += ", tag " + std::to_string(info.tag);
  return text;
}

}  // namespace trellis::mpi
