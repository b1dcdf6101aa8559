#include "golden_file.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "trellis/error.h"

static_assert(std::endian::native == std::endian::little, "golden files are read as little-endian");

namespace trellis::golden {

namespace {

constexpr char kMagic[8] = {'T', 'R', 'G', 'O', 'L', 'D', 'E', 'N'};
constexpr std::uint32_t kVersion = 1;

std::size_t element_size(GoldenType type) {
  return type == GoldenType::f64 ? 8 : 4;
}

// Reads fixed-size fields from the file's bytes, failing with the file's name and the offset.
class Cursor {
 public:
  Cursor(const std::string& path, const std::vector<unsigned char>& bytes)
      : path_(path), bytes_(bytes) {}

  void read(void* out, std::size_t n, const char* what) {
    if (n > bytes_.size() - offset_) {
      fail(std::string("truncated: needs ") + std::to_string(n) + " bytes for " + what +
           " at offset " + std::to_string(offset_) + ", only " +
           std::to_string(bytes_.size() - offset_) + " left");
    }
    std::memcpy(out, bytes_.data() + offset_, n);
    offset_ += n;
  }
  template <class T>
  T get(const char* what) {
    T value;
    read(&value, sizeof value, what);
    return value;
  }
  std::size_t offset() const { return offset_; }
  std::size_t left() const { return bytes_.size() - offset_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError("golden file " + path_ + ": " + what +
                     " (regenerate it with /usr/bin/python3 tests/golden/make_golden.py)");
  }

 private:
  const std::string& path_;
  const std::vector<unsigned char>& bytes_;
  std::size_t offset_ = 0;
};

template <class To>
std::vector<To> convert(const std::vector<unsigned char>& bytes, GoldenType type, std::size_t n) {
  std::vector<To> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* at = bytes.data() + i * element_size(type);
    switch (type) {
      case GoldenType::f32: {
        float v;
        std::memcpy(&v, at, sizeof v);
        out[i] = static_cast<To>(v);
        break;
      }
      case GoldenType::i32: {
        std::int32_t v;
        std::memcpy(&v, at, sizeof v);
        out[i] = static_cast<To>(v);
        break;
      }
      case GoldenType::f64: {
        double v;
        std::memcpy(&v, at, sizeof v);
        out[i] = static_cast<To>(v);
        break;
      }
    }
  }
  return out;
}

}  // namespace

const char* golden_type_name(GoldenType type) noexcept {
  switch (type) {
    case GoldenType::f32:
      return "f32";
    case GoldenType::i32:
      return "i32";
    case GoldenType::f64:
      return "f64";
  }
  return "?";
}

GoldenTensor::GoldenTensor(std::string name, GoldenType type, std::vector<std::int64_t> shape,
                           std::vector<unsigned char> bytes)
    : name_(std::move(name)), type_(type), shape_(std::move(shape)), bytes_(std::move(bytes)) {}

std::int64_t GoldenTensor::numel() const noexcept {
  std::int64_t n = 1;
  for (std::int64_t d : shape_) n *= d;
  return n;
}

std::string GoldenTensor::shape_str() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape_[i]);
  }
  return s + "]";
}

std::vector<float> GoldenTensor::f32() const {
  return convert<float>(bytes_, type_, static_cast<std::size_t>(numel()));
}

std::vector<double> GoldenTensor::f64() const {
  return convert<double>(bytes_, type_, static_cast<std::size_t>(numel()));
}

std::vector<std::int32_t> GoldenTensor::i32() const {
  if (type_ != GoldenType::i32) {
    throw Error("golden tensor '" + name_ + "' holds " + golden_type_name(type_) + ", not i32");
  }
  return convert<std::int32_t>(bytes_, type_, static_cast<std::size_t>(numel()));
}

