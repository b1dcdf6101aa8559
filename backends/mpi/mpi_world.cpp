#include "mpi_world.h"

#include <iostream>
#include <mutex>
#include <string>

#include "mpi_call.h"
#include "mpi_types.h"
#include "trellis/error.h"

namespace trellis::mpi {

namespace {

std::string launch_advice(int world_size) {
  const std::string n = std::to_string(world_size);
  return "start the ranks with `mpirun -n " + n + " <command>` or `trellis-run --mpirun -n " + n +
         " -- <command>` (trellis-train does this itself when [comm] backend = \"mpi\")";
}

}  // namespace

std::shared_ptr<MpiWorld> MpiWorld::acquire(int rank, int world_size) {
  // MPI is state of the whole process, and so is the record of the MpiWorld that started it:
  // every factory call in the process must share the one world.
  static std::mutex mutex;
  static std::weak_ptr<MpiWorld> current;
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<MpiWorld> world = current.lock();
  if (!world) {
    world = std::shared_ptr<MpiWorld>(new MpiWorld());
    current = world;
  }
  // On a mismatch a world made just now is released here, finalising the MPI it initialised.
  world->check_launch(rank, world_size);
  return world;
}

MpiWorld::MpiWorld() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) {
    throw InputError(
        "backend mpi: MPI was already finalised in this process (by an earlier world "
        "communicator of backend mpi, or by the program), and MPI cannot be initialised twice: "
        "one MPI world per process. Keep the world communicator for as long as the process "
        "communicates.");
  }
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // One thread communicates at a time (Trellis's contract), so SERIALIZED is all we ask;
    // MPIs that give less still serve a single communicating thread.
    int provided = 0;
    const int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (code != MPI_SUCCESS) {
      throw CommError("backend mpi: MPI_Init_thread failed: " + mpi_error_text(code));
    }
    initialised_here_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &mpi_size_);
  int* tag_ub = nullptr;
  int found = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &found);
  if (found && tag_ub) tag_upper_bound_ = *tag_ub;
  f32_max_ = make_f32_op(ReduceOp::max);
  f32_min_ = make_f32_op(ReduceOp::min);
  abandoned_.reserve(4);
}

void MpiWorld::check_launch(int rank, int world_size) const {
  if (mpi_size_ == world_size && mpi_rank_ == rank) return;
  const std::string mpi_says =
      "this process is MPI rank " + std::to_string(mpi_rank_) + " of " + std::to_string(mpi_size_);
  const std::string trellis_says =
      "Trellis started it as rank " + std::to_string(rank) + " of " + std::to_string(world_size);
  if (mpi_size_ == 1 && world_size > 1) {
    throw InputError("backend mpi: " + mpi_says + ", but " + trellis_says +
                     ". The ranks were not started by mpirun, so each one is an MPI world of its "
                     "own: " +
                     launch_advice(world_size) + ".");
  }
  if (mpi_size_ != world_size) {
    throw InputError(
        "backend mpi: " + mpi_says + ", but " + trellis_says +
        ". Start exactly as many MPI ranks as Trellis ranks: " + launch_advice(world_size) + ".");
  }
  throw InputError("backend mpi: " + mpi_says + ", but " + trellis_says +
                   ". The rank must come from the same launcher as MPI's: under mpirun, do not "
                   "set TRELLIS_RANK by hand.");
}

void MpiWorld::abandon(AbandonedOp&& op) noexcept {
  sweep_abandoned();
  try {
    abandoned_.push_back(std::move(op));
  } catch (...) {
    new AbandonedOp(std::move(op));  // leaked on purpose (see mpi_world.h)
  }
}

std::size_t MpiWorld::sweep_abandoned() noexcept {
  std::erase_if(abandoned_, [](AbandonedOp& op) {
    int done = 0;
    // An error means MPI is finished with the request too.
    return MPI_Testall(static_cast<int>(op.requests.size()), op.requests.data(), &done,
                       MPI_STATUSES_IGNORE) != MPI_SUCCESS ||
           done;
  });
  return abandoned_.size();
}

MpiWorld::~MpiWorld() {
  const std::size_t pending = sweep_abandoned();
  if (pending == 0) {  // an abandoned operation may still use them
    MPI_Op_free(&f32_max_);
    MPI_Op_free(&f32_min_);
  }
  if (!initialised_here_) return;  // whoever initialised MPI finalises it
  if (pending > 0) {
    std::cerr << "backend mpi: " << pending
              << " operation(s) never completed (a collective that timed out cannot be "
                 "cancelled); MPI_Finalize is skipped so that this process can exit.\n";
    return;
  }
  MPI_Finalize();
}

}  // namespace trellis::mpi
