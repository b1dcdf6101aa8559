// The plugin descriptor of the ucx backend, and the factory that makes a rank's world.
#include "engine.h"
#include "trellis/error.h"
#include "trellis/plugin.h"
#include "ucx_communicator.h"
#include "ucx_options.h"

namespace {

using trellis::ucx::Engine;
using trellis::ucx::Group;
using trellis::ucx::UcxCommunicator;

std::unique_ptr<trellis::Communicator> make_world(const trellis::CommInit& init) {
  const trellis::ucx::UcxOptions options = trellis::ucx::read_options_or_throw(init.options);
  if (init.device != trellis::Device::cpu()) {
    throw trellis::UnsupportedError("backend ucx does not support " + init.device.str() +
                                    " devices; it moves host memory (use the nccl backend)");
  }
  if (init.world_size < 1 || init.rank < 0 || init.rank >= init.world_size) {
    throw trellis::InputError("backend ucx: rank " + std::to_string(init.rank) +
                              " is not a rank of a world of " + std::to_string(init.world_size));
  }
  auto engine =
      std::make_shared<Engine>(options, init.rank, init.world_size, init.store, init.timeout);
  auto group = std::make_shared<Group>();
  group->rank = init.rank;
  for (int r = 0; r < init.world_size; ++r) group->world_ranks.push_back(r);
  auto world = std::make_unique<UcxCommunicator>(engine, std::move(group), "world", init.timeout);
  // Meet every rank once before handing the world out: a rank that cannot reach another fails
  // here, at start-up, with the peer named, rather than in the middle of training.
  world->barrier()->wait();
  return world;
}

std::vector<trellis::ConfigProblem> check_run(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  trellis::ucx::read_options(query.options, problems);
  if (query.device != trellis::DeviceKind::cpu) {
    problems.push_back({"device.kind",
                        "backend ucx moves host memory only; use kind = \"cpu\" or the nccl "
                        "backend for GPUs"});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = "ucx",
    .version = "1.0.0",
    .summary =
        "UCX tag matching: shared memory on one machine, TCP/InfiniBand across nodes; "
        "pipelined ring and tree collectives",
    .make_comm = &make_world,
    .make_layers = nullptr,
    .make_schedule = nullptr,
    .check = &check_run,
    .options = trellis::ucx::option_specs().data(),
    .option_count = trellis::ucx::option_specs().size(),
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
