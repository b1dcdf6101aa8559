// Deadlines for waits that must never overflow: a caller may pass a huge timeout (even
// milliseconds::max()) to mean "practically forever", and now() + that would wrap around into
// the past, failing at once.
#pragma once

#include <chrono>

namespace trellis::ucx {

inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (timeout <= std::chrono::milliseconds::zero()) return now;
  const auto room =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::time_point::max() - now);
  return timeout >= room ? clock::time_point::max() : now + timeout;
}

}  // namespace trellis::ucx
