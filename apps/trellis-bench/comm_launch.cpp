#include "comm_launch.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "comm_json.h"
#include "launch/backend_launch.h"
#include "launch/launcher.h"
#include "trellis/plugin_registry.h"

namespace trellis::bench {

namespace {

std::string part_path(const CommBenchOptions& options, const std::string& backend) {
  return options.json_path + ".part-" + backend;
}

}  // namespace

int launch_comm_bench(const CommBenchOptions& options, const std::string& self) {
  std::error_code ec;
  const std::filesystem::path reporter = std::filesystem::path(self).parent_path() / "trellis-run";
  const bool have_reporter = std::filesystem::is_regular_file(reporter, ec);

  int result = 0;
  std::vector<std::string> parts;
  std::optional<PluginRegistry> registry;  // found when a backend that is a plugin comes up
  for (const std::string& backend : options.backends) {
    CommBenchOptions one = options;
    one.backends = {backend};
    one.backend_options.clear();  // each launch gets its own backend's options only
    for (const std::string& text : options.backend_options) {
      if (text.starts_with(backend + ".")) one.backend_options.push_back(text);
    }
    if (!options.json_path.empty()) one.json_path = part_path(options, backend);
    LaunchOptions launch_options;
    launch_options.nproc = options.nproc;
    if (backend == kMpiRaw) {  // not a plugin: raw MPI calls, which need MPI's launcher
      launch_options.mpirun = true;
    } else {
      if (!registry)
        registry = PluginRegistry::discover(
            PluginRegistry::search_path(std::getenv("TRELLIS_PLUGIN_PATH"), {}));
      apply_backend_launch_need(*registry, backend, launch_options);
    }
    launch_options.timeout = std::chrono::seconds(options.timeout_s);
    launch_options.name = "trellis-bench";
    if (have_reporter) launch_options.rank_reporter = reporter.string();
    launch_options.command = {self, "comm"};
    for (std::string& word : comm_words(one)) launch_options.command.push_back(std::move(word));

    const int code = launch(launch_options);
    if (code != 0) {
      std::fprintf(stderr, "trellis-bench: backend %s: the launch of %d ranks failed (exit %d)\n",
                   backend.c_str(), options.nproc, code);
      if (result == 0) result = code;
    } else if (!one.json_path.empty()) {
      parts.push_back(one.json_path);
    }
  }
  if (!options.json_path.empty()) {
    std::vector<json::Document> objects;
    for (const std::string& part : parts) {
      for (json::Document& object : read_json_list(part)) objects.push_back(std::move(object));
      std::filesystem::remove(part, ec);
    }
    write_json_list(options.json_path, objects);
  }
  return result;
}

}  // namespace trellis::bench
