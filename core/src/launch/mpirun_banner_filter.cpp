#include "launch/mpirun_banner_filter.h"

#include <string_view>

#include "os/write_all.h"

namespace trellis {

namespace {

// Open MPI's show_help boxes are framed by lines of exactly 74 dashes.
constexpr std::string_view kDashLine =
    "--------------------------------------------------------------------------";

bool is_dash_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line == kDashLine;
}

// The beginning of a line that could still become a dash line.
bool may_become_dash_line(std::string_view partial) {
  return partial.size() <= kDashLine.size() && kDashLine.starts_with(partial);
}

}  // namespace

bool is_rank_failure_banner(const std::string& block) {
  // Open MPI 4.1's texts (help-errmgr-base.txt, help-orterun.txt), as far as they are stable.
  for (std::string_view phrase :
       {"terminated normally, but", "exited with non-zero status, thus causing",
        "mpirun noticed that process rank"}) {
    if (block.find(phrase) != std::string::npos) return true;
  }
  return false;
}

void MpirunBannerFilter::feed(const char* data, std::size_t size) {
  partial_.append(data, size);
  std::string out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string_view line(partial_.data() + start, nl + 1 - start);
    if (in_block_) {
      block_.append(line);
      if (is_dash_line(line)) {
        write(out);
        out.clear();
        end_block();
      }
    } else if (is_dash_line(line)) {
      in_block_ = true;
      block_.assign(line);
    } else {
      out.append(line);
    }
  }
  partial_.erase(0, start);
  // An unfinished line goes out now (a prompt, a progress line), unless it may open a block.
  if (!in_block_ && !may_become_dash_line(partial_)) {
    out += partial_;
    partial_.clear();
  }
  write(out);
}

void MpirunBannerFilter::end_block() {
  in_block_ = false;
  std::string block;
  block.swap(block_);
  if (is_rank_failure_banner(block) && failure_named_ && failure_named_()) return;
  write(block);
}

void MpirunBannerFilter::finish() {
  // A block never closed is not a banner: it goes out as it came.
  write(block_ + partial_);
  block_.clear();
  partial_.clear();
  in_block_ = false;
}

void MpirunBannerFilter::write(const std::string& text) const {
  // A launcher whose own output is gone has nothing left to tell: a short write is ignored.
  [[maybe_unused]] const bool written = write_all(out_fd_, text);
}

}  // namespace trellis
