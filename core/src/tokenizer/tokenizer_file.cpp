#include "tokenizer/tokenizer_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

std::string tokenizer_file_label(std::string_view what, const std::filesystem::path& file) {
  return std::string(what) + " " + absolute_path_text(file);
}

std::string read_tokenizer_file(std::string_view what, const std::filesystem::path& file,
                                std::string_view valid) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw InputError(tokenizer_file_label(what, file) +
                     ": is a directory; valid: " + std::string(valid));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw InputError(tokenizer_file_label(what, file) + ": cannot be read: " +
                     std::strerror(errno) + "; valid: " + std::string(valid));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    throw InputError(tokenizer_file_label(what, file) +
                     ": reading failed: " + std::strerror(errno));
  }
  return std::move(bytes).str();
}

}  // namespace trellis
