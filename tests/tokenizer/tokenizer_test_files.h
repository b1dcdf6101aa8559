// What the tokenizer tests share: the committed data, a scratch directory, writing files.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace trellis::test {

inline std::filesystem::path tokenizer_data(const std::string& name = "") {
  return std::filesystem::path(TRELLIS_TEST_DATA_DIR) / name;
}

// An empty directory `name` under the tests' work directory.
inline std::filesystem::path fresh_tokenizer_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(TRELLIS_TEST_WORK_DIR) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_bytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace trellis::test
