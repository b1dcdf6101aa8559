#include "bench_data.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace trellis::bench {

namespace {

constexpr double kUnwritten = -1000;

// Element i of what `rank` contributes.
double value(int rank, std::int64_t i) {
  return static_cast<double>((i + 3 * std::int64_t{rank}) % 29) - 14;
}

// Element i of the chunk rank `from` sends rank `to` (all_to_all, all_to_all_v).
double chunk_value(int from, int to, std::int64_t i) {
  return static_cast<double>((i + 5 * std::int64_t{from} + 11 * std::int64_t{to}) % 31) - 15;
}

double sum(int nranks, std::int64_t i) {
  double total = 0;
  for (int r = 0; r < nranks; ++r) total += value(r, i);
  return total;
}

// Where element i of a buffer of one block per peer (`counts` elements each, in rank order) is:
// the peer and the index in its block; peer -1 past the last block.
class Blocks {
 public:
  explicit Blocks(const std::vector<std::int64_t>& counts) : offsets_(counts.size() + 1, 0) {
    for (std::size_t peer = 0; peer < counts.size(); ++peer) {
      offsets_[peer + 1] = offsets_[peer] + counts[peer];
    }
  }
  // Empty blocks start where the next one does: the last block starting at or before i holds it.
  std::pair<int, std::int64_t> at(std::int64_t i) const {
    if (i >= offsets_.back()) return {-1, 0};
    const auto peer =
        static_cast<int>(std::upper_bound(offsets_.begin(), offsets_.end(), i) - offsets_.begin()) -
        1;
    return {peer, i - offsets_[static_cast<std::size_t>(peer)]};
  }

 private:
  std::vector<std::int64_t> offsets_;
};

template <class T, class Value>
void fill_as(const Tensor& tensor, Value v) {
  T* data = static_cast<T*>(tensor.data_ptr());
  for (std::int64_t i = 0, n = tensor.numel(); i < n; ++i) data[i] = static_cast<T>(v(i));
}

template <class Value>
void fill(const Tensor& tensor, Value v) {
  if (tensor.dtype() == DType::i32) {
    fill_as<std::int32_t>(tensor, v);
  } else {
    fill_as<float>(tensor, v);
  }
}

template <class T, class Expected>
std::int64_t wrong_as(const Tensor& tensor, Expected expected) {
  const T* data = static_cast<const T*>(tensor.data_ptr());
  std::int64_t wrong = 0;
  for (std::int64_t i = 0, n = tensor.numel(); i < n; ++i) {
    wrong += static_cast<double>(data[i]) != expected(i);
  }
  return wrong;
}

template <class Expected>
std::int64_t wrong(const Tensor& tensor, Expected expected) {
  return tensor.dtype() == DType::i32 ? wrong_as<std::int32_t>(tensor, expected)
                                      : wrong_as<float>(tensor, expected);
}

}  // namespace

void fill_call(const BenchCall& call, int rank, int nranks) {
  // The output first: in place, the input is inside it (all_gather) or it is inside the input.
  if (call.output.defined()) fill(call.output, [](std::int64_t) { return kUnwritten; });
  if (call.op == BenchOp::all_to_all) {
    const std::int64_t chunk = call.input.numel() / nranks;
    fill(call.input,
         [&](std::int64_t i) { return chunk_value(rank, static_cast<int>(i / chunk), i % chunk); });
    return;
  }
  if (call.op == BenchOp::all_to_all_v) {
    const Blocks blocks(call.send_counts);
    fill(call.input, [&](std::int64_t i) {
      const auto [to, index] = blocks.at(i);
      return to < 0 ? kUnwritten : chunk_value(rank, to, index);
    });
    return;
  }
  fill(call.input, [&](std::int64_t i) { return value(rank, i); });
}

std::int64_t count_wrong(const BenchCall& call, const Tensor& result, int rank, int nranks) {
  switch (call.op) {
    case BenchOp::all_reduce:
      return wrong(result, [&](std::int64_t i) { return sum(nranks, i); });
    case BenchOp::all_gather: {
      const std::int64_t chunk = call.input.numel();
      return wrong(result,
                   [&](std::int64_t i) { return value(static_cast<int>(i / chunk), i % chunk); });
    }
    case BenchOp::reduce_scatter: {
      const std::int64_t offset = rank * result.numel();
      return wrong(result, [&](std::int64_t i) { return sum(nranks, offset + i); });
    }
    case BenchOp::broadcast:
      return wrong(result, [&](std::int64_t i) { return value(call.root, i); });
    case BenchOp::reduce:
      if (rank != call.root) return 0;
      return wrong(result, [&](std::int64_t i) { return sum(nranks, i); });
    case BenchOp::all_to_all: {
      const std::int64_t chunk = result.numel() / nranks;
      return wrong(result, [&](std::int64_t i) {
        return chunk_value(static_cast<int>(i / chunk), rank, i % chunk);
      });
    }
    case BenchOp::all_to_all_v: {
      const Blocks blocks(call.recv_counts);
      return wrong(result, [&](std::int64_t i) {  // past the blocks: never written
        const auto [from, index] = blocks.at(i);
        return from < 0 ? kUnwritten : chunk_value(from, rank, index);
      });
    }
    case BenchOp::sendrecv: {
      const int left = (rank + nranks - 1) % nranks;
      return wrong(result, [&](std::int64_t i) { return value(left, i); });
    }
  }
  return 0;
}

}  // namespace trellis::bench
