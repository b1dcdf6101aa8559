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

// The largest all_reduce or reduce MPI counts allow (2^31 - 1 elements of 4 bytes): a ring
// threshold above it would never be reached.
constexpr std::int64_t kLargestAllReduce = (std::int64_t{1} << 31) * 4;

// Ring segments: below 64 bytes every message would be mostly overhead; above 16 MiB the
// scratch block (RingWork::kWindow segments per operation in flight) grows past reason.
constexpr std::int64_t kSmallestRingSegment = 64;
constexpr std::int64_t kLargestRingSegment = std::int64_t{16} << 20;

// The integer options, each with its range; where the range starts at 0, 0 hands the operation
// to MPI's own collective (`zero_means`).
struct RangedOption {
  const char* key;
  std::int64_t least;
  std::int64_t most;
  const char* zero_means;  // null where 0 is not allowed
  std::int64_t MpiSettings::*field;
};
constexpr RangedOption kRangedOptions[] = {
    {"small_all_reduce_bytes", 0, kLargestSmallAllReduce, "always MPI_Iallreduce",
     &MpiSettings::small_all_reduce_bytes},
    {"all_gather_direct_ranks", 0, kMostDirectAllGatherRanks, "always MPI_Iallgather",
     &MpiSettings::all_gather_direct_ranks},
    {"ring_all_reduce_bytes", 0, kLargestAllReduce, "never the ring: MPI_Iallreduce",
     &MpiSettings::ring_all_reduce_bytes},
    {"ring_reduce_scatter_bytes", 0, kLargestAllReduce, "never the ring: MPI_Ireduce_scatter_block",
     &MpiSettings::ring_reduce_scatter_bytes},
    {"ring_reduce_bytes", 0, kLargestAllReduce, "never the ring: MPI_Ireduce",
     &MpiSettings::ring_reduce_bytes},
    {"ring_segment_bytes", kSmallestRingSegment, kLargestRingSegment, nullptr,
     &MpiSettings::ring_segment_bytes},
};

// "must be from 0 (always MPI_Iallreduce) to 1048576, got -3", or "" when `value` is valid.
std::string range_problem(const RangedOption& option, std::int64_t value) {
  if (value >= option.least && value <= option.most) return "";
  std::string text = "must be from " + std::to_string(option.least);
  if (option.zero_means) text += std::string(" (") + option.zero_means + ")";
  return text + " to " + std::to_string(option.most) + ", got " + std::to_string(value);
}

// Unset options keep MpiSettings' defaults (small_all_reduce_bytes and the ring_*_bytes: chosen
// by group size).
MpiSettings read_settings(const trellis::Options* options) {
  MpiSettings settings;
  if (!options) return settings;
  for (const RangedOption& option : kRangedOptions) {
    if (!options->has(option.key)) continue;
    const std::int64_t value = options->get_int(option.key, 0);
    if (std::string problem = range_problem(option, value); !problem.empty()) {
      throw trellis::InputError(std::string("[comm.mpi] ") + option.key + " " + problem);
    }
    settings.*option.field = value;
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
  for (const RangedOption& option : kRangedOptions) {
    if (!query.options->has(option.key)) continue;
    const std::int64_t value = query.options->get_int(option.key, 0);
    if (std::string problem = range_problem(option, value); !problem.empty()) {
      problems.push_back({std::string("comm.mpi.") + option.key, problem});
    }
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
    {"ring_all_reduce_bytes", trellis::OptionType::integer,
     "1 in groups of 2 or 3 ranks (every size above small_all_reduce_bytes), 8388608 otherwise",
     "all_reduce of at least this many bytes, above small_all_reduce_bytes, runs as a pipelined "
     "ring (reduce-scatter then all-gather over point-to-point messages); 0 = MPI_Iallreduce "
     "above small_all_reduce_bytes"},
    {"ring_reduce_scatter_bytes", trellis::OptionType::integer,
     "1 in groups of 2 ranks (every size), 65536 in groups of 3, 1048576 otherwise",
     "reduce_scatter whose input has at least this many bytes runs as a pipelined ring "
     "reduce-scatter over point-to-point messages; 0 = always MPI_Ireduce_scatter_block"},
    {"ring_reduce_bytes", trellis::OptionType::integer,
     "1 in groups of 2 ranks (every size), 65536 otherwise",
     "reduce of at least this many bytes runs over point-to-point messages: a pipelined chain "
     "to the root in groups of 2 ranks, a ring reduce-scatter then a gather of the chunks to "
     "the root in larger ones; 0 = always MPI_Ireduce"},
    {"ring_segment_bytes", trellis::OptionType::integer, "262144",
     "the rings' pipeline segment, in bytes (64 to 16777216)"},
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
    // MPI_Init finds the other ranks through mpirun's environment: trellis-train and
    // trellis-bench start the ranks of this backend under mpirun.
    .launch = trellis::LaunchNeed::mpirun,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
