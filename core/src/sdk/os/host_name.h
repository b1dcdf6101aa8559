// This machine's host name, as reports and records name where a rank ran.
#pragma once

#include <string>

namespace trellis {

// gethostname(2), or "localhost" when it fails.
std::string host_name();

}  // namespace trellis
