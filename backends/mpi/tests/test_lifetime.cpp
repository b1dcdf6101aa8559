// One MPI world per process: worlds made while one is alive share MPI; a group that outlives its
// world fails its operations instead of crashing; MPI is finalised once, when the last
// communicator is gone, and a world asked for after that is a clear error.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "trellis/comm.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

using namespace trellis;
using doctest::Contains;

namespace {

CommInit init_from_mpirun() {
  CommInit init;
  init.rank = std::atoi(std::getenv("OMPI_COMM_WORLD_RANK"));
  init.world_size = std::atoi(std::getenv("OMPI_COMM_WORLD_SIZE"));
  init.timeout = std::chrono::seconds(20);
  return init;
}

Tensor ones(std::int64_t n) {
  static const std::shared_ptr<Allocator> cpu = make_cpu_allocator();
  Tensor t = Tensor::empty(Shape{n}, DType::f32, cpu);
  for (std::int64_t i = 0; i < n; ++i) t.data<float>()[i] = 1;
  return t;
}

}  // namespace

TEST_CASE("one MPI world per process, finalised when the last communicator is gone") {
  REQUIRE(std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr);
  const PluginRegistry registry =
      PluginRegistry::discover({{TRELLIS_TEST_MPI_PLUGIN, "the build tree"}});
  const CommInit init = init_from_mpirun();

  std::shared_ptr<Communicator> first = registry.make_comm("mpi", init);
  std::shared_ptr<Communicator> second = registry.make_comm("mpi", init);  // shares MPI
  std::unique_ptr<Communicator> group = first->split(0, first->rank());
  REQUIRE(group != nullptr);
  group->set_name("tensor group");

  // The world goes first: a mistake, reported, not a crash.
  std::ostringstream reported;
  std::streambuf* saved = std::cerr.rdbuf(reported.rdbuf());
  first.reset();
  std::cerr.rdbuf(saved);
  CHECK(reported.str().find("the world communicator was destroyed while 1 communicator(s) split "
                            "from it are alive") != std::string::npos);
  const Tensor t = ones(4);
  CHECK_THROWS_WITH_AS(group->all_reduce(t, t, ReduceOp::sum),
                       Contains("on group 'tensor group' (world ranks [0, 1]): the world "
                                "communicator it was split from has been destroyed"),
                       CommError);

  // MPI is still there for the other world.
  second->all_reduce(t, t, ReduceOp::sum)->wait();
  CHECK(t.data<float>()[3] == init.world_size);

  group.reset();
  second.reset();  // the last: MPI is finalised
  CHECK_THROWS_WITH_AS(registry.make_comm("mpi", init),
                       Contains("MPI cannot be initialised twice: one MPI world per process"),
                       InputError);
}
