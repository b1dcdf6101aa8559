#include "tensor_check.h"

#include <cstdio>

namespace trellis::conformance {

Tensor filled_tensor(const std::shared_ptr<Allocator>& allocator, DType dtype, std::int64_t count,
                     double value) {
  Tensor tensor = Tensor::empty(Shape{count}, dtype, allocator);
  fill(tensor, [value](std::int64_t) { return value; });
  return tensor;
}

double element(const Tensor& tensor, std::int64_t index) {
  if (tensor.dtype() == DType::i32) return tensor.data<std::int32_t>()[index];
  return tensor.data<float>()[index];
}

bool matches(DType dtype, double got, double expected) {
  if (dtype == DType::i32) return got == expected;
  // NaN compares false, so it is always wrong.
  return std::fabs(got - expected) <= 2e-6 * std::fmax(1.0, std::fabs(expected));
}

namespace {

std::string format_value(DType dtype, double value) {
  char text[40];
  if (dtype == DType::i32) {
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(value));
  } else {
    std::snprintf(text, sizeof text, "%.9g", value);
  }
  return text;
}

}  // namespace

std::string describe_mismatch(const Tensor& tensor, std::int64_t wrong, std::int64_t first,
                              double expected_first) {
  return std::to_string(wrong) + " of " + std::to_string(tensor.numel()) +
         " elements wrong; first at " + std::to_string(first) + ": got " +
         format_value(tensor.dtype(), element(tensor, first)) + ", expected " +
         format_value(tensor.dtype(), expected_first);
}

}  // namespace trellis::conformance
