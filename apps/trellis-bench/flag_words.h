// The words after a trellis-bench subcommand, read one flag at a time: "--flag value" or
// "--flag=value" (short flags take the next word).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace trellis::bench {

class FlagWords {
 public:
  explicit FlagWords(const std::vector<std::string>& words) : words_(words) {}

  // Moves to the next flag; false after the last word.
  bool next();
  const std::string& flag() const { return flag_; }               // without "=value"
  const std::string& word() const { return words_[index_ - 1]; }  // as it was given
  // The flag's value: after '=', or the next word; throws InputError "<flag> needs a value".
  std::string value();

 private:
  const std::vector<std::string>& words_;
  std::size_t index_ = 0;  // the word after the current flag
  std::string flag_;
  std::string inline_value_;
  bool has_inline_value_ = false;
};

}  // namespace trellis::bench
