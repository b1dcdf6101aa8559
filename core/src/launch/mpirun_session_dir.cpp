#include "launch/mpirun_session_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "trellis/error.h"

namespace trellis {

MpirunSessionDir::MpirunSessionDir() {
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  std::string pattern = (base / "trellis-mpirun-XXXXXX").string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    throw Error("cannot create a session directory for mpirun under " + base.string() + ": " +
                std::strerror(errno));
  }
  path_ = name.data();
}

MpirunSessionDir::~MpirunSessionDir() {
  std::error_code ignored;  // a directory left behind is harmless, and this runs on every exit
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace trellis
