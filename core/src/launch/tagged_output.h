// TaggedOutput: copies what a rank writes to the launcher's stdout or stderr with a tag in front of
// every line ("[3]: "), for trellis-run --tag-output. Lines are written whole, so the lines of
// ranks writing at the same time do not interleave mid-line; a last line without a newline is
// written (with one) by finish().
#pragma once

#include <string>

#include "launch/output_sink.h"

namespace trellis {

class TaggedOutput : public OutputSink {
 public:
  TaggedOutput(std::string tag, int out_fd) : tag_(std::move(tag)), out_fd_(out_fd) {}

  void feed(const char* data, std::size_t size) override;
  void finish() override;

 private:
  void write(const std::string& text) const;

  std::string tag_;
  int out_fd_;
  std::string partial_;  // the current line, not yet ended
};

}  // namespace trellis
