// SignalWatch: turns the signals a launcher must act on into readable events on a file descriptor
// (a signalfd), so the launcher's one poll() loop handles them with everything else and no signal
// handler, and no global flag, is needed.
//
// The constructor blocks the signals in the calling thread; threads created afterwards inherit the
// mask, which matters: a process-directed SIGINT is delivered to any thread that does not block
// it, so the watch must exist before any other thread (the store server's) starts. Children must
// start with an empty mask (see rank_process.h). The destructor restores the previous mask;
// signals that arrived meanwhile and were not read stay pending and are delivered then.
#pragma once

#include <signal.h>

#include <string>
#include <vector>

#include "os/unique_fd.h"

namespace trellis {

class SignalWatch {
 public:
  // Watches SIGINT, SIGTERM, SIGHUP (to forward to the ranks) and SIGCHLD (a rank exited).
  // Throws Error when the signalfd cannot be made.
  SignalWatch();
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  int fd() const noexcept { return fd_.get(); }
  // The signals delivered since the last call, in order; never blocks.
  std::vector<int> take();

 private:
  sigset_t previous_mask_;
  UniqueFd fd_;
};

// "SIGKILL" for 9; "signal 64" for a number without a name.
std::string signal_name(int signal);

}  // namespace trellis
