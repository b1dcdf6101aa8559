// A command line's words read one flag at a time: "--flag value" or "--flag=value" (short flags
// take the next word). The apps' parsers (trellis-bench's subcommands, trellis-generate) share it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace trellis {

class FlagWords {
 public:
  explicit FlagWords(const std::vector<std::string>& words) : words_(words) {}
  // It reads the words in place: a temporary would be gone before the first flag.
  explicit FlagWords(std::vector<std::string>&&) = delete;

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

}  // namespace trellis