Tensor GoldenTensor::to_tensor(const std::shared_ptr<Allocator>& allocator) const {
  Shape shape(std::span<const std::int64_t>(shape_.data(), shape_.size()));
  if (type_ == GoldenType::i32) {
    Tensor t = Tensor::empty(shape, DType::i32, allocator);
    std::vector<std::int32_t> data = i32();
    std::memcpy(t.data_ptr(), data.data(), data.size() * sizeof(std::int32_t));
    return t;
  }
  Tensor t = Tensor::empty(shape, DType::f32, allocator);
  std::vector<float> data = f32();
  std::memcpy(t.data_ptr(), data.data(), data.size() * sizeof(float));
  return t;
}

GoldenFile GoldenFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError("golden file " + path +
                     ": cannot be opened (generate it with /usr/bin/python3 "
                     "tests/golden/make_golden.py)");
  }
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  Cursor cursor(path, bytes);

  char magic[8];
  cursor.read(magic, sizeof magic, "the magic");
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) {
    cursor.fail("not a golden file (the first 8 bytes are not \"TRGOLDEN\")");
  }
  auto version = cursor.get<std::uint32_t>("the version");
  if (version != kVersion) {
    cursor.fail("version " + std::to_string(version) + ", this reader knows version " +
                std::to_string(kVersion));
  }
  auto count = cursor.get<std::uint32_t>("the tensor count");

  GoldenFile file;
  file.path_ = path;
  for (std::uint32_t i = 0; i < count; ++i) {
    auto name_length = cursor.get<std::uint32_t>("a name length");
    if (name_length > cursor.left()) {
      cursor.fail("tensor " + std::to_string(i) + " has a name of " + std::to_string(name_length) +
                  " bytes, past the end of the file");
    }
    std::string name(name_length, '\0');
    cursor.read(name.data(), name_length, "a name");
    auto code = cursor.get<std::uint32_t>("a dtype");
    if (code > 2) {
      cursor.fail("tensor '" + name + "' has dtype code " + std::to_string(code) +
                  " (valid: 0 f32, 1 i32, 2 f64)");
    }
    auto type = static_cast<GoldenType>(code);
    auto rank = cursor.get<std::uint32_t>("a rank");
    if (rank > 8) cursor.fail("tensor '" + name + "' has rank " + std::to_string(rank));
    std::vector<std::int64_t> shape(rank);
    std::uint64_t numel = 1;
    for (auto& d : shape) {
      d = cursor.get<std::int64_t>("a dimension");
      if (d < 0 || (d > 0 && numel > (std::uint64_t{1} << 40) / static_cast<std::uint64_t>(d))) {
        cursor.fail("tensor '" + name + "' has an impossible dimension " + std::to_string(d));
      }
      numel *= static_cast<std::uint64_t>(d);
    }
    std::vector<unsigned char> data(numel * element_size(type));
    cursor.read(data.data(), data.size(), ("the data of '" + name + "'").c_str());
    if (file.tensors_.count(name)) cursor.fail("tensor '" + name + "' appears twice");
    file.order_.push_back(name);
    file.tensors_.emplace(name, GoldenTensor(name, type, std::move(shape), std::move(data)));
  }
  if (cursor.left() != 0) {
    cursor.fail(std::to_string(cursor.left()) + " bytes after the last of " +
                std::to_string(count) + " tensors");
  }
  return file;
}

const GoldenTensor& GoldenFile::tensor(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    std::ostringstream message;
    message << "golden file " << path_ << " has no tensor '" << name << "'; it holds "
            << order_.size() << " tensors";
    std::size_t shown = 0;
    for (const auto& n : order_) {
      if (n.rfind(name.substr(0, name.find('.')), 0) != 0) continue;  // same prefix
      message << (shown++ ? ", " : " including ") << n;
      if (shown == 12) break;
    }
    throw InputError(message.str());
  }
  return it->second;
}

double GoldenFile::scalar(const std::string& name) const {
  const GoldenTensor& t = tensor(name);
  if (t.numel() != 1) {
    throw InputError("golden file " + path_ + ": '" + name + "' is not a scalar but " +
                     t.shape_str());
  }
  return t.f64()[0];
}

std::string golden_path(const std::string& file) {
  return std::string(TRELLIS_GOLDEN_DIR) + "/" + file;
}

}  // namespace trellis::golden
