#include "launch/rank_environment.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "comm/store_spec.h"
#include "trellis/error.h"

namespace trellis {

const char* launcher_name(Launcher launcher) noexcept {
  switch (launcher) {
    case Launcher::none:
      return "none";
    case Launcher::trellis_run:
      return "trellis-run";
    case Launcher::mpirun:
      return "mpirun";
    case Launcher::srun:
      return "srun";
  }
  return "?";
}

namespace {

std::optional<long> parse_long(std::string_view text) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads the integer variables of one launcher, naming it in every complaint.
class Reader {
 public:
  Reader(const EnvLookup& lookup, Launcher launcher) : lookup_(lookup), launcher_(launcher) {}

  // The variable as an integer in [low, high]; `fallback` when unset (none: it must be set).
  int integer(const char* name, int low, long high, std::optional<int> fallback = std::nullopt) {
    const char* value = lookup_(name);
    if (value == nullptr) {
      if (fallback) return *fallback;
      throw InputError(std::string(name) + " is not set, though this process looks started by " +
                       launcher_name(launcher_) + "; " + launcher_name(launcher_) +
                       " sets it for every rank");
    }
    const std::optional<long> parsed = parse_long(value);
    if (!parsed || *parsed < low || *parsed > high) {
      throw InputError(std::string(name) + "=" + value + " (set by " + launcher_name(launcher_) +
                       ") is not valid; valid: an integer from " + std::to_string(low) + " to " +
                       std::to_string(high));
    }
    return static_cast<int>(*parsed);
  }

 private:
  const EnvLookup& lookup_;
  Launcher launcher_;
};

// Slurm's compressed tasks-per-node list, "2(x3),1": 2 tasks on each of nodes 0-2, 1 on node 3.
// Returns the count for `node`, or nullopt when the text does not parse or is too short.
std::optional<int> slurm_tasks_on_node(std::string_view list, int node) {
  int first_node = 0;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    long repeat = 1;
    if (const std::size_t paren = item.find("(x"); paren != std::string_view::npos) {
      if (!item.ends_with(")")) return std::nullopt;
      const std::optional<long> r = parse_long(item.substr(paren + 2, item.size() - paren - 3));
      if (!r || *r < 1) return std::nullopt;
      repeat = *r;
      item = item.substr(0, paren);
    }
    const std::optional<long> tasks = parse_long(item);
    if (!tasks || *tasks < 1) return std::nullopt;
    if (node < first_node + repeat) return static_cast<int>(*tasks);
    first_node += static_cast<int>(repeat);
  }
  return std::nullopt;
}

// A job id made safe as a directory name.
std::string file_name_part(std::string_view id) {
  std::string out;
  for (unsigned char c : id) {
    out += std::isalnum(c) || c == '-' || c == '.' ? static_cast<char>(c) : '_';
  }
  return out;
}

// The store of an mpirun/srun job that did not set TRELLIS_STORE: a file store in /tmp, named by
// an id every rank of the job shares.
void default_job_store(RankEnvironment& env, const EnvLookup& lookup) {
  std::string id;
  std::string id_origin;
  if (env.launcher == Launcher::mpirun) {
    // Open MPI 4 exports the job id to every rank; PMIX_NAMESPACE covers Open MPI 5 (PRRTE).
    for (const char* name : {"OMPI_MCA_ess_base_jobid", "PMIX_NAMESPACE"}) {
      if (const char* value = lookup(name); value != nullptr && *value != '\0') {
        id = "ompi-" + file_name_part(value);
        id_origin = std::string(name) + "=" + value;
        break;
      }
    }
  } else {
    const char* job = lookup("SLURM_JOB_ID");
    const char* step = lookup("SLURM_STEP_ID");
    if (job != nullptr && step != nullptr) {
      id = "slurm-" + file_name_part(job) + "." + file_name_part(step);
      id_origin = std::string("SLURM_JOB_ID=") + job + ", SLURM_STEP_ID=" + step;
    }
  }
  const std::string launcher = launcher_name(env.launcher);
  if (id.empty()) {
    throw InputError(launcher + " started this process without a job id that every rank " +
                     "shares, so the ranks cannot find a common store; set TRELLIS_STORE " +
                     "(tcp:HOST:PORT served by rank 0, or file:DIR on a shared filesystem)");
  }
  if (env.local_world_size < env.world_size) {
    throw InputError(
        "the " + std::to_string(env.world_size) + " ranks of this " + launcher + " job are on " +
        "several nodes (" + std::to_string(env.local_world_size) + " on this one), and the " +
        "default store, a directory in /tmp, is seen by one node only; set TRELLIS_STORE for " +
        "every rank: tcp:HOST:PORT with HOST rank 0's node (rank 0 serves it; e.g. mpirun -x " +
        "TRELLIS_STORE=tcp:node001:29500), or file:DIR on a shared filesystem");
  }
  env.store = "file:/tmp/trellis-store-" + id;
  env.store_origin = "a file store on this node for the " + launcher + " job (" + id_origin + ")";
}

}  // namespace

