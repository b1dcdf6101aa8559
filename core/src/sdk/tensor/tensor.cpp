#include <string>

#include "tensor/storage.h"
#include "trellis/error.h"
#include "trellis/tensor.h"

namespace trellis {

std::size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::bf16:
      return 2;
    case DType::i32:
      return 4;
  }
  return 0;
}

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::bf16:
      return "bf16";
    case DType::i32:
      return "i32";
  }
  return "?";
}

std::string Device::str() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

namespace {

Shape contiguous_strides(const Shape& shape) {
  Shape strides = shape;
  std::int64_t stride = 1;
  for (int d = shape.rank() - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, const std::shared_ptr<Allocator>& allocator) {
  if (!allocator) throw Error("Tensor::empty needs an allocator");
  Tensor t;
  std::size_t bytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  try {
    t.storage_ = std::make_shared<Storage>(allocator, bytes);
  } catch (const MemoryLimitError& e) {
    throw MemoryLimitError("a " + shape.str() + " " + dtype_name(dtype) + " tensor: " + e.what());
  }
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::borrow(void* data, const Shape& shape, DType dtype, Device device) {
  Tensor t;
  std::size_t bytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  t.storage_ = std::make_shared<Storage>(data, bytes, device);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Device Tensor::device() const noexcept {
  return storage_ ? storage_->device() : Device::cpu();
}

bool Tensor::is_contiguous() const noexcept {
  std::int64_t expected = 1;
  for (int d = rank() - 1; d >= 0; --d) {
    if (shape_[d] != 1 && strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

void* Tensor::data_ptr() const noexcept {
  if (!storage_ || storage_->data() == nullptr) return nullptr;
  return static_cast<char*>(storage_->data()) + offset_ * dtype_size(dtype_);
}

Tensor Tensor::narrow(int dim, std::int64_t start, std::int64_t length) const {
  if (!defined()) throw Error("narrow() of an undefined tensor");
  if (dim < 0 || dim >= rank()) {
    throw Error("narrow(): dimension " + std::to_string(dim) + " is out of range for " + str());
  }
  if (start < 0 || length < 0 || start + length > shape_[dim]) {
    throw Error("narrow(): elements [" + std::to_string(start) + ", " +
                std::to_string(start + length) + ") of dimension " + std::to_string(dim) +
                " are out of range for " + str());
  }
  Tensor t = *this;
  t.offset_ = offset_ + static_cast<std::size_t>(start * strides_[dim]);
  t.shape_[dim] = length;
  return t;
}

Tensor Tensor::view(const Shape& shape) const {
  if (!defined()) throw Error("view() of an undefined tensor");
  if (shape.numel() != numel()) {
    throw Error("view(): cannot view " + str() + " as " + shape.str() + ": element counts differ");
  }
  if (!is_contiguous()) throw Error("view(): " + str() + " is not contiguous");
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  return t;
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype_)) + shape_.str() + " on " + device().str();
}

void Tensor::check_dtype(DType wanted) const {
  if (!defined()) throw Error("data() of an undefined tensor");
  if (wanted != dtype_) {
    throw Error(std::string("data<") + dtype_name(wanted) + ">() of a tensor holding " +
                dtype_name(dtype_) + " (" + str() + ")");
  }
}

}  // namespace trellis
