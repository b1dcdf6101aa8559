// MpiWorld: MPI's lifetime in this process, shared by every communicator of backend mpi.
//
// One MPI world per process. MPI can be initialised once and never again after MPI_Finalize, so
// the first world communicator made by the factory initialises MPI (unless the program already
// has) and MPI is finalised when the last communicator holding the MpiWorld is gone: the world
// communicator, and any communicator split from it that outlived it. A second factory call while
// a world is alive shares it; one after MPI was finalised is an error saying so.
//
// The launcher and MPI must agree: the MPI world has CommInit's size and this process's MPI rank
// is CommInit's rank. Ranks that were not started by mpirun are each an MPI world of one; the
// error says how to start them.
//
// Operations whose Work was destroyed before they completed (after a timeout, say) cannot be
// taken back from MPI — a collective cannot be cancelled — so their requests and buffers are kept
// here. If any are still pending when MPI would be finalised, MPI_Finalize is skipped: it could
// wait for them forever, and the run is failing anyway.
#pragma once

#include <mpi.h>

#include <array>
#include <memory>
#include <vector>

#include "progress_list.h"
#include "trellis/tensor.h"

namespace trellis::mpi {

// An operation MPI may still be working on after its Work is gone: what MPI may still touch.
struct AbandonedOp {
  std::vector<MPI_Request> requests;
  std::array<Tensor, 2> tensors;
  std::shared_ptr<void> memory;  // any other buffer the requests use
};

class MpiWorld {
 public:
  // The process's MPI world, initialising MPI if nobody has; throws InputError when MPI's world
  // does not match the launcher's `rank` and `world_size`, or MPI was already finalised.
  static std::shared_ptr<MpiWorld> acquire(int rank, int world_size);

  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  // The largest tag MPI accepts (MPI_TAG_UB, at least 32767).
  int tag_upper_bound() const noexcept { return tag_upper_bound_; }
  ProgressList& progress() noexcept { return progress_; }
  // max and min of f32 with trellis/reduce.h's NaN rule (mpi_types.h), made once per world.
  MPI_Op f32_max() const noexcept { return f32_max_; }
  MPI_Op f32_min() const noexcept { return f32_min_; }
  // Keeps `op`'s buffers alive until MPI has finished with them. Without the memory to remember
  // it, leaks them: MPI may still write into them, so they must never be freed under it.
  void abandon(AbandonedOp&& op) noexcept;

 private:
  MpiWorld();
  void check_launch(int rank, int world_size) const;
  // Drops the abandoned operations that have completed; returns how many are still pending.
  std::size_t sweep_abandoned() noexcept;

  bool initialised_here_ = false;  // we called MPI_Init_thread, so we call MPI_Finalize
  int mpi_rank_ = 0;
  int mpi_size_ = 1;
  int tag_upper_bound_ = 32767;
  MPI_Op f32_max_ = MPI_OP_NULL;
  MPI_Op f32_min_ = MPI_OP_NULL;
  ProgressList progress_;
  std::vector<AbandonedOp> abandoned_;
};

}  // namespace trellis::mpi
