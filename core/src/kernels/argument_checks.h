// The checks every Kernels implementation makes of its arguments. A failure is a programming error
// in a layer, reported as an Error naming the kernel, the argument and what was expected:
// "kernel layernorm_forward: x has 12 elements, expected 16 (f32[3, 4] on cpu)".
#pragma once

#include <cstdint>
#include <string>

#include "trellis/tensor.h"

namespace trellis {

// A base of CpuKernels and CudaKernels: the checks against their device.
class ArgumentChecks {
 public:
  explicit ArgumentChecks(Device device) : device_(device) {}

  [[noreturn]] static void fail(const char* kernel, const std::string& what);
  // `t` is defined and on the kernels' device.
  void on_device(const char* kernel, const char* name, const Tensor& t) const;
  // A contiguous f32 tensor on the kernels' device with `numel` elements (any number for -1).
  float* f32(const char* kernel, const char* name, const Tensor& t, std::int64_t numel) const;
  // f32(), or null for an undefined tensor.
  float* f32_optional(const char* kernel, const char* name, const Tensor& t,
                      std::int64_t numel) const;
  // A contiguous i32 tensor on the kernels' device with `numel` elements.
  const std::int32_t* i32(const char* kernel, const char* name, const Tensor& t,
                          std::int64_t numel) const;
  // A position table [>= T, C] (f32_optional: null when undefined).
  float* positions(const char* kernel, const char* name, const Tensor& t, int T, int C) const;
  // Size `d` of `t`, which must have rank `rank`.
  static int dim(const char* kernel, const Tensor& t, int rank, int d);
  static void check_heads(const char* kernel, int channels, int heads);

 private:
  Device device_;
};

}  // namespace trellis
