// Golden files: named tensors computed once by PyTorch (tests/golden/make_golden.py) and committed,
// so tests can hold Trellis to PyTorch's numbers without PyTorch being installed.
//
// The format, all little-endian: 8-byte magic "TRGOLDEN", uint32 version (1), uint32 count; then
// per tensor: uint32 name length, the name (UTF-8), uint32 dtype (0 = f32, 1 = i32, 2 = f64),
// uint32 rank, int64 dims[rank], and the elements row-major. A rank-0 tensor is a scalar.
//
// GoldenFile::load reads a whole file and checks it; every error (missing file, bad magic, a
// truncated tensor, an unknown name) is a trellis::InputError whose message names the file.
// TRELLIS_GOLDEN_DIR, defined for every target that links trellis_golden, is the folder holding
// the committed files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trellis/tensor.h"

namespace trellis::golden {

enum class GoldenType : std::uint32_t { f32 = 0, i32 = 1, f64 = 2 };

const char* golden_type_name(GoldenType type) noexcept;

// One named tensor of a golden file, its elements kept as stored.
class GoldenTensor {
 public:
  GoldenTensor(std::string name, GoldenType type, std::vector<std::int64_t> shape,
               std::vector<unsigned char> bytes);

  const std::string& name() const noexcept { return name_; }
  GoldenType type() const noexcept { return type_; }
  const std::vector<std::int64_t>& shape() const noexcept { return shape_; }
  int rank() const noexcept { return static_cast<int>(shape_.size()); }
  std::int64_t numel() const noexcept;
  std::string shape_str() const;  // "[37, 24]"

  // The elements converted to the asked type: f32 and f64 convert into each other (f64 rounds to
  // the nearest float); i32 converts to either. Asking for i32 from a floating tensor throws.
  std::vector<float> f32() const;
  std::vector<double> f64() const;
  std::vector<std::int32_t> i32() const;

  // A new f32 tensor (from f32 or f64 data) or i32 tensor (from i32 data) of the same shape.
  Tensor to_tensor(const std::shared_ptr<Allocator>& allocator) const;

 private:
  std::string name_;
  GoldenType type_;
  std::vector<std::int64_t> shape_;
  std::vector<unsigned char> bytes_;
};

class GoldenFile {
 public:
  static GoldenFile load(const std::string& path);

  const std::string& path() const noexcept { return path_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  // Throws InputError naming the file and the missing tensor.
  const GoldenTensor& tensor(const std::string& name) const;
  // The single element of a tensor with one element (any type), as a double.
  double scalar(const std::string& name) const;
  // Every name, in the order they are stored.
  const std::vector<std::string>& names() const noexcept { return order_; }

 private:
  std::string path_;
  std::map<std::string, GoldenTensor> tensors_;
  std::vector<std::string> order_;
};

// TRELLIS_GOLDEN_DIR + "/" + file.
std::string golden_path(const std::string& file);

}  // namespace trellis::golden
