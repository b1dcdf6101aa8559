#include "watchdog.h"

#include <cstdio>
#include <cstdlib>

namespace trellis::bench {

Watchdog::Watchdog(std::string who) : who_(std::move(who)), thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_one();
  thread_.join();
}

void Watchdog::arm(std::chrono::seconds limit, std::string what) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    deadline_ = std::chrono::steady_clock::now() + limit;
    limit_ = limit;
    what_ = std::move(what);
  }
  changed_.notify_one();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  deadline_.reset();
}

void Watchdog::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (!deadline_) {
      changed_.wait(lock);
      continue;
    }
    const auto deadline = *deadline_;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && deadline_ &&
        *deadline_ == deadline && !stopping_) {
      std::fprintf(stderr,
                   "%s: %s did not finish within %lld s (--timeout); stopping. Is every rank "
                   "still running?\n",
                   who_.c_str(), what_.c_str(), static_cast<long long>(limit_.count()));
      std::fflush(stderr);
      std::_Exit(1);  // other threads may be inside MPI: no destructors, no atexit handlers
    }
  }
}

}  // namespace trellis::bench
