// Hugging Face's safetensors format, read strictly and written as Hugging Face's loaders expect:
//
//   8 bytes     N, the header's length, unsigned little-endian
//   N bytes     a JSON object: each tensor's name -> {"dtype": "F32", "shape": [rows, cols],
//               "data_offsets": [begin, end]}, and optionally "__metadata__": {string: string}
//   the data    each tensor's bytes at [begin, end) from the data's start, row-major,
//               little-endian; the tensors cover the data exactly, without holes or overlaps
//
// Every rule is checked before a byte of data is trusted, and each failure is an InputError
// naming the file and what is wrong (trellis-train exits 2): the header's length (at most 100 MB,
// as Hugging Face's reader allows, and within the file), the JSON (an object; names unique; each
// entry exactly those three keys), the dtype (one of the format's), the shape (non-negative
// sizes whose product times the dtype's size does not overflow and equals end - begin), the
// offsets (within the data, sorted they neither overlap nor leave a gap, and reach its end).
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

// The format's dtypes. F32, F16, BF16 and F64 convert to fp32 (read_f32); the others are known
// but hold no weights Trellis reads.
enum class SafetensorsDType : unsigned char {
  boolean,
  u8,
  i8,
  f8_e5m2,
  f8_e4m3,
  i16,
  u16,
  f16,
  bf16,
  i32,
  u32,
  f32,
  f64,
  i64,
  u64
};
const char* safetensors_dtype_name(SafetensorsDType t) noexcept;  // "F32", "BF16", ...
std::size_t safetensors_dtype_bytes(SafetensorsDType t) noexcept;

struct SafetensorsTensor {
  std::string name;
  SafetensorsDType dtype = SafetensorsDType::f32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // from the data's start
  std::int64_t elements() const noexcept;
};

struct SafetensorsIndex {
  std::uint64_t header_bytes = 0;          // N
  std::vector<SafetensorsTensor> tensors;  // in the order of their data
  std::map<std::string, std::string> metadata;
  const SafetensorsTensor* find(std::string_view name) const noexcept;
};

// The longest header a file may declare (Hugging Face's reader refuses longer ones).
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;

// Checks and indexes the header `header_json` of a file whose data part is `data_bytes` long
// (the file's size - 8 - N). `who` names the file in errors.
SafetensorsIndex parse_safetensors_header(std::string_view header_json, std::uint64_t header_bytes,
                                          std::uint64_t data_bytes, const std::string& who);

// Reads the header length and the header from `in` (at the file's start) and checks them against
// the file's `size` in bytes.
SafetensorsIndex read_safetensors_index(std::istream& in, std::uint64_t size,
                                        const std::string& who);

// A safetensors file opened for reading: its index checked against its size.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(std::filesystem::path path);  // throws InputError naming the file

  const std::filesystem::path& path() const noexcept { return path_; }
  const SafetensorsIndex& index() const noexcept { return index_; }
  // The tensor's values as fp32 (F32 copied, F16 / BF16 / F64 converted; InputError for other
  // dtypes, naming the tensor and its dtype).
  std::vector<float> read_f32(const SafetensorsTensor& tensor) const;

 private:
  std::filesystem::path path_;
  SafetensorsIndex index_;
};

}  // namespace trellis
