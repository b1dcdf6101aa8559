// The backend as a run gets it: create_world() with the launcher's environment and store.
#include "launch/world.h"
#include "rank_world.h"

namespace trellis::ucx_test {

TEST_CASE("create_world makes a ucx world of the launcher's ranks") {
  const auto world_comm =
      create_world(registry(), "ucx", Options{}, environment(), std::chrono::seconds(30));
  const int n = env_world_size(), me = env_rank();
  CHECK(world_comm->size() == n);
  CHECK(world_comm->rank() == me);
  // A world of one is core's SelfCommunicator, whatever the backend.
  if (n > 1) CHECK(std::string(world_comm->backend()) == "ucx");
  Tensor x = filled(DType::f32, 1000, [me](std::int64_t i) { return data(me, i); });
  world_comm->all_reduce(x, x, ReduceOp::sum)->wait();
  CHECK(first_mismatch(x, [n](std::int64_t i) {
          double s = 0;
          for (int r = 0; r < n; ++r) s += data(r, i);
          return s;
        }) == -1);
}

}  // namespace trellis::ucx_test
