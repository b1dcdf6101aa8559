#include "os/host_name.h"

#include <unistd.h>

namespace trellis {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace trellis
