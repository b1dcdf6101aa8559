// Writing Hugging Face's safetensors format (checkpoint/safetensors.h says the layout): fp32
// tensors in the order they are added, the header padded with spaces to a multiple of 8 bytes as
// Hugging Face's writer pads it, so every tensor's data is aligned.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace trellis {

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
