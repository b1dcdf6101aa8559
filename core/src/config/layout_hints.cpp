#include "config/layout_hints.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace trellis {

namespace {

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t d = 1; d * d <= n; ++d) {
    if (n % d == 0) out.push_back(d);
  }
  for (std::size_t i = out.size(); i-- > 0;) {
    if (out[i] * out[i] != n) out.push_back(n / out[i]);
  }
  return out;
}

}  // namespace

std::string divisors_near(std::int64_t n, std::int64_t near, std::size_t count) {
  std::vector<std::int64_t> all = divisors(n);
  if (all.size() > count) {
    std::stable_sort(all.begin(), all.end(), [&](std::int64_t a, std::int64_t b) {
      return std::llabs(a - near) < std::llabs(b - near);
    });
    all.resize(count);
    std::sort(all.begin(), all.end());
  }
  std::string out;
  for (std::int64_t d : all) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return out;
}

std::string multiples_near(std::int64_t n, std::int64_t m) {
  const std::int64_t below = n / m * m;
  const std::int64_t above = below + m;
  if (below < m) return std::to_string(above);
  return std::to_string(below) + " or " + std::to_string(above);
}

}  // namespace trellis
