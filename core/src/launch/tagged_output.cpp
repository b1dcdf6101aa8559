#include "launch/tagged_output.h"

#include "os/write_all.h"

namespace trellis {

void TaggedOutput::feed(const char* data, std::size_t size) {
  partial_.append(data, size);
  std::string lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines += tag_;
    lines.append(partial_, start, nl + 1 - start);
  }
  partial_.erase(0, start);
  if (!lines.empty()) write(lines);
}

void TaggedOutput::finish() {
  if (partial_.empty()) return;
  write(tag_ + partial_ + "\n");
  partial_.clear();
}

void TaggedOutput::write(const std::string& text) const {
  // The launcher's own output gone (a closed pipe): nothing left to tell, a short write is fine.
  [[maybe_unused]] const bool written = write_all(out_fd_, text);
}

}  // namespace trellis
