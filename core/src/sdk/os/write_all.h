// write(2) until everything is written, retrying on EINTR.
#pragma once

#include <string_view>

namespace trellis {

// False when the descriptor stopped taking bytes (a closed pipe, a full disk) before the end.
bool write_all(int fd, std::string_view text) noexcept;

}  // namespace trellis
