#include "kernels/argument_checks.h"

#include "trellis/error.h"

namespace trellis {

void ArgumentChecks::fail(const char* kernel, const std::string& what) {
  throw Error(std::string("kernel ") + kernel + ": " + what);
}

void ArgumentChecks::on_device(const char* kernel, const char* name, const Tensor& t) const {
  if (!t.defined()) fail(kernel, std::string(name) + " is undefined");
  if (t.device() != device_) {
    fail(kernel, std::string(name) + " is on " + t.device().str() + ", not on the kernels' " +
                     device_.str());
  }
}

float* ArgumentChecks::f32(const char* kernel, const char* name, const Tensor& t,
                           std::int64_t numel) const {
  on_device(kernel, name, t);
  if (t.dtype() != DType::f32) fail(kernel, std::string(name) + " must be f32, got " + t.str());
  if (!t.is_contiguous()) fail(kernel, std::string(name) + " must be contiguous: " + t.str());
  if (numel >= 0 && t.numel() != numel) {
    fail(kernel, std::string(name) + " has " + std::to_string(t.numel()) + " elements, expected " +
                     std::to_string(numel) + " (" + t.str() + ")");
  }
  return t.data<float>();
}

float* ArgumentChecks::f32_optional(const char* kernel, const char* name, const Tensor& t,
                                    std::int64_t numel) const {
  return t.defined() ? f32(kernel, name, t, numel) : nullptr;
}

const std::int32_t* ArgumentChecks::i32(const char* kernel, const char* name, const Tensor& t,
                                        std::int64_t numel) const {
  on_device(kernel, name, t);
  if (t.dtype() != DType::i32 || !t.is_contiguous() || t.numel() != numel) {
    fail(kernel, std::string(name) + " must be contiguous i32 with " + std::to_string(numel) +
                     " elements, got " + t.str());
  }
  return t.data<std::int32_t>();
}

float* ArgumentChecks::positions(const char* kernel, const char* name, const Tensor& t, int T,
                                 int C) const {
  float* data = f32_optional(kernel, name, t, -1);
  if (data && (t.rank() != 2 || t.size(0) < T || t.size(1) != C)) {
    fail(kernel, std::string(name) + " " + t.str() + " does not cover " + std::to_string(T) +
                     " positions of " + std::to_string(C) + " channels");
  }
  return data;
}

int ArgumentChecks::dim(const char* kernel, const Tensor& t, int rank, int d) {
  if (t.rank() != rank) {
    fail(kernel, "expected a rank-" + std::to_string(rank) + " tensor, got " + t.str());
  }
  return static_cast<int>(t.size(d));
}

void ArgumentChecks::check_heads(const char* kernel, int channels, int heads) {
  if (heads <= 0 || channels % heads != 0) {
    fail(kernel, std::to_string(channels) + " channels do not split into " + std::to_string(heads) +
                     " heads");
  }
}

}  // namespace trellis
