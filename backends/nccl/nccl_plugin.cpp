// The plugin descriptor of the nccl communication backend.
#include <string>

#include "nccl_communicator.h"
#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::Communicator> make_nccl(const trellis::CommInit& init) {
  return trellis::nccl::NcclCommunicator::make_world(init);
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  if (query.device != trellis::DeviceKind::cuda) {
    problems.push_back({"comm.backend",
                        "backend \"nccl\" moves GPU memory only; it needs [device] kind = "
                        "\"cuda\" (with kind = \"cpu\" use backend \"mpi\" or \"ucx\")"});
  }
  return problems;
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = "nccl",
    .version = "1.0.0",
    .summary =
        "NVIDIA NCCL: one GPU per rank, every operation on its own stream after compute; "
        "f32, i32 and bf16",
    .make_comm = &make_nccl,
    .make_layers = nullptr,
    .make_schedule = nullptr,
    .check = &check,
    .options = nullptr,
    .option_count = 0,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
