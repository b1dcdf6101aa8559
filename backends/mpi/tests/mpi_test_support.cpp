#include "mpi_test_support.h"

#include <memory>

namespace trellis::mpi_test {

namespace {

const std::shared_ptr<Allocator>& allocator() {
  static const std::shared_ptr<Allocator> cpu = make_cpu_allocator();
  return cpu;
}

}  // namespace

Tensor tensor(DType dtype, std::int64_t n, double fill) {
  Tensor t = Tensor::empty(Shape{n}, dtype, allocator());
  for (std::int64_t i = 0; i < n; ++i) set(t, i, fill);
  return t;
}

double get(const Tensor& t, std::int64_t i) {
  if (t.dtype() == DType::i32) return t.data<std::int32_t>()[i];
  return t.data<float>()[i];
}

void set(const Tensor& t, std::int64_t i, double value) {
  if (t.dtype() == DType::i32) {
    t.data<std::int32_t>()[i] = static_cast<std::int32_t>(value);
  } else {
    t.data<float>()[i] = static_cast<float>(value);
  }
}

Tensor tensor_of(DType dtype, std::int64_t n, const std::function<double(std::int64_t)>& value) {
  Tensor t = Tensor::empty(Shape{n}, dtype, allocator());
  for (std::int64_t i = 0; i < n; ++i) set(t, i, value(i));
  return t;
}

double contribution(int rank, std::int64_t i) {
  return (rank + 1) + static_cast<double>(i % 13) * 4;
}

std::string mismatches(const Tensor& t, const std::function<double(std::int64_t)>& expected) {
  std::int64_t count = 0;
  std::string first;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    // Compared as the tensor's own type: an f32 result is the float nearest the exact value.
    const double want = t.dtype() == DType::f32 ? static_cast<float>(expected(i))
                                                : static_cast<double>(expected(i));
    if (get(t, i) != want) {
      if (count++ == 0) {
        first = "element " + std::to_string(i) + " is " + std::to_string(get(t, i)) +
                ", expected " + std::to_string(want);
      }
    }
  }
  if (count == 0) return "";
  return std::to_string(count) + " of " + std::to_string(t.numel()) + " elements wrong; " + first;
}

}  // namespace trellis::mpi_test