RankEnvironment RankEnvironment::detect(const EnvLookup& lookup) {
  RankEnvironment env;
  const std::optional<EnvSetting> world = launcher_world_size(lookup);
  if (!world) return env;  // a lone process

  constexpr long kMaxRanks = 1 << 20;
  if (world->name == rank_env::kWorldSize) {
    env.launcher = Launcher::trellis_run;
    Reader read(lookup, env.launcher);
    env.world_size = read.integer(rank_env::kWorldSize, 1, kMaxRanks);
    env.rank = read.integer(rank_env::kRank, 0, env.world_size - 1);
    env.local_world_size = read.integer(rank_env::kLocalWorldSize, 1, env.world_size, 1);
    env.local_rank = read.integer(rank_env::kLocalRank, 0, env.local_world_size - 1, 0);
    env.node_rank = read.integer(rank_env::kNodeRank, 0, env.world_size - 1, 0);
  } else if (world->name == "OMPI_COMM_WORLD_SIZE") {
    env.launcher = Launcher::mpirun;
    Reader read(lookup, env.launcher);
    env.world_size = read.integer("OMPI_COMM_WORLD_SIZE", 1, kMaxRanks);
    env.rank = read.integer("OMPI_COMM_WORLD_RANK", 0, env.world_size - 1);
    env.local_world_size = read.integer("OMPI_COMM_WORLD_LOCAL_SIZE", 1, env.world_size, 1);
    env.local_rank = read.integer("OMPI_COMM_WORLD_LOCAL_RANK", 0, env.local_world_size - 1, 0);
    // Open MPI exports no node index (OMPI_COMM_WORLD_NODE_RANK is a rank within the node). With
    // its default placement, by slot with equal ranks per node, the node is rank / local size.
    env.node_rank = env.rank / env.local_world_size;
  } else {
    env.launcher = Launcher::srun;
    Reader read(lookup, env.launcher);
    env.world_size = read.integer("SLURM_NTASKS", 1, kMaxRanks);
    env.rank = read.integer("SLURM_PROCID", 0, env.world_size - 1);
    env.node_rank = read.integer("SLURM_NODEID", 0, env.world_size - 1, 0);
    std::optional<int> local_size;
    for (const char* name : {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"}) {
      if (const char* list = lookup(name); list != nullptr && !local_size) {
        local_size = slurm_tasks_on_node(list, env.node_rank);
      }
    }
    env.local_world_size = local_size.value_or(1);
    env.local_rank = read.integer("SLURM_LOCALID", 0, kMaxRanks, 0);
    env.local_world_size = std::max(env.local_world_size, env.local_rank + 1);
  }

  if (const char* store = lookup(rank_env::kStore); store != nullptr && *store != '\0') {
    env.store = store;
    env.store_origin = std::string(rank_env::kStore) + "=" + store;
    const StoreSpec spec = parse_store_spec(env.store);
    env.serve_store = env.launcher != Launcher::trellis_run && env.rank == 0 &&
                      spec.kind == StoreSpec::Kind::tcp &&
                      lookup(rank_env::kStoreHosted) == nullptr;
  } else if (env.launcher == Launcher::trellis_run) {
    if (env.world_size > 1) {
      throw InputError(std::string(rank_env::kStore) +
                       " is not set, though this process looks started by trellis-run (" +
                       world->text() + "); trellis-run sets it for every rank");
    }
  } else {
    default_job_store(env, lookup);
  }
  return env;
}

RankEnvironment RankEnvironment::from_process() {
  return detect(RunEnvironment::from_process().lookup());
}

}  // namespace trellis
