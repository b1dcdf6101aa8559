// kernels/host_transfer: host code's only way to values of tensors that may be device memory.
#include <doctest/doctest.h>

#include <vector>

#include "fenced_device.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/host_transfer.h"
#include "trellis/error.h"

using namespace trellis;

TEST_CASE("values go to a tensor and back, on host memory and on the fenced device") {
  auto cpu = make_cpu_kernels(1);
  // Made inside the case: doctest replaces the fence's signal handler between cases.
  FencedDevice fenced = make_fenced_device(cpu, 1 << 20);
  struct Target {
    std::shared_ptr<Allocator> allocator;
    Kernels* kernels;
  };
  for (const Target& target :
       {Target{make_cpu_allocator(), cpu.get()}, Target{fenced.allocator, fenced.kernels.get()}}) {
    Kernels& k = *target.kernels;
    const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1.0f};
    Tensor t = Tensor::empty({2, 3}, DType::f32, target.allocator);
    copy_from_host(k, values, t);
    CHECK(f32_to_host(k, t) == values);
    std::vector<float> back(6);
    copy_to_host(k, t, back);
    CHECK(back == values);
    CHECK(k.sum_squares(t) == doctest::Approx(1.5 * 1.5 + 4 + 3.25 * 3.25 + 49 + 1));

    const std::vector<std::int32_t> tokens = {3, 1, 4, 1, 5, 9};
    Tensor ids = Tensor::empty({6}, DType::i32, target.allocator);
    copy_from_host(k, tokens, ids);
    Tensor scalar = Tensor::empty({1}, DType::f32, target.allocator);
    write_scalar(k, scalar, 0.125f);
    CHECK(read_scalar(k, scalar) == 0.125f);
    // A row of the matrix is a contiguous view: its values alone.
    CHECK(f32_to_host(k, t.narrow(0, 1, 1)) == std::vector<float>{0.0f, 7.0f, -1.0f});
  }
}

TEST_CASE("a host span that does not fit the tensor is an error naming both") {
  auto k = make_cpu_kernels(1);
  auto a = make_cpu_allocator();
  Tensor t = Tensor::empty({2, 3}, DType::f32, a);
  const std::vector<float> five(5, 1.0f);
  CHECK_THROWS_WITH_AS(copy_from_host(*k, five, t),
                       doctest::Contains("5 host f32 values do not fit f32[2, 3]"), Error);
  const std::vector<std::int32_t> six(6, 1);
  CHECK_THROWS_WITH_AS(copy_from_host(*k, six, t), doctest::Contains("6 host i32 values"), Error);
  // A column is not contiguous: Kernels::copy could not move it in one piece.
  std::vector<float> two(2);
  CHECK_THROWS_WITH_AS(copy_to_host(*k, t.narrow(1, 0, 1), two),
                       doctest::Contains("needs a contiguous tensor"), Error);
}
