// add() on a store key, the arithmetic both stores share: the key holds a decimal integer (an
// absent key counts as 0) and the new value must fit in 64 bits. A counter's value comes from
// other processes, so neither a key set to text nor a sum past 2^63 may crash or wrap: each is a
// problem the caller reports (the TCP server to its client, the file store as a CommError).
#pragma once

#include <cstdint>
#include <string>

namespace trellis {

struct CounterSum {
  std::int64_t value = 0;
  std::string problem;  // empty when `value` holds the sum
};

// `current` is the key's value, or nullptr when the key is not set.
CounterSum add_to_counter(const std::string& key, const std::string* current, std::int64_t delta);

}  // namespace trellis
