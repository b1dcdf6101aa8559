// Writing Hugging Face's safetensors format (checkpoint/safetensors.h says the layout): fp32
// tensors in the order they are added, the header padded with spaces to a multiple of 8 bytes as
// Hugging Face's writer pads it, so every tensor's data is aligned.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

// The head of an fp32 safetensors file (the 8-byte length and the padded JSON header) and where
// each tensor's values start, computed from names and shapes alone: ranks that each hold a part
// of a tensor agree on where to write it without exchanging anything.
struct SafetensorsLayout {
  struct Entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::uint64_t file_offset = 0;  // of its first value, from the file's start
    std::int64_t elements() const noexcept;
  };
  std::vector<Entry> entries;  // in the order of their data
  std::string head;            // the file's first head.size() bytes
  std::uint64_t file_bytes = 0;
  const Entry* find(std::string_view name) const noexcept;
};
struct SafetensorsShape {
  std::string name;
  std::vector<std::int64_t> shape;
};
// Error for a name given twice or named "__metadata__".
SafetensorsLayout safetensors_layout(const std::vector<SafetensorsShape>& tensors,
                                     const std::map<std::string, std::string>& metadata);

// Builds a safetensors file of fp32 tensors, in the order they are added.
class SafetensorsWriter {
 public:
  // `values` holds the product of `shape` values, row-major. Error when `name` is taken.
  void add(const std::string& name, std::vector<std::int64_t> shape, std::vector<float> values);
  void set_metadata(const std::string& key, const std::string& value);
  // Written to PATH.partial, synced, and renamed. Error naming the file when it cannot.
  void write(const std::filesystem::path& path) const;
  // The file's bytes, as write() would write them.
  std::string bytes() const;

 private:
  struct Entry {
    std::string name;
    std::vector<std::int64_t> shape;
    std::vector<float> values;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace trellis
