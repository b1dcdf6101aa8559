// MpirunBannerFilter: mpirun's stderr as the launcher passes it on, without Open MPI's banners
// about a rank that failed.
//
// When a rank exits non-zero or is killed, Open MPI 4.1's mpirun prints boxed banners (blocks
// between lines of 74 dashes): "Primary job terminated normally, but 1 process returned a
// non-zero exit code. Per user-direction, the job has been aborted.", "mpirun detected that one
// or more processes exited with non-zero status, thus causing the job to be terminated. The
// first process to do so was: ...", "mpirun noticed that process rank 1 with PID 0 on node vm
// exited on signal 9 (Killed)." trellis-run already says which rank failed and how, from the
// report of the wrapper around each rank, so those banners only repeat it. mpirun -q would
// silence them, but also mpirun's own reasons for not starting (no slots, an executable it
// cannot run), which the user needs; so the launcher filters instead.
//
// Everything else passes through unchanged and at once; only a block between dash lines is held
// until it closes, then dropped when it is one of those banners and `failure_named()` says the
// launcher has named the failure (otherwise the banner is the only word on it and is kept).
#pragma once

#include <functional>
#include <string>

#include "launch/output_sink.h"

namespace trellis {

class MpirunBannerFilter : public OutputSink {
 public:
  MpirunBannerFilter(int out_fd, std::function<bool()> failure_named)
      : out_fd_(out_fd), failure_named_(std::move(failure_named)) {}

  void feed(const char* data, std::size_t size) override;
  void finish() override;

 private:
  void write(const std::string& text) const;
  void end_block();

  int out_fd_;
  std::function<bool()> failure_named_;
  std::string partial_;  // the current line, not yet ended (held only if it may be a dash line)
  std::string block_;    // a block from its opening dash line, while it is open
  bool in_block_ = false;
};

// Whether `block` (its dash lines included) is one of mpirun's banners about a failed rank.
bool is_rank_failure_banner(const std::string& block);

}  // namespace trellis
