#include "comm_rank.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "backend_options.h"
#include "comm_json.h"
#include "comm_sweep.h"
#include "comm_table.h"
#include "device/cuda_device.h"
#include "kernels/compute_device.h"
#include "launch/world.h"
#include "mpi_raw_transport.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"
#include "trellis_transport.h"
#include "watchdog.h"

namespace trellis::bench {

namespace {

PluginRegistry discover_plugins(const RunEnvironment& process) {
  return PluginRegistry::discover(PluginRegistry::search_path(
      process.plugin_path ? process.plugin_path->c_str() : nullptr, {}));
}

bool uses_plugins(const CommBenchOptions& options) {
  for (const std::string& backend : options.backends) {
    if (backend != kMpiRaw) return true;
  }
  return false;
}

bool any_wrong(const std::vector<SweepRow>& rows) {
  for (const SweepRow& row : rows) {
    for (const PlacementFigures* f : {&row.out_of_place, &row.in_place}) {
      if (f->wrong && *f->wrong > 0) return true;
    }
  }
  return false;
}

// Whether `backend` moves GPU memory, as its plugin's own check says: it refuses a cpu run and
// accepts a cuda one (nccl). The plugin API has no other way to ask.
bool moves_gpu_memory(const PluginRegistry& registry, const std::string& backend,
                      const Options& options) {
  RunQuery query;
  query.options = &options;
  query.device = DeviceKind::cpu;
  if (registry.check(PluginKind::comm, backend, query).empty()) return false;
  query.device = DeviceKind::cuda;
  return registry.check(PluginKind::comm, backend, query).empty();
}

// Managed memory on this rank's GPU (as trellis-train picks it): the sweep fills and checks
// buffers from the host, which managed memory allows once each operation has completed, and a
// backend's wait() returns only then.
std::shared_ptr<Allocator> gpu_allocator(const std::string& backend,
                                         const RankEnvironment& environment) {
  return make_cuda_managed_allocator(
      cuda_device_of_rank(environment.local_rank, environment.local_world_size,
                          "backend " + backend + " moves GPU memory"));
}

}  // namespace

void check_backends_exist(const CommBenchOptions& options, const RunEnvironment& process) {
  std::optional<PluginRegistry> registry;
  for (const std::string& backend : options.backends) {
    if (backend == kMpiRaw) {
      if (!mpi_raw_available()) make_mpi_raw_transport();  // throws, saying why
      continue;
    }
    if (!registry) registry = discover_plugins(process);
    registry->find(PluginKind::comm, backend);  // throws PluginError listing what exists
    const Options own = backend_options(*registry, backend, options.backend_options);
    if (moves_gpu_memory(*registry, backend, own)) {
      // Before any rank starts: throws, with the reason, where no GPU works.
      cuda_device_of_rank(0, 1, "backend " + backend + " moves GPU memory");
    }
  }
}

int run_comm_rank(const CommBenchOptions& options, const RunEnvironment& process,
                  const RankEnvironment& environment) {
  if (options.root >= environment.world_size) {
    throw InputError("-r " + std::to_string(options.root) + " is not a rank of the world of " +
                     std::to_string(environment.world_size));
  }
  Watchdog watchdog("trellis-bench rank " + std::to_string(environment.rank));
  const std::chrono::seconds timeout(options.timeout_s);
  // MPI first, if the baseline runs: the mpi plugin then finds it initialised
  // (mpi_raw_transport.h).
  std::optional<MpiRawSession> mpi_session;
  for (const std::string& backend : options.backends) {
    if (backend == kMpiRaw && !mpi_session) mpi_session.emplace();
  }
  std::optional<PluginRegistry> registry;
  if (uses_plugins(options)) registry = discover_plugins(process);
  const std::shared_ptr<Allocator> host_allocator = make_cpu_allocator();
  const bool report = environment.rank == 0;

  std::vector<json::Document> objects;
  bool wrong = false;
  for (const std::string& backend : options.backends) {
    std::shared_ptr<Communicator> world;
    std::unique_ptr<BenchTransport> transport;
    std::shared_ptr<Allocator> allocator = host_allocator;
    std::string runs_as = backend;
    if (backend == kMpiRaw) {
      transport = make_mpi_raw_transport();
      if (transport->size() != environment.world_size) {
        throw InputError("backend mpi-raw: MPI sees a world of " +
                         std::to_string(transport->size()) + " but the launcher started " +
                         std::to_string(environment.world_size) +
                         " ranks; start it with mpirun (trellis-bench does when it launches "
                         "itself, or use trellis-run --mpirun)");
      }
    } else {
      const Options own = backend_options(*registry, backend, options.backend_options);
      if (moves_gpu_memory(*registry, backend, own)) {
        allocator = gpu_allocator(backend, environment);
      }
      watchdog.arm(timeout, "making the world communicator of backend " + backend);
      world = create_world(*registry, backend, own, environment, timeout, allocator->device());
      watchdog.disarm();
      runs_as = world->backend();
      transport = std::make_unique<TrellisTransport>(*world, allocator);
    }
    if (report) {
      print_table_header(stdout, options, backend, runs_as, transport->size());
    }
    const std::vector<SweepRow> rows = run_sweep(*transport, options, allocator, watchdog,
                                                 "backend " + backend, [&](const SweepRow& row) {
                                                   if (report)
                                                     print_table_row(stdout, options, row);
                                                 });
    if (report) {
      print_table_footer(stdout, rows);
      const std::vector<json::Document> mine =
          json_objects(options, backend, transport->size(), rows);
      objects.insert(objects.end(), mine.begin(), mine.end());
    }
    wrong = wrong || any_wrong(rows);
    transport.reset();
    world.reset();
  }
  if (report && !options.json_path.empty()) write_json_list(options.json_path, objects);
  if (wrong && report) std::fprintf(stderr, "trellis-bench: some results were wrong (#wrong)\n");
  return wrong ? 1 : 0;
}

}  // namespace trellis::bench
