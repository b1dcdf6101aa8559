// UcxWork: the Work handed to callers, a window onto one Operation.
//
// test() and wait_for() drive the whole world's progress (Engine::progress), not only this
// operation's, so every operation in flight moves whichever Work the caller holds. wait_for()
// polls: it spins while messages are moving and for 200 us (and at least `spin_polls` polls) after
// the last one moved, then naps (10 us, doubling up to 40 us: shorter than the spin) until
// something moves again, so ranks sharing cores with each other or with other work still get to
// run. A wait on an operation that has already completed returns without polling at all. It never
// waits past its timeout, and a timed-out operation stays in flight: waiting again may still
// complete it.
#pragma once

#include <memory>

#include "trellis/comm.h"

namespace trellis::ucx {

class Engine;
class Operation;

class UcxWork final : public Work {
 public:
  UcxWork(std::shared_ptr<Engine> engine, std::shared_ptr<Operation> operation,
          std::chrono::milliseconds default_timeout);

  bool test() override;
  void wait_for(std::chrono::milliseconds timeout) override;

 private:
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<Operation> operation_;
};

}  // namespace trellis::ucx
