// Runs the mpi backend's test cases on every rank mpirun started.
//
// One MPI world per process: the world communicator is made here, through the plugin registry,
// before any test case, and destroyed after the last (which finalises MPI). mpirun's environment
// gives the rank and size, as trellis-run's would. --small-all-reduce-bytes=N and
// --ring-all-reduce-bytes=N set the backend's options of those names.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mpi_test_support.h"
#include "trellis/plugin_registry.h"

namespace {

std::shared_ptr<trellis::Communicator> the_world;
bool ring_all_reduce_off = false;  // --ring-all-reduce-bytes=0

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

}  // namespace

trellis::Communicator& trellis::mpi_test::world() {
  return *the_world;
}

bool trellis::mpi_test::ring_all_reduce_in_use() {
  return !ring_all_reduce_off && the_world->size() > 1 && the_world->size() < 4;
}

int main(int argc, char** argv) {
  trellis::Options options;
  std::vector<char*> doctest_args;
  const std::pair<std::string, const char*> flags[] = {
      {"--small-all-reduce-bytes=", "small_all_reduce_bytes"},
      {"--ring-all-reduce-bytes=", "ring_all_reduce_bytes"},
  };
  for (int i = 0; i < argc; ++i) {
    bool taken = false;
    for (const auto& [flag, key] : flags) {
      if (std::strncmp(argv[i], flag.c_str(), flag.size()) == 0) {
        const std::int64_t value = std::atoll(argv[i] + flag.size());
        options.set(key, value);
        if (std::string(key) == "ring_all_reduce_bytes") ring_all_reduce_off = value == 0;
        taken = true;
      }
    }
    if (!taken) doctest_args.push_back(argv[i]);
  }
  trellis::CommInit init;
  init.rank = env_int("OMPI_COMM_WORLD_RANK", 0);
  init.world_size = env_int("OMPI_COMM_WORLD_SIZE", 1);
  init.timeout = std::chrono::seconds(20);
  init.options = &options;
  int result = 1;
  {
    const trellis::PluginRegistry registry =
        trellis::PluginRegistry::discover({{TRELLIS_TEST_MPI_PLUGIN, "the build tree"}});
    try {
      the_world = registry.make_comm("mpi", init);
    } catch (const std::exception& error) {
      std::cerr << "could not make the world communicator: " << error.what() << "\n";
      return 1;
    }
    doctest::Context context(static_cast<int>(doctest_args.size()), doctest_args.data());
    if (init.rank != 0) {  // rank 0 reports; the others only their failures
      context.setOption("minimal", true);
      context.setOption("no-colors", true);
    }
    result = context.run();
    the_world.reset();
  }
  return result;
}
