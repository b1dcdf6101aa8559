#include "train/progress_time.h"

#include <cmath>
#include <cstdio>

namespace trellis {

std::string format_duration(double seconds) {
  const long long s = std::isfinite(seconds) && seconds > 0 ? std::llround(std::floor(seconds)) : 0;
  char text[32];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  } else {
    std::snprintf(text, sizeof text, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
  }
  return text;
}

std::string progress_time_text(double elapsed_seconds, std::int64_t steps_done,
                               std::int64_t steps_left) {
  std::string text = "elapsed " + format_duration(elapsed_seconds);
  if (steps_left > 0 && steps_done > 0) {
    const double per_step = elapsed_seconds / static_cast<double>(steps_done);
    text += ", ETA " + format_duration(per_step * static_cast<double>(steps_left));
  }
  return text;
}

}  // namespace trellis
