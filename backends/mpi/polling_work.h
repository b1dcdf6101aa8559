// Waiting by polling: how every wait of the backend ends, in time or with a TimeoutError.
//
// MPI moves non-blocking operations on only inside MPI calls (no progress thread), so a wait is a
// loop of tests. It spins at first — most waits end within microseconds, and a sleep would cost
// more than the message — for longer on big operations, whose data takes that long to move. Past
// that, the wait is for a peer, not for data: it naps between tests, each nap twice as long as
// the one before up to a quarter of a millisecond, so a long wait leaves the core to others (on
// oversubscribed nodes, the very ranks it waits for) while still testing thousands of times a
// second.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

#include "operation.h"
#include "trellis/comm.h"

namespace trellis::mpi {

class MpiCommunicator;

// How long a wait on an operation moving `bytes` spins before it starts to nap.
std::chrono::nanoseconds spin_time(std::size_t bytes) noexcept;

// Calls `done()` until it returns true (then true) or `timeout` has passed (then false).
template <class Done>
bool poll_until(const Done& done, std::chrono::milliseconds timeout,
                std::chrono::nanoseconds spin) {
  using clock = std::chrono::steady_clock;
  constexpr std::chrono::nanoseconds kFirstNap = std::chrono::microseconds(10);
  constexpr std::chrono::nanoseconds kLongestNap = std::chrono::microseconds(250);
  // While spinning, the clock is read every few tests only: a test is a fraction of a
  // microsecond, and reading the clock would be a good part of a small message's latency. The
  // timeout counts from the first reading, a few tests (microseconds) into the wait.
  constexpr unsigned kTestsPerClockRead = 16;
  clock::time_point deadline{};
  clock::time_point spin_until{};
  std::chrono::nanoseconds nap = kFirstNap;
  bool started = false;
  bool napping = false;
  for (unsigned tests = 0;; ++tests) {
    if (done()) return true;
    if (!napping && tests % kTestsPerClockRead != kTestsPerClockRead - 1) continue;
    const clock::time_point now = clock::now();
    if (!started) {
      started = true;
      deadline = now + timeout;
      spin_until = now + spin;
    }
    if (now >= deadline) return false;
    if (now < spin_until) continue;
    napping = true;
    std::this_thread::sleep_for(std::min<clock::duration>(nap, deadline - now));
    nap = std::min(nap * 2, kLongestNap);
  }
}

// A Work of this backend: test() is the operation's own; wait_for() polls it as above and, past
// the timeout, throws a TimeoutError naming the operation, the group and the peer.
class PollingWork : public Work {
 public:
  void wait_for(std::chrono::milliseconds timeout) final;

 protected:
  PollingWork(MpiCommunicator& comm, const OpInfo& info);
  // "backend mpi: <operation> in group '<name>' (world ranks [...])"
  std::string describe() const;
  // For the TimeoutError of an operation the backend runs itself in steps: where it stands and
  // which peers it still waits for (", at step 2 of 6: waiting for rank 1 (world rank 1)"), or ""
  // where the operation says no more than its description.
  virtual std::string outstanding() const { return std::string(); }

  MpiCommunicator& comm_;
  OpInfo info_;
};

// The TimeoutError message for `info` on `comm` after waiting `timeout`: what was waited for
// (with `outstanding`, PollingWork::outstanding()'s words), why it can happen and what can be done.
std::string timeout_message(const MpiCommunicator& comm, const OpInfo& info,
                            std::chrono::milliseconds timeout,
                            const std::string& outstanding = std::string());

}  // namespace trellis::mpi
