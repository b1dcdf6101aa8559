// launch_probe PLUGIN_DIR [BARRIERS]: what a rank does first in a real run, for the launcher tests.
// Reads its rank environment, makes the world communicator through create_world (the
// test-store-barrier backend in PLUGIN_DIR, so every rank meets the others through the store),
// passes BARRIERS barriers (2) and prints one line saying who it is. Exit 0 on success, 1 with
// the error otherwise.
#include <cstdio>
#include <string>

#include "launch/rank_environment.h"
#include "launch/world.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: launch_probe PLUGIN_DIR [BARRIERS]\n");
    return 2;
  }
  try {
    const trellis::RankEnvironment env = trellis::RankEnvironment::from_process();
    const trellis::PluginRegistry registry =
        trellis::PluginRegistry::discover({{argv[1], "launch_probe"}});
    const trellis::Options no_options;
    std::shared_ptr<trellis::Communicator> world = trellis::create_world(
        registry, "test-store-barrier", no_options, env, std::chrono::seconds(20));
    const int barriers = argc > 2 ? std::stoi(argv[2]) : 2;
    for (int i = 0; i < barriers; ++i) world->barrier()->wait();
    std::printf(
        "rank %d of %d (local %d of %d, node %d, launcher %s, backend %s, store %s%s): "
        "%d barriers passed\n",
        world->rank(), world->size(), env.local_rank, env.local_world_size, env.node_rank,
        trellis::launcher_name(env.launcher), world->backend(), env.store.c_str(),
        env.serve_store ? ", served here" : "", barriers);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "launch_probe: %s\n", e.what());
    return 1;
  }
}
