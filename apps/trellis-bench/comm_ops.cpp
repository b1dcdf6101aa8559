#include "comm_ops.h"

namespace trellis::bench {

namespace {

constexpr BenchOp kOps[] = {BenchOp::all_reduce,   BenchOp::all_gather, BenchOp::reduce_scatter,
                            BenchOp::broadcast,    BenchOp::reduce,     BenchOp::all_to_all,
                            BenchOp::all_to_all_v, BenchOp::sendrecv};

}  // namespace

const char* bench_op_name(BenchOp op) noexcept {
  switch (op) {
    case BenchOp::all_reduce:
      return "all_reduce";
    case BenchOp::all_gather:
      return "all_gather";
    case BenchOp::reduce_scatter:
      return "reduce_scatter";
    case BenchOp::broadcast:
      return "broadcast";
    case BenchOp::reduce:
      return "reduce";
    case BenchOp::all_to_all:
      return "all_to_all";
    case BenchOp::all_to_all_v:
      return "all_to_all_v";
    case BenchOp::sendrecv:
      return "sendrecv";
  }
  return "?";
}

std::optional<BenchOp> parse_bench_op(std::string_view name) {
  for (BenchOp op : kOps) {
    if (name == bench_op_name(op)) return op;
  }
  return std::nullopt;
}

std::string bench_op_list() {
  std::string list;
  for (BenchOp op : kOps) list += (list.empty() ? "" : ", ") + std::string(bench_op_name(op));
  return list;
}

bool is_reduction(BenchOp op) noexcept {
  return op == BenchOp::all_reduce || op == BenchOp::reduce_scatter || op == BenchOp::reduce;
}

bool has_root(BenchOp op) noexcept {
  return op == BenchOp::broadcast || op == BenchOp::reduce;
}

OpShape op_shape(BenchOp op, std::int64_t size_bytes, std::int64_t element_bytes, int nranks) {
  const std::int64_t elements = size_bytes / element_bytes;
  OpShape shape;
  switch (op) {
    case BenchOp::all_gather:
      shape.count = elements / nranks;
      shape.send_count = shape.count;
      shape.recv_count = shape.count * nranks;
      break;
    case BenchOp::reduce_scatter:
      shape.count = elements / nranks;
      shape.send_count = shape.count * nranks;
      shape.recv_count = shape.count;
      break;
    case BenchOp::all_to_all:
      shape.count = elements / nranks;  // one chunk: what a rank sends each peer
      shape.send_count = shape.count * nranks;
      shape.recv_count = shape.send_count;
      break;
    case BenchOp::all_to_all_v:
      shape.count = elements / nranks;  // the mean share
      shape.send_count = elements;
      shape.recv_count = elements;
      break;
    case BenchOp::all_reduce:
    case BenchOp::broadcast:
    case BenchOp::reduce:
    case BenchOp::sendrecv:
      shape.count = elements;
      shape.send_count = elements;
      shape.recv_count = elements;
      break;
  }
  const std::int64_t larger =
      shape.send_count > shape.recv_count ? shape.send_count : shape.recv_count;
  shape.bytes = larger * element_bytes;
  return shape;
}

double bus_factor(BenchOp op, int nranks) {
  const double n = nranks;
  switch (op) {
    case BenchOp::all_reduce:
      return 2 * (n - 1) / n;
    case BenchOp::all_gather:
    case BenchOp::reduce_scatter:
    case BenchOp::all_to_all:
    case BenchOp::all_to_all_v:
      return (n - 1) / n;
    case BenchOp::broadcast:
    case BenchOp::reduce:
    case BenchOp::sendrecv:
      return 1;
  }
  return 1;
}

std::vector<std::int64_t> all_to_all_v_counts(int rank, int nranks, std::int64_t elements,
                                              bool sending) {
  const std::int64_t shares = std::int64_t{nranks} * (nranks + 1) / 2;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(nranks));
  for (int peer = 0; peer < nranks; ++peer) {
    const int from = sending ? rank : peer, to = sending ? peer : rank;
    const int distance = (to - from + nranks) % nranks;  // from i forward to j
    counts[static_cast<std::size_t>(peer)] = elements * (1 + distance) / shares;
  }
  return counts;
}

}  // namespace trellis::bench
