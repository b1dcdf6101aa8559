// Test plugins with one thing wrong in their descriptor each. The CMakeLists builds this file
// several times, choosing the fault with compile definitions:
//   TEST_NAME        the descriptor's name (a string literal, or nullptr)
//   TEST_KIND        the declared kind, as a number (comm 1, layers 2, schedule 3; others unknown)
//   TEST_ABI_MAJOR / TEST_ABI_MINOR
//   TEST_COMM_FACTORY / TEST_LAYERS_FACTORY / TEST_SCHEDULE_FACTORY   &make_*, default nullptr
// The registry must never call the make_* factories of a faulty descriptor, so they throw.
// make_nothing is the fault of a correct descriptor: a factory that returns no object.
#include "trellis/error.h"
#include "trellis/plugin.h"

#ifndef TEST_COMM_FACTORY
#define TEST_COMM_FACTORY nullptr
#endif
#ifndef TEST_LAYERS_FACTORY
#define TEST_LAYERS_FACTORY nullptr
#endif
#ifndef TEST_SCHEDULE_FACTORY
#define TEST_SCHEDULE_FACTORY nullptr
#endif

namespace {

[[noreturn]] void called() {
  throw trellis::Error("the factory of a plugin with a faulty descriptor was called");
}
[[maybe_unused]] std::unique_ptr<trellis::Communicator> make_comm(const trellis::CommInit&) {
  called();
}
[[maybe_unused]] std::unique_ptr<trellis::LayerFamily> make_layers(
    const trellis::LayerFamilyInit&) {
  called();
}
[[maybe_unused]] std::unique_ptr<trellis::Schedule> make_schedule(const trellis::ScheduleInit&) {
  called();
}
[[maybe_unused]] std::unique_ptr<trellis::Schedule> make_nothing(const trellis::ScheduleInit&) {
  return nullptr;
}

const trellis::PluginDescriptor descriptor{
    .abi = {TEST_ABI_MAJOR, TEST_ABI_MINOR},
    .kind = static_cast<trellis::PluginKind>(TEST_KIND),
    .name = TEST_NAME,
    .version = "0.0.1",
    .summary = "a plugin with a faulty descriptor, for tests",
    .make_comm = TEST_COMM_FACTORY,
    .make_layers = TEST_LAYERS_FACTORY,
    .make_schedule = TEST_SCHEDULE_FACTORY,
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
