// max and min with NaN (trellis/reduce.h): if any rank's element is NaN, the result is NaN; the
// other elements are the plain max and min. Every backend must agree, whichever algorithm it
// picks: the counts cover a backend's own small-message algorithm and the large one (over 1 MiB
// of f32, where mpi hands the operation to MPI and ucx runs its ring), and all_reduce,
// reduce_scatter and reduce all reduce.
#include <cmath>
#include <limits>
#include <string>

#include "suite.h"
#include "trellis/error.h"

namespace trellis::conformance {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// What `rank` of `size` holds at element i: NaN on the first rank, on the last, on one that
// moves with i, on every rank, or on none; infinities among the numbers.
float nan_contribution(int rank, int size, std::int64_t i) {
  const float number = static_cast<float>((rank * 7 + i * 3) % 23) - 11.0f;
  switch (i % 6) {
    case 0:
      return rank == 0 ? kNaN : number;
    case 1:
      return rank == size - 1 ? kNaN : number;
    case 2:
      return rank == static_cast<int>((i / 6) % size) ? kNaN : number;
    case 3:
      return kNaN;
    case 4:
      return rank == size / 2 ? -std::numeric_limits<float>::infinity() : number;
    default:
      return number;
  }
}

float nan_expected(ReduceOp op, int size, std::int64_t i) {
  float result = nan_contribution(0, size, i);
  for (int r = 1; r < size; ++r) {
    const float x = nan_contribution(r, size, i);
    if (std::isnan(result) || std::isnan(x)) {
      result = kNaN;
    } else {
      result = op == ReduceOp::max ? std::fmax(result, x) : std::fmin(result, x);
    }
  }
  return result;
}

Tensor nan_input(Suite& suite, int rank, int size, std::int64_t n) {
  Tensor tensor = Tensor::empty(Shape{n}, DType::f32, suite.allocator);
  for (std::int64_t i = 0; i < n; ++i) tensor.data<float>()[i] = nan_contribution(rank, size, i);
  return tensor;
}

// "" when element i of `got` is expected(first + i) (NaN where NaN is expected).
std::string nan_mismatch(const Tensor& got, ReduceOp op, int size, std::int64_t first) {
  std::int64_t wrong = 0, where = -1;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const float want = nan_expected(op, size, first + i);
    const float have = got.data<float>()[i];
    const bool same = std::isnan(want) ? std::isnan(have) : have == want;
    if (!same && wrong++ == 0) where = i;
  }
  if (wrong == 0) return std::string();
  return std::to_string(wrong) + " of " + std::to_string(got.numel()) +
         " elements wrong; first at " + std::to_string(where) + ": got " +
         std::to_string(got.data<float>()[where]) + ", expected " +
         std::to_string(nan_expected(op, size, first + where));
}

std::string with_op(const char* operation, ReduceOp op) {
  return std::string(operation) + "(" + reduce_op_name(op) + ") with NaN";
}

}  // namespace

void check_nan_reductions(Suite& suite, Communicator& comm) {
  const int rank = comm.rank(), size = comm.size();
  const std::string group = group_label(comm);
  for (ReduceOp op : {ReduceOp::max, ReduceOp::min}) {
    for (std::int64_t n : {std::int64_t{13}, std::int64_t{300007}}) {
      for (Placement placement : {Placement::out_of_place, Placement::in_place}) {
        suite.report.run({with_op("all_reduce", op), DType::f32, n, placement, group}, [&] {
          const Tensor input = nan_input(suite, rank, size, n);
          const Tensor output = placement == Placement::in_place
                                    ? input
                                    : Tensor::empty(Shape{n}, DType::f32, suite.allocator);
          comm.all_reduce(input, output, op)->wait();
          return nan_mismatch(output, op, size, 0);
        });
      }
      suite.report.run(
          {with_op("reduce_scatter", op), DType::f32, n, Placement::out_of_place, group}, [&] {
            const Tensor input = nan_input(suite, rank, size, size * n);
            const Tensor output = Tensor::empty(Shape{n}, DType::f32, suite.allocator);
            comm.reduce_scatter(input, output, op)->wait();
            return nan_mismatch(output, op, size, rank * n);
          });
      suite.report.run(
          {with_op("reduce", op) + " to root 0", DType::f32, n, Placement::out_of_place, group},
          [&] {
            const Tensor input = nan_input(suite, rank, size, n);
            const Tensor output = Tensor::empty(Shape{n}, DType::f32, suite.allocator);
            comm.reduce(input, output, op, 0)->wait();
            return rank == 0 ? nan_mismatch(output, op, size, 0) : std::string();
          });
    }
  }
}

}  // namespace trellis::conformance
