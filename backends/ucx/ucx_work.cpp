#include "ucx_work.h"

#include <sched.h>

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
  const auto deadline = clock::now() + timeout;
  // Rounds without any event before this rank starts yielding its core to other processes.
  constexpr int kSpinsBeforeYield = 16;
  int idle = 0;
  while (true) {
    const bool moved = engine_->progress();
    operation_->rethrow_if_failed();
    if (operation_->finished()) return;
    idle = moved ? 0 : idle + 1;
    if (idle >= kSpinsBeforeYield) sched_yield();
    if (clock::now() >= deadline) throw TimeoutError(operation_->timeout_message(timeout));
  }
}

}  // namespace trellis::ucx
