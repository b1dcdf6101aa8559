#include "comm/store_counter.h"

#include <charconv>

namespace trellis {

CounterSum add_to_counter(const std::string& key, const std::string* current, std::int64_t delta) {
  std::int64_t value = 0;
  if (current != nullptr) {
    const char* end = current->data() + current->size();
    auto [ptr, ec] = std::from_chars(current->data(), end, value);
    if (ec != std::errc() || ptr != end || current->empty()) {
      return {0, "key '" + key + "' holds a value that is not an integer"};
    }
  }
  CounterSum sum;
  if (__builtin_add_overflow(value, delta, &sum.value)) {
    return {0, "adding " + std::to_string(delta) + " to key '" + key + "' (" +
                   std::to_string(value) + ") goes past a 64-bit integer"};
  }
  return sum;
}

}  // namespace trellis
