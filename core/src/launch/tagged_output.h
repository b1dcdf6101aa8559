// TaggedOutput: copies what a rank writes to the launcher's stdout or stderr with a tag in front of
// every line ("[3]: "), for trellis-run --tag-output. Lines are written whole, so the lines of
// ranks writing at the same time do not interleave mid-line; a last line without a newline is
// written (with one) by finish().
#pragma once

#include <string>

namespace trellis {

class TaggedOutput {
 public:
  TaggedOutput(std::string tag, int out_fd) : tag_(std::move(tag)), out_fd_(out_fd) {}

  void feed(const char* data, std::size_t size);
  void finish();

 private:
  void write_all(const std::string& text);

  std::string tag_;
  int out_fd_;
  std::string partial_;  // the current line, not yet ended
};

}  // namespace trellis
