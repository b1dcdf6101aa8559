#include "launch/tagged_output.h"

#include <unistd.h>

#include <cerrno>

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
  if (!lines.empty()) write_all(lines);
}

void TaggedOutput::finish() {
  if (partial_.empty()) return;
  write_all(tag_ + partial_ + "\n");
  partial_.clear();
}

void TaggedOutput::write_all(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(out_fd_, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;  // the launcher's own output is gone (a closed pipe): nothing left to tell
    }
  }
}

}  // namespace trellis
