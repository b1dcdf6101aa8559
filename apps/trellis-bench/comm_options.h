// The command line of `trellis-bench comm` (DESIGN.md, "CLI"), in nccl-tests' conventions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "comm_ops.h"
#include "trellis/tensor.h"

namespace trellis::bench {

extern const char* const kCommUsage;

// The name of the baseline "backend": raw blocking MPI calls on MPI_COMM_WORLD made by the
// bench itself, no plugin in between.
constexpr const char* kMpiRaw = "mpi-raw";

struct CommBenchOptions {
  std::vector<std::string> backends;  // in the order given
  int nproc = 1;                      // ranks to launch (outside any launcher)
  bool nproc_given = false;
  BenchOp op = BenchOp::all_reduce;
  std::int64_t min_bytes = 0;
  std::int64_t max_bytes = 0;
  std::int64_t factor = 2;  // each size is the one before x factor
  int iters = 20;
  int warmup = 5;
  bool check = true;
  DType dtype = DType::f32;
  int root = 0;           // broadcast and reduce
  std::string json_path;  // empty: no JSON
  int timeout_s = 300;    // the longest one size of one placement may take, on any rank
  // "--option BACKEND.KEY=VALUE" as given: a [comm.BACKEND] option, checked against the plugin's
  // declared options when the plugins are found (backend_options.h).
  std::vector<std::string> backend_options;
  bool help = false;
};

// Parses the words after "comm". Throws InputError naming the problem (the caller adds the
// usage and exits 2). Checks everything that does not need the plugins or the world size.
CommBenchOptions parse_comm_options(const std::vector<std::string>& words);

// The words that give `options` back to parse_comm_options(): how a launcher starts the ranks.
std::vector<std::string> comm_words(const CommBenchOptions& options);

// The sizes measured: min, min x factor, ... up to max (both included when reached).
std::vector<std::int64_t> sweep_sizes(const CommBenchOptions& options);

}  // namespace trellis::bench
