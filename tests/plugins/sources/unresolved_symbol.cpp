// Test plugin "unresolved": a correct descriptor in a library that cannot be loaded, because it
// calls a function no library defines. Loading with every symbol resolved (RTLD_NOW) must fail
// with the loader's message instead of crashing later.
#include "trellis/plugin.h"

extern "C" int trellis_test_function_nobody_defines();

namespace {

class Never final : public trellis::Schedule {
 public:
  std::vector<trellis::Action> actions(const trellis::ScheduleQuery&) const override {
    return std::vector<trellis::Action>(trellis_test_function_nobody_defines());
  }
};

std::unique_ptr<trellis::Schedule> make(const trellis::ScheduleInit&) {
  return std::make_unique<Never>();
}

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::schedule,
    .name = "unresolved",
    .version = "0.0.1",
    .summary = "needs a symbol nobody defines",
    .make_schedule = &make,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
