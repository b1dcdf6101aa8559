#include "ucx_work.h"

#include <sched.h>

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
  const auto deadline = deadline_after(timeout);
  const int spins_before_yield = engine_->options().spin_polls;
  int idle = 0;
  for (unsigned round = 1;; ++round) {
    const bool moved = engine_->progress();
    operation_->rethrow_if_failed();
    if (operation_->finished()) return;
    idle = moved ? 0 : idle + 1;
    // While messages move the next one is probably a moment away: spin, and look at the clock
    // only now and then (other operations' traffic may keep this loop busy for long).
    if (idle < spins_before_yield && round % 1024 != 0) continue;
    if (idle >= spins_before_yield) sched_yield();
    if (clock::now() >= deadline) throw TimeoutError(operation_->timeout_message(timeout));
  }
}

}  // namespace trellis::ucx
