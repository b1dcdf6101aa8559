#include "ucx_work.h"

#include <algorithm>
#include <thread>

#include "deadline.h"
#include "engine.h"
#include "operation.h"
#include "trellis/error.h"

namespace trellis::ucx {

UcxWork::UcxWork(std::shared_ptr<Engine> engine, std::shared_ptr<Operation> operation,
                 std::chrono::milliseconds default_timeout)
    : Work(default_timeout), engine_(std::move(engine)), operation_(std::move(operation)) {}

bool UcxWork::test() {
  if (!operation_->finished()) engine_->progress();
  operation_->rethrow_if_failed();
  return operation_->finished();
}

void UcxWork::wait_for(std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  // How long a wait keeps spinning once nothing moves (the MPI backend's figure: a small
  // message's round trip with room for a late peer), then the naps it takes until something does.
  constexpr auto kSpinTime = std::chrono::microseconds(200);
  constexpr auto kFirstNap = std::chrono::microseconds(10);
  constexpr auto kLongestNap = std::chrono::microseconds(250);
  const auto deadline = deadline_after(timeout);
  const int spin_polls = engine_->options().spin_polls;
  int idle = 0;  // polls in a row that moved nothing
  bool idle_timed = false;
  clock::time_point idle_since;
  auto nap = kFirstNap;
  // Done already (a send that left at once, a message that had arrived): no progress. Polling
  // here would pull messages of later operations off the transport into UCX's unexpected queue
  // (a shared-memory segment each), so a rank that only sends (a broadcast's root, a reduce's
  // leaves) would run arbitrarily far ahead of its receivers; left in the transport's queue they
  // hold the sender back once the queue is full.
  operation_->rethrow_if_failed();
  if (operation_->finished()) return;
  for (unsigned round = 1;; ++round) {
    const bool moved = engine_->progress();
    operation_->rethrow_if_failed();
    if (operation_->finished()) return;
    if (moved) {
      idle = 0;
      idle_timed = false;
      nap = kFirstNap;
    } else {
      ++idle;
    }
    // While messages move the next one is probably a moment away: spin, and look at the clock
    // only now and then (other operations' traffic may keep this loop busy for long).
    if (idle < spin_polls && round % 1024 != 0) continue;
    const auto now = clock::now();
    if (now >= deadline) throw TimeoutError(operation_->timeout_message(timeout));
    if (idle < spin_polls) continue;
    if (!idle_timed) {
      idle_timed = true;
      idle_since = now;
    }
    if (now - idle_since < kSpinTime) continue;
    // Nap rather than sched_yield(): a yield hands the core to any runnable task — on a machine
    // busy with other (even niced) work, for the rest of its time slice, milliseconds — while a
    // sleeping rank is woken, and scheduled, as soon as its nap ends.
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, kLongestNap);
  }
}

}  // namespace trellis::ucx
