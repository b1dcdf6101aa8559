// Test plugin "test-comm": a comm backend that declares options, for the checks of
// [comm.test-comm] tables; its check rejects rails < 1.
#include <string>

#include "trellis/error.h"
#include "trellis/plugin.h"

namespace {

std::unique_ptr<trellis::Communicator> make(const trellis::CommInit&) {
  throw trellis::Error("test plugin: not for running");
}

std::vector<trellis::ConfigProblem> check(const trellis::RunQuery& query) {
  std::vector<trellis::ConfigProblem> problems;
  const std::int64_t rails = query.options->get_int("rails", 1);
  if (rails < 1) {
    problems.push_back({"comm.test-comm.rails", "rails " + std::to_string(rails) +
                                                    " is not a number of network rails; "
                                                    "valid: an integer >= 1"});
  }
  return problems;
}

const trellis::OptionSpec options[] = {
    {"tls", trellis::OptionType::string, "\"all\"", "transports to use"},
    {"rails", trellis::OptionType::integer, "1", "network rails per rank"},
    {"eager_limit", trellis::OptionType::number, "8192.0", "bytes sent eagerly"},
    {"verbose", trellis::OptionType::boolean, "false", "log every operation"},
};

const trellis::PluginDescriptor descriptor{
    .abi = trellis::kAbiVersion,
    .kind = trellis::PluginKind::comm,
    .name = "test-comm",
    .version = "0.0.1",
    .summary = "config tests: a backend with options",
    .make_comm = &make,
    .check = &check,
    .options = options,
    .option_count = sizeof options / sizeof options[0],
};

}  // namespace

TRELLIS_PLUGIN(descriptor)
