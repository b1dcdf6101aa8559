#include "comm/flight_signal_dump.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "trellis/error.h"

namespace trellis {

namespace {

// The pipe's write end, for the handler. A signal handler can reach nothing but globals, and may
// only do async-signal-safe things: it writes the signal's number here, and the thread below does
// the rest. Set while a FlightSignalDump exists, -1 otherwise.
volatile sig_atomic_t handler_fd = -1;

// How long to wait for a signal that arrived with the one being handled.
constexpr int kLateSignalMs = 250;

void on_signal(int signal) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(signal);
  if (handler_fd >= 0) {
    const ssize_t written = ::write(handler_fd, &byte, 1);
    (void)written;  // a full pipe already holds a request
  }
  errno = saved;
}

}  // namespace

FlightSignalDump::FlightSignalDump(std::shared_ptr<FlightLog> log, std::filesystem::path dir)
    : log_(std::move(log)), dir_(std::move(dir)) {
  if (handler_fd >= 0) throw Error("only one FlightSignalDump may exist at a time");
  if (::pipe2(pipe_, O_CLOEXEC) != 0) throw Error("flight record: could not make a pipe");
  handler_fd = pipe_[1];
  thread_ = std::thread([this] { serve(); });
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, &old_term_);
  ::sigaction(SIGUSR1, &action, &old_usr1_);
  ::sigaction(SIGCONT, &action, &old_cont_);
}

FlightSignalDump::~FlightSignalDump() {
  ::sigaction(SIGTERM, &old_term_, nullptr);
  ::sigaction(SIGUSR1, &old_usr1_, nullptr);
  ::sigaction(SIGCONT, &old_cont_, nullptr);
  const unsigned char stop = 0;
  const ssize_t written = ::write(pipe_[1], &stop, 1);
  (void)written;
  thread_.join();
  handler_fd = -1;
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

void FlightSignalDump::serve() {
  for (;;) {
    unsigned char signal = 0;
    const ssize_t n = ::read(pipe_[0], &signal, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || signal == 0) return;
    if (signal == SIGCONT) {
      log_->note_continued();
      continue;
    }
    const bool term = signal == SIGTERM;
    // A stopped process that gets SIGCONT and SIGTERM together runs SIGTERM's handler first
    // (lower number): look a moment longer for the SIGCONT, so the record says it was stopped.
    for (pollfd more{pipe_[0], POLLIN, 0}; ::poll(&more, 1, kLateSignalMs) > 0;) {
      unsigned char late = 0;
      if (::read(pipe_[0], &late, 1) != 1) break;
      if (late == SIGCONT) log_->note_continued();
    }
    try {
      const std::filesystem::path file =
          log_->write(dir_, term ? "signal SIGTERM (stopped by its launcher)"
                                 : "signal SIGUSR1 (the record was asked for)");
      if (!term) std::fprintf(stderr, "trellis: flight record written to %s\n", file.c_str());
    } catch (const Error& e) {
      std::fprintf(stderr, "trellis: %s\n", e.what());
    }
    if (term) {
      // End as SIGTERM would have ended the process without us.
      ::sigaction(SIGTERM, &old_term_, nullptr);
      ::kill(::getpid(), SIGTERM);
      return;
    }
  }
}

}  // namespace trellis
