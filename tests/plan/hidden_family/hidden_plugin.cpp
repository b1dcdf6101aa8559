// The descriptor of the "hidden" layer family (see CMakeLists.txt): 1d's layers and check under
// a name core has never heard of, with a cost description of its own.
#include "hidden_cost.h"
#include "tp1d_family.h"
#include "trellis/plugin.h"

#ifndef HIDDEN_FAMILY_NAME
#define HIDDEN_FAMILY_NAME "hidden"
#endif

namespace {

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::layers,
    .name = HIDDEN_FAMILY_NAME,
    .version = "0.1.0",
    .summary = "a third party's family for the planner's tests: 1d's layers, its own costs",
    .make_comm = nullptr,
    .make_layers = &trellis::tp1d::make_family,
    .make_schedule = nullptr,
    .check = &trellis::tp1d::check_run,
    .options = nullptr,
    .option_count = 0,
#ifdef HIDDEN_FAMILY_WITHOUT_COST
    .describe_cost = nullptr,
#else
    .describe_cost = &hidden_family::describe_cost,
#endif
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
