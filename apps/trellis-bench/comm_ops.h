// The operations `trellis-bench comm` measures, and how nccl-tests sizes and scores each.
//
// Sizes: the size asked for (-b .. -e) is the larger of the two buffers, as in nccl-tests. For
// all_gather it is the gathered output, for reduce_scatter the input, for all_to_all either
// buffer; each rank's share (the count printed) is size / element size / ranks, rounded down.
// all_to_all_v sends uneven shares (all_to_all_v_count below) out of buffers of the size; its
// count column is the mean share, size / element size / ranks. For the others the count is the
// whole buffer.
//
// Bandwidths: algbw = size / time; busbw = algbw x a factor that makes the figure comparable
// with the link's bandwidth whatever the algorithm (nccl-tests' PERFORMANCE.md): all_reduce
// 2(n-1)/n; all_gather, reduce_scatter, all_to_all, all_to_all_v (n-1)/n; broadcast, reduce and
// sendrecv 1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::bench {

enum class BenchOp : std::uint8_t {
  all_reduce,
  all_gather,
  reduce_scatter,
  broadcast,
  reduce,
  all_to_all,
  all_to_all_v,  // all_to_all with uneven counts per peer (all_to_all_v_counts)
  sendrecv,      // each rank sends to rank + 1 and receives from rank - 1 at once (a ring)
};

const char* bench_op_name(BenchOp op) noexcept;
std::optional<BenchOp> parse_bench_op(std::string_view name);
// "all_reduce, all_gather, ..." for messages.
std::string bench_op_list();

bool is_reduction(BenchOp op) noexcept;  // reduces with sum (the redop column)
bool has_root(BenchOp op) noexcept;      // broadcast, reduce (the root column)

struct OpShape {
  std::int64_t count = 0;       // the count column: see above
  std::int64_t send_count = 0;  // elements of each rank's input
  std::int64_t recv_count = 0;  // elements of each rank's output
  std::int64_t bytes = 0;       // the size column: the larger buffer
};

OpShape op_shape(BenchOp op, std::int64_t size_bytes, std::int64_t element_bytes, int nranks);

// busbw / algbw for `op` over `nranks` ranks.
double bus_factor(BenchOp op, int nranks);

// all_to_all_v's counts, deterministic and uneven like an expert dispatch's: of a buffer of
// `elements`, rank i sends rank j the share 1 + (j - i) mod n of n(n+1)/2 shares, rounded down
// (itself one share, the rank after it two, ...). Each rank sends every share size once and
// receives every one once, so every rank sends and receives the same total, at most `elements`;
// and i sends j another amount than j sends i (unless 2(j - i) = 0 mod n), so send and receive
// counts cannot be mixed up unseen. Rank `rank`'s counts to (sending) or from (receiving) each
// peer.
std::vector<std::int64_t> all_to_all_v_counts(int rank, int nranks, std::int64_t elements,
                                              bool sending);

}  // namespace trellis::bench
