// The plugin descriptor of the mpi communication backend.
#include <string>

#include "mpi_communicator.h"
#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

using trellis::mpi::MpiSettings;

// Recursive doubling sends log2(p) whole copies of the data and reduces each in full, where
// MPI's large-message algorithms send about two and reduce in pieces: beyond 1 MiB it loses.
constexpr std::int64_t kLargestSmallAllReduce = 1 << 20;

// More ranks than this would post thousands of messages per rank and operation.
constexpr std::int64_t kMostDirectAllGatherRanks = 1024;

MpiSettings read_settings(const trellis::Options* options) {
  MpiSettings settings;
  if (!options) return settings;
  if (options->has("small_all_reduce_bytes")) {  // else chosen by size
    const std::int64_t bytes = options->get_int("small_all_reduce_bytes", 0);
    if (bytes < 0 || bytes > kLargestSmallAllReduce) {
      throw trellis::InputError("[comm.mpi] small_all_reduce_bytes must be from 0 to " +
                                std::to_string(kLargestSmallAllReduce) + ", got " +
                                std::to_string(bytes));
    }
    settings.small_all_reduce_bytes = bytes;
  }
  if (options->has("all_gather_direct_ranks")) {
    const std::int64_t ranks = options->get_int("all_gather_direct_ranks", 0);
    if (ranks < 0 || ranks > kMostDirectAllGatherRanks) {
      throw trellis::InputError("[comm.mpi] all_gather_direct_ranks must be from 0 to " +
                                std::to_string(kMostDirectAllGatherRanks) + ", got " +
                                std::to_string(ranks));
    }
    settings.all_gather_direct_ranks = ranks;
  }
  return settings;
}

std::unique_ptr<trellis::Communicator> make_mpi(const trellis::CommInit& init) {
  if (init.device.kind != trellis::DeviceKind::cpu) {
    throw trellis::InputError("backend mpi moves host memory only, but the run's device is " +
                              init.device.str() + ": use backend \"nccl\" for cuda");
  }
  return trellis::mpi::MpiCommunicator::make_world(init, read_settings(init.options));
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  if (query.device == trellis::DeviceKind::cuda) {
    problems.push_back({"comm.backend",
                        "backend \"mpi\" moves host memory only; with [device] kind = \"cuda\" "
                        "use backend \"nccl\""});
  }
  const std::int64_t bytes = query.options->get_int("small_all_reduce_bytes", 0);
  if (bytes < 0 || bytes > kLargestSmallAllReduce) {
    problems.push_back(
        {"comm.mpi.small_all_reduce_bytes", "must be from 0 (always MPI_Iallreduce) to " +
                                                std::to_string(kLargestSmallAllReduce) + ", got " +
                                                std::to_string(bytes)});
  }
  const std::int64_t ranks = query.options->get_int("all_gather_direct_ranks", 8);
  if (ranks < 0 || ranks > kMostDirectAllGatherRanks) {
    problems.push_back(
        {"comm.mpi.all_gather_direct_ranks", "must be from 0 (always MPI_Iallgather) to " +
                                                 std::to_string(kMostDirectAllGatherRanks) +
                                                 ", got " + std::to_string(ranks)});
  }
  return problems;
}

const trellis::OptionSpec options[] = {
    {"small_all_reduce_bytes", trellis::OptionType::integer,
     "65536 (1048576 in groups of 2 or 3 ranks)",
     "all_reduce up to this many bytes uses recursive doubling over point-to-point messages "
     "(lower latency than MPI_Iallreduce); 0 = always MPI_Iallreduce"},
    {"all_gather_direct_ranks", trellis::OptionType::integer, "8",
     "all_gather in groups of at most this many ranks sends every block directly over "
     "point-to-point messages (out of place twice as fast as MPI_Iallgather); 0 = always "
     "MPI_Iallgather"},
};

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = "mpi",
    .version = "1.0.0",
    .summary =
        "MPI (started by mpirun or srun): every operation non-blocking, host memory, "
        "f32 and i32",
    .make_comm = &make_mpi,
    .make_layers = nullptr,
    .make_schedule = nullptr,
    .check = &check,
    .options = options,
    .option_count = std::size(options),
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
