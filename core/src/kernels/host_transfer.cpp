#include "kernels/host_transfer.h"

#include <string>

#include "trellis/error.h"

namespace trellis {

namespace {

void check_match(const char* what, std::size_t host_elements, DType host_dtype,
                 const Tensor& tensor) {
  if (!tensor.is_contiguous() || tensor.dtype() != host_dtype ||
      static_cast<std::size_t>(tensor.numel()) != host_elements) {
    throw Error(std::string(what) + ": " + std::to_string(host_elements) + " host " +
                dtype_name(host_dtype) + " values do not fit " + tensor.str() +
                " (needs a contiguous tensor of that dtype and size)");
  }
}

template <class T>
void copy_in(Kernels& kernels, std::span<const T> host, const Tensor& dst) {
  check_match("copy_from_host", host.size(), dtype_of<T>(), dst);
  if (host.empty()) return;
  // Kernels::copy reads `src` only; borrow wants a mutable pointer for tensors that may be
  // written, which this one is not.
  Tensor src = Tensor::borrow(const_cast<T*>(host.data()), dst.shape(), dtype_of<T>());
  kernels.copy(src, dst);
}

}  // namespace

void copy_from_host(Kernels& kernels, std::span<const float> host, const Tensor& dst) {
  copy_in(kernels, host, dst);
}

void copy_from_host(Kernels& kernels, std::span<const std::int32_t> host, const Tensor& dst) {
  copy_in(kernels, host, dst);
}

void copy_to_host(Kernels& kernels, const Tensor& src, std::span<float> host) {
  check_match("copy_to_host", host.size(), DType::f32, src);
  if (host.empty()) return;
  kernels.copy(src, Tensor::borrow(host.data(), src.shape(), DType::f32));
}

std::vector<float> f32_to_host(Kernels& kernels, const Tensor& src) {
  std::vector<float> out(static_cast<std::size_t>(src.numel()));
  copy_to_host(kernels, src, out);
  return out;
}

float read_scalar(Kernels& kernels, const Tensor& src) {
  float value = 0.0f;
  copy_to_host(kernels, src, std::span<float>(&value, 1));
  return value;
}

void write_scalar(Kernels& kernels, const Tensor& dst, float value) {
  copy_from_host(kernels, std::span<const float>(&value, 1), dst);
}

}  // namespace trellis
