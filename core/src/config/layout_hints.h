// The "valid: ..." hints of the layout checks' messages: the values near the one the user wrote
// that would divide evenly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trellis {

// Up to `count` divisors of n, those nearest to `near` (the value the user wrote), ascending and
// comma-separated: "1, 2, 4, 8".
std::string divisors_near(std::int64_t n, std::int64_t near, std::size_t count = 6);

// The nearest multiples of `m` below and above n: "8 or 12" (only the one above when none is
// below).
std::string multiples_near(std::int64_t n, std::int64_t m);

}  // namespace trellis
