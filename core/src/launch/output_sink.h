// Where the launcher copies what a child writes to a pipe: TaggedOutput (a rank's lines with a
// tag, --tag-output) or MpirunBannerFilter (mpirun's stderr without the banners that repeat a
// failure the launcher has named).
#pragma once

#include <cstddef>

namespace trellis {

class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // Bytes as read from the pipe: lines may be split anywhere.
  virtual void feed(const char* data, std::size_t size) = 0;
  // The pipe is closed: write what is still held.
  virtual void finish() = 0;
};

}  // namespace trellis
