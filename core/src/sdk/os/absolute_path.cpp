#include "os/absolute_path.h"

#include <system_error>

namespace trellis {

std::string absolute_path_text(const std::filesystem::path& path) {
  if (path.empty()) return {};
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path.string() : absolute.lexically_normal().string();
}

}  // namespace trellis
