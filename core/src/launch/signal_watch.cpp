#include "launch/signal_watch.h"

#include <sys/signalfd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "trellis/error.h"

namespace trellis {

SignalWatch::SignalWatch() {
  sigset_t watched;
  sigemptyset(&watched);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&watched, s);
  if (pthread_sigmask(SIG_BLOCK, &watched, &previous_mask_) != 0) {
    throw Error("cannot block signals to watch them");
  }
  fd_.reset(::signalfd(-1, &watched, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_.valid()) {
    const std::string reason = std::strerror(errno);
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
    throw Error("cannot watch signals (signalfd): " + reason);
  }
}

SignalWatch::~SignalWatch() {
  fd_.reset();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

std::vector<int> SignalWatch::take() {
  std::vector<int> out;
  signalfd_siginfo info;
  while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    out.push_back(static_cast<int>(info.ssi_signo));
  }
  return out;
}

std::string signal_name(int signal) {
  if (const char* abbrev = sigabbrev_np(signal)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signal);
}

}  // namespace trellis
