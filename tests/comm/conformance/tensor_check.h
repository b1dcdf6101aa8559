// Making, filling and checking the tensors of the conformance suite (f32 and i32, contiguous).
//
// check() compares a tensor with what each element should be and describes what is wrong: how
// many elements, and the first wrong one with both values. i32 must match exactly; f32 within a
// relative 2e-6, which only avg's rounding ever needs (values.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "trellis/tensor.h"

namespace trellis::conformance {

// A new contiguous 1-D tensor of `count` elements, every element `value`.
Tensor filled_tensor(const std::shared_ptr<Allocator>& allocator, DType dtype, std::int64_t count,
                     double value);

// Element `index` of a contiguous f32 or i32 tensor, as a double.
double element(const Tensor& tensor, std::int64_t index);

// Whether `got` is an acceptable result for `expected` in `dtype`.
bool matches(DType dtype, double got, double expected);

// "3 of 262147 elements wrong; first at 131072: got 5, expected 7"
std::string describe_mismatch(const Tensor& tensor, std::int64_t wrong, std::int64_t first,
                              double expected_first);

// Sets element i to value(i) for every i.
template <class Value>
void fill(const Tensor& tensor, Value value) {
  const std::int64_t n = tensor.numel();
  if (tensor.dtype() == DType::i32) {
    auto* data = tensor.data<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) data[i] = static_cast<std::int32_t>(value(i));
  } else {
    auto* data = tensor.data<float>();
    for (std::int64_t i = 0; i < n; ++i) data[i] = static_cast<float>(value(i));
  }
}

// "" when element i is expected(i) for every i, else what is wrong.
template <class Expected>
std::string check(const Tensor& tensor, Expected expected) {
  const std::int64_t n = tensor.numel();
  std::int64_t wrong = 0;
  std::int64_t first = -1;
  double first_expected = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double want = expected(i);
    if (!matches(tensor.dtype(), element(tensor, i), want)) {
      if (wrong++ == 0) {
        first = i;
        first_expected = want;
      }
    }
  }
  return wrong == 0 ? std::string() : describe_mismatch(tensor, wrong, first, first_expected);
}

}  // namespace trellis::conformance
