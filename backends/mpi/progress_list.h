// Operations the backend moves on itself, in steps.
//
// The recursive-doubling all_reduce (small_collective.h) posts each round's messages when the
// round before has arrived. MPI's own non-blocking collectives move on inside any MPI call; ours
// must move on just as freely, or a rank waiting on one operation could hold up another that a
// peer is waiting for. So every Work's test() first runs this list, which advances each stepped
// operation in flight once, without blocking.
//
// One list per process (MpiWorld's); used by the one thread that communicates (MPI is initialised
// with MPI_THREAD_SERIALIZED), so it takes no lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace trellis::mpi {

class SteppedOp {
 public:
  // Moves on as far as possible without blocking; true once finished (completed or failed).
  // Failures are kept by the operation and raised by its own Work, never here.
  virtual bool advance() noexcept = 0;

 protected:
  ~SteppedOp() = default;
};

class ProgressList {
 public:
  ProgressList() { ops_.reserve(16); }

  void add(SteppedOp* op) { ops_.push_back(op); }
  void remove(SteppedOp* op) noexcept { std::erase(ops_, op); }

  // Advances every operation once and drops the finished ones.
  void run() noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (!ops_[i]->advance()) ops_[kept++] = ops_[i];
    }
    ops_.resize(kept);
  }

 private:
  std::vector<SteppedOp*> ops_;
};

}  // namespace trellis::mpi
