// Test plugin "solo": a communicator for a world of one rank. Every collective over one rank is a
// copy, so it is the smallest real backend; it also declares options, for options() tests.
#include <cstring>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

class SoloCommunicator final : public trellis::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "solo"; }

 protected:
  trellis::WorkPtr do_all_reduce(const trellis::Tensor& input, const trellis::Tensor& output,
                                 trellis::ReduceOp) override {
    // Communicator::all_reduce has checked the tensors: same dtype and size, on the cpu.
    if (input.data_ptr() != output.data_ptr()) {  // in place needs no copy
      std::memcpy(output.data_ptr(), input.data_ptr(), input.nbytes());
    }
    return trellis::completed_work();
  }
  trellis::WorkPtr do_barrier() override { return trellis::completed_work(); }
};

std::unique_ptr<trellis::Communicator> make(const trellis::CommInit& init) {
  if (init.world_size != 1) {
    throw trellis::InputError("the solo backend runs one rank only, not " +
                              std::to_string(init.world_size));
  }
  return std::make_unique<SoloCommunicator>();
}

const trellis::OptionSpec options[] = {
    {"greeting", trellis::OptionType::string, "\"hello\"", "what the backend says at start"},
    {"spin", trellis::OptionType::integer, "0", "busy-wait iterations per call"},
};

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = "solo",
    .version = "1.2.3",
    .summary = "one-rank communicator for tests",
    .make_comm = &make,
    .options = options,
    .option_count = std::size(options),
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
