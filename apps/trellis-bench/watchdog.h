// Watchdog: ends the process when one step of the benchmark runs past its deadline.
//
// The mpi-raw baseline makes blocking MPI calls, which have no timeout of their own, and a
// measurement of many iterations is not one wait a backend could bound. So each measurement is
// armed with the bench's --timeout; if it has not disarmed by then, a thread says which step on
// which rank overran and exits the process with code 1, and the launcher (trellis-run, mpirun)
// stops the other ranks. Nothing in the bench then waits forever.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace trellis::bench {

class Watchdog {
 public:
  explicit Watchdog(std::string who);  // "trellis-bench rank 3": how the message starts
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // From now on, `what` must end within `limit`.
  void arm(std::chrono::seconds limit, std::string what);
  void disarm();

 private:
  void watch();

  std::string who_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::chrono::seconds limit_{0};
  std::string what_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace trellis::bench
