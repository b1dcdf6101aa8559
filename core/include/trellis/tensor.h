// Tensors: typed, shaped views of device memory.
//
// A Tensor is a cheap, copyable handle. Copies share storage (reference counted): the memory is
// returned to its allocator when the last handle goes. Tensors are row-major; narrow() makes views
// of a sub-range of one dimension without copying (the shard of a weight, a microbatch's rows),
// which may be non-contiguous when the dimension is not the first. Kernels and communicators state
// whether they need contiguous input.
//
// Every allocation goes through an Allocator bound to one device, which counts the bytes currently
// held and the peak; the trainer reports the peak in its metrics. Allocators are objects passed to
// whoever allocates: there is no global allocator.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

namespace trellis {

// Element types. bf16 is used on CUDA devices; tokens are i32.
enum class DType : std::uint8_t { f32, bf16, i32 };

std::size_t dtype_size(DType dtype) noexcept;
const char* dtype_name(DType dtype) noexcept;

// bfloat16 storage type (the upper half of an IEEE float).
struct bf16 {
  std::uint16_t bits = 0;
};

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<bf16>() {
  return DType::bf16;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::i32;
}

enum class DeviceKind : std::uint8_t { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static constexpr Device cpu() { return {DeviceKind::cpu, 0}; }
  static constexpr Device cuda(int index) { return {DeviceKind::cuda, index}; }
  std::string str() const;  // "cpu", "cuda:1"
  friend bool operator==(const Device&, const Device&) = default;
};

// Dimensions of a tensor, up to kMaxRank of them, stored inline (no heap allocation).
class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);

  int rank() const noexcept { return rank_; }
  std::int64_t operator[](int dim) const { return dims_[check(dim)]; }
  std::int64_t& operator[](int dim) { return dims_[check(dim)]; }
  std::int64_t numel() const noexcept;  // product of the dimensions; 1 for rank 0
  const std::int64_t* begin() const noexcept { return dims_.data(); }
  const std::int64_t* end() const noexcept { return dims_.data() + rank_; }
  std::string str() const;  // "[4, 128]"

  friend bool operator==(const Shape& a, const Shape& b) noexcept;

 private:
  int check(int dim) const;
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// Device memory with byte accounting. Subclasses provide raw_allocate/raw_deallocate for their
// device; the counting is done here, so every allocator reports the same way. Thread-safe.
class Allocator {
 public:
  explicit Allocator(Device device) : device_(device) {}
  virtual ~Allocator() = default;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  Device device() const noexcept { return device_; }
  // Returns memory aligned to at least 64 bytes; throws trellis::Error when out of memory, and
  // MemoryLimitError when the live bytes would pass the limit.
  void* allocate(std::size_t bytes);
  void deallocate(void* ptr, std::size_t bytes) noexcept;

  // Bytes held by live tensors now, and the most ever held since the last reset_peak().
  std::size_t current_bytes() const noexcept { return current_.load(); }
  std::size_t peak_bytes() const noexcept { return peak_.load(); }
  void reset_peak() noexcept { peak_.store(current_.load()); }
  // The most bytes live tensors may hold (0: no limit), to run as if on a smaller device: an
  // allocation past it throws MemoryLimitError instead of taking memory. Tensor::empty names
  // the tensor in the message.
  void set_limit(std::size_t bytes) noexcept { limit_.store(bytes); }
  std::size_t limit() const noexcept { return limit_.load(); }
  // Bytes taken from the device, including blocks freed by tensors but kept for reuse.
  virtual std::size_t reserved_bytes() const noexcept { return current_bytes(); }
  // How many times memory was taken from the device (not served from the cache). Once every
  // shape of a training step has been seen, this stops growing.
  virtual std::uint64_t device_allocations() const noexcept { return 0; }

 protected:
  virtual void* raw_allocate(std::size_t bytes) = 0;
  virtual void raw_deallocate(void* ptr, std::size_t bytes) noexcept = 0;

 private:
  Device device_;
  std::atomic<std::size_t> current_{0};
  std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> limit_{0};
};

// Host memory, 64-byte aligned. Freed blocks are cached by size and reused, so a training step
// that allocates the same shapes as the one before takes nothing new from the system.
std::shared_ptr<Allocator> make_cpu_allocator();

class Storage;  // a block of memory owned by an allocator (or borrowed), defined in core

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: defined() is false

  // New uninitialised memory from `allocator`.
  static Tensor empty(const Shape& shape, DType dtype, const std::shared_ptr<Allocator>& allocator);
  // A view of memory the caller owns and keeps alive longer than every handle to it.
  static Tensor borrow(void* data, const Shape& shape, DType dtype, Device device = Device::cpu());

  bool defined() const noexcept { return storage_ != nullptr; }
  const Shape& shape() const noexcept { return shape_; }
  const Shape& strides() const noexcept { return strides_; }  // in elements
  int rank() const noexcept { return shape_.rank(); }
  std::int64_t size(int dim) const { return shape_[dim]; }
  std::int64_t numel() const noexcept { return shape_.numel(); }
  std::size_t nbytes() const noexcept {
    return static_cast<std::size_t>(numel()) * dtype_size(dtype_);
  }
  DType dtype() const noexcept { return dtype_; }
  Device device() const noexcept;
  bool is_contiguous() const noexcept;

  // Address of the first element of this view. Tensors are handles: a const Tensor's data can be
  // written; constness belongs to the handle, as in PyTorch.
  void* data_ptr() const noexcept;
  template <class T>
  T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(data_ptr());
  }

  // Elements [start, start + length) of dimension `dim`; shares storage.
  Tensor narrow(int dim, std::int64_t start, std::int64_t length) const;
  // The same elements under another shape with the same element count; needs a contiguous tensor.
  Tensor view(const Shape& shape) const;
  // True when both handles point into the same storage (used to detect in-place operations).
  bool shares_storage_with(const Tensor& other) const noexcept {
    return storage_ == other.storage_;
  }

  std::string str() const;  // "f32[4, 128] on cpu"

 private:
  void check_dtype(DType wanted) const;

  std::shared_ptr<Storage> storage_;
  std::size_t offset_ = 0;  // in elements, from the start of the storage
  Shape shape_;
  Shape strides_;
  DType dtype_ = DType::f32;
};

}  // namespace trellis
