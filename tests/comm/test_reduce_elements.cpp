// trellis/reduce.h: the element-wise reduction every CPU backend combines with. Its NaN and
// signed-zero rules, that the order of the operands never changes the bits, and that sum is
// plain IEEE addition (the numbers training sees).
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "trellis/reduce.h"

using namespace trellis;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> combined(ReduceOp op, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> out(a.size());
  reduce_elements(op, DType::f32, out.data(), a.data(), b.data(),
                  static_cast<std::int64_t>(a.size()));
  return out;
}

std::uint32_t bits(float x) {
  return std::bit_cast<std::uint32_t>(x);
}

// Operands that meet NaN on either side, infinities, signed zeros and ordinary values; long
// enough that the vectorised loop and its remainder both run.
const std::vector<float> kLeft = {kNaN, 1.0f, kNaN,  -0.0f, 0.0f, -kInf,  2.5f,  3.0f, -1.0f,
                                  kNaN, 7.0f, -7.0f, 0.0f,  kInf, 1e-38f, -2.0f, 5.0f};
const std::vector<float> kRight = {1.0f,  kNaN, kNaN,  0.0f, -0.0f, kNaN,   2.5f,  -3.0f, -1.5f,
                                   -kInf, 6.0f, -8.0f, 0.0f, 1.0f,  2e-38f, -kNaN, 5.0f};

}  // namespace

TEST_CASE("max and min propagate NaN from either operand") {
  for (ReduceOp op : {ReduceOp::max, ReduceOp::min}) {
    CAPTURE(reduce_op_name(op));
    const std::vector<float> out = combined(op, kLeft, kRight);
    for (std::size_t i = 0; i < kLeft.size(); ++i) {
      CAPTURE(i);
      const bool nan_in = std::isnan(kLeft[i]) || std::isnan(kRight[i]);
      CHECK(std::isnan(out[i]) == nan_in);
    }
  }
}

TEST_CASE("max and min of numbers, infinities and signed zeros") {
  const std::vector<float> max = combined(ReduceOp::max, kLeft, kRight);
  const std::vector<float> min = combined(ReduceOp::min, kLeft, kRight);
  CHECK(max[6] == 2.5f);
  CHECK(max[7] == 3.0f);
  CHECK(min[7] == -3.0f);
  CHECK(max[8] == -1.0f);
  CHECK(min[8] == -1.5f);
  CHECK(max[13] == kInf);
  CHECK(min[13] == 1.0f);
  CHECK(max[14] == 2e-38f);
  CHECK(min[14] == 1e-38f);
  // Of +0 and -0, max is +0 and min is -0, in either order.
  CHECK(bits(max[3]) == bits(0.0f));
  CHECK(bits(max[4]) == bits(0.0f));
  CHECK(bits(min[3]) == bits(-0.0f));
  CHECK(bits(min[4]) == bits(-0.0f));
}

TEST_CASE("every op gives the same bits with the operands swapped") {
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min}) {
    CAPTURE(reduce_op_name(op));
    const std::vector<float> ab = combined(op, kLeft, kRight);
    const std::vector<float> ba = combined(op, kRight, kLeft);
    for (std::size_t i = 0; i < ab.size(); ++i) {
      CAPTURE(i);
      CHECK(bits(ab[i]) == bits(ba[i]));
    }
  }
}

TEST_CASE("sum is IEEE addition, and may be computed in place") {
  std::vector<float> a = {0.1f, 1e8f, -3.5f, 1.0f / 3.0f};
  const std::vector<float> b = {0.2f, 1.0f, 3.5f, 2.0f / 3.0f};
  std::vector<float> expected(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) expected[i] = a[i] + b[i];
  reduce_elements(ReduceOp::sum, DType::f32, a.data(), a.data(), b.data(), 4);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(bits(a[i]) == bits(expected[i]));
}

TEST_CASE("i32: sum wraps, max and min compare") {
  const std::vector<std::int32_t> a = {std::numeric_limits<std::int32_t>::max(), -4, 9};
  const std::vector<std::int32_t> b = {1, 3, -9};
  std::vector<std::int32_t> out(3);
  reduce_elements(ReduceOp::sum, DType::i32, out.data(), a.data(), b.data(), 3);
  CHECK(out == std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), -1, 0});
  reduce_elements(ReduceOp::max, DType::i32, out.data(), a.data(), b.data(), 3);
  CHECK(out == std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::max(), 3, 9});
  reduce_elements(ReduceOp::min, DType::i32, out.data(), a.data(), b.data(), 3);
  CHECK(out == std::vector<std::int32_t>{1, -4, -9});
}

TEST_CASE("divide_elements is a division by the group size") {
  std::vector<float> data = {1.0f, 2.0f, 10.0f};
  divide_elements(data.data(), 3, 3);
  CHECK(bits(data[0]) == bits(1.0f / 3.0f));
  CHECK(bits(data[2]) == bits(10.0f / 3.0f));
}
