// A rank that mpirun did not start is an MPI world of one: told the world has 2 ranks, the
// factory says how to start the ranks.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "trellis/comm.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;

TEST_CASE("an MPI singleton told of a world of 2 ranks is an error that says to use mpirun") {
  // Started by ctest directly: Open MPI makes this process a singleton.
  REQUIRE(std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr);
  const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_MPI_PLUGIN, "the build tree"}});
  CommInit init;
  init.rank = 1;
  init.world_size = 2;
  std::string message;
  try {
    registry.make_comm("mpi", init);
  } catch (const InputError& error) {
    message = error.what();
  }
  CHECK(message.find("this process is MPI rank 0 of 1, but Trellis started it as rank 1 of 2. "
                     "The ranks were not started by mpirun") != std::string::npos);
  CHECK(message.find("start the ranks with `mpirun -n 2 <command>` or `trellis-run --mpirun -n 2 "
                     "-- <command>` (trellis-train does this itself when [comm] backend = "
                     "\"mpi\")") != std::string::npos);
  MESSAGE(message);
}
