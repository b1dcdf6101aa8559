#include "config/flag_words.h"

#include "trellis/error.h"

namespace trellis {

bool FlagWords::next() {
  if (index_ >= words_.size()) return false;
  flag_ = words_[index_++];
  has_inline_value_ = false;
  const std::size_t eq = flag_.find('=');
  if (flag_.starts_with("--") && eq != std::string::npos) {
    inline_value_ = flag_.substr(eq + 1);
    flag_ = flag_.substr(0, eq);
    has_inline_value_ = true;
  }
  return true;
}

std::string FlagWords::value() {
  if (has_inline_value_) return inline_value_;
  if (index_ >= words_.size()) throw InputError(flag_ + " needs a value");
  return words_[index_++];
}

}  // namespace trellis
