// Runs the mpi backend's test cases on every rank mpirun started.
//
// One MPI world per process: the world communicator is made here, through the plugin registry,
// before any test case, and destroyed after the last (which finalises MPI). mpirun's environment
// gives the rank and size, as trellis-run's would. --small-all-reduce-bytes=N sets the backend's
// option of that name.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "mpi_test_support.h"
#include "trellis/plugin_registry.h"

namespace {

std::shared_ptr<trellis::Communicator> the_world;

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

}  // namespace

trellis::Communicator& trellis::mpi_test::world() {
  return *the_world;
}

int main(int argc, char** argv) {
  trellis::Options options;
  std::vector<char*> doctest_args;
  const std::string flag = "--small-all-reduce-bytes=";
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], flag.c_str(), flag.size()) == 0) {
      options.set("small_all_reduce_bytes", std::int64_t{std::atoll(argv[i] + flag.size())});
    } else {
      doctest_args.push_back(argv[i]);
    }
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
