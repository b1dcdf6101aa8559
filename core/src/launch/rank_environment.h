// RankEnvironment: who this process is in a run, as its launcher told it through the environment.
//
//   launcher      variables read
//   trellis-run   TRELLIS_RANK, TRELLIS_WORLD_SIZE, TRELLIS_LOCAL_RANK, TRELLIS_LOCAL_WORLD_SIZE,
//                 TRELLIS_NODE_RANK, TRELLIS_STORE
//   mpirun        OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE (Open MPI)
//   srun          SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODEID,
//                 SLURM_STEP_TASKS_PER_NODE (or SLURM_TASKS_PER_NODE)
//   none          a single process: rank 0 of 1
//
// The launcher is the one whose world-size variable launcher_world_size() finds first, so the
// config loader and this agree on whether a launcher started the process.
//
// The store: TRELLIS_STORE when set (trellis-run always sets it). Under mpirun or srun without it,
// a file store in /tmp named by the job (Open MPI's OMPI_MCA_ess_base_jobid, or PMIX_NAMESPACE;
// Slurm's SLURM_JOB_ID.SLURM_STEP_ID), which only works when every rank is on one node: a job whose
// ranks span nodes must set TRELLIS_STORE=tcp:HOST:PORT (rank 0 serves it, HOST being rank 0's
// node) or file:DIR on a shared filesystem, and detection says so rather than letting the ranks
// wait for each other in two different /tmp directories.
#pragma once

#include <string>

#include "config/run_environment.h"

namespace trellis {

enum class Launcher : unsigned char { none, trellis_run, mpirun, srun };
const char* launcher_name(Launcher launcher) noexcept;  // "trellis-run", "mpirun", "srun", "none"

// The variables trellis-run sets for each rank.
namespace rank_env {
constexpr const char* kRank = "TRELLIS_RANK";
constexpr const char* kWorldSize = "TRELLIS_WORLD_SIZE";
constexpr const char* kLocalRank = "TRELLIS_LOCAL_RANK";
constexpr const char* kLocalWorldSize = "TRELLIS_LOCAL_WORLD_SIZE";
constexpr const char* kNodeRank = "TRELLIS_NODE_RANK";
constexpr const char* kStore = "TRELLIS_STORE";
// Set (to 1) by trellis-run when it starts ranks through mpirun: it serves TRELLIS_STORE itself,
// so rank 0 must not.
constexpr const char* kStoreHosted = "TRELLIS_STORE_HOSTED";
// "1" or "0": whether trellis-run's own standard output is a terminal. Ranks started through
// mpirun get a pseudo-terminal from it whatever the launcher writes to, so they ask this instead
// of isatty() before drawing a progress bar into a log file.
constexpr const char* kOutputTerminal = "TRELLIS_OUTPUT_TERMINAL";
}  // namespace rank_env

struct RankEnvironment {
  Launcher launcher = Launcher::none;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;        // among the ranks on this node
  int local_world_size = 1;  // ranks on this node
  int node_rank = 0;         // which node; under mpirun rank / local_world_size (see .cpp)
  std::string store;         // a store spec (store_spec.h); empty for a lone process
  std::string store_origin;  // where `store` came from, for messages
  // True when this process must serve the TCP store `store` names: rank 0 under mpirun or srun
  // with TRELLIS_STORE=tcp:HOST:PORT, unless trellis-run serves it (TRELLIS_STORE_HOSTED).
  bool serve_store = false;

  bool under_launcher() const noexcept { return launcher != Launcher::none; }

  // Reads the environment through `lookup`; throws InputError naming the variable when one is
  // missing or not a valid number, or when no usable store can be found.
  // A program passes its RunEnvironment's lookup(); from_process() captures the environment now,
  // for programs that have no RunEnvironment of their own (a wrapper, tests).
  static RankEnvironment detect(const EnvLookup& lookup);
  static RankEnvironment from_process();
};

}  // namespace trellis
