// Test plugin "solo": a communicator for a world of one rank. Every collective over one rank is a
// copy, so it is the smallest real backend; it also declares options, for options() tests.
// Built again as "solo-2-2" (TEST_SOLO_NAME, TEST_SOLO_ABI_MINOR): the same code declaring ABI 2.2,
// whose Communicator had no all_to_all_v, which core must then never call.
#include <cstring>

#include "trellis/error.h"
#include "trellis/plugin.h"

#ifndef TEST_SOLO_NAME
#define TEST_SOLO_NAME "solo"
#endif
#ifndef TEST_SOLO_ABI_MINOR
#define TEST_SOLO_ABI_MINOR trellis::kAbiVersion.minor
#endif

namespace {

class SoloCommunicator final : public trellis::Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return TEST_SOLO_NAME; }

 protected:
  trellis::WorkPtr do_all_reduce(const trellis::Tensor& input, const trellis::Tensor& output,
                                 trellis::ReduceOp) override {
    // Communicator::all_reduce has checked the tensors: same dtype and size, on the cpu.
    if (input.data_ptr() != output.data_ptr()) {  // in place needs no copy
      std::memcpy(output.data_ptr(), input.data_ptr(), input.nbytes());
    }
    return trellis::completed_work();
  }
  trellis::WorkPtr do_all_to_all_v(const trellis::Tensor& input,
                                   std::span<const std::int64_t> send_counts,
                                   const trellis::Tensor& output,
                                   std::span<const std::int64_t>) override {
    std::memcpy(output.data_ptr(), input.data_ptr(),
                static_cast<std::size_t>(send_counts[0]) * trellis::dtype_size(input.dtype()));
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
    .abi = {trellis::kAbiVersion.major, TEST_SOLO_ABI_MINOR},
    .kind = trellis::PluginKind::comm,
    .name = TEST_SOLO_NAME,
    .version = "1.2.3",
    .summary = "one-rank communicator for tests",
    .make_comm = &make,
    .options = options,
    .option_count = std::size(options),
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
