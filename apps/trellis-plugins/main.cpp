// trellis-plugins [--path DIR]... [--verbose]
//
// Lists the plugins found along TRELLIS_PLUGIN_PATH, the --path entries (which stand for a run's
// [plugins] paths) and the install's plugin directory: kind, name, version, summary and file, and
// why a plugin cannot be used when it cannot. Then the files that were skipped and the search path.
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/run_environment.h"
#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace {

constexpr const char* kUsage =
    "usage: trellis-plugins [--path DIR]... [--verbose]\n"
    "\n"
    "Lists the Trellis plugins found, in search order: the directories on TRELLIS_PLUGIN_PATH\n"
    "(':'-separated), each --path (as a run's [plugins] paths), then the install's plugin\n"
    "directory. An entry may also name one plugin file.\n"
    "\n"
    "  --path DIR     search DIR too (repeatable); also --path=DIR\n"
    "  --verbose, -v  also list each plugin's options\n"
    "  --help, -h     show this help\n";

struct Arguments {
  std::vector<std::string> paths;
  bool verbose = false;
  bool help = false;
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (arg == "--verbose" || arg == "-v") {
      args.verbose = true;
    } else if (arg == "--path") {
      if (i + 1 >= argc) throw trellis::InputError("--path needs a directory or file after it");
      args.paths.emplace_back(argv[++i]);
    } else if (arg.starts_with("--path=")) {
      args.paths.emplace_back(arg.substr(7));
      if (args.paths.back().empty()) throw trellis::InputError("--path= needs a directory or file");
    } else {
      throw trellis::InputError("unknown argument '" + std::string(arg) + "'");
    }
  }
  return args;
}

// Pads `text` to `width` columns.
std::string cell(const std::string& text, std::size_t width) {
  return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
}

void print_options(const trellis::PluginRegistry& registry, const trellis::PluginInfo& plugin,
                   const std::string& indent) {
  const std::vector<trellis::OptionSpec> options = registry.options(plugin.kind, plugin.name);
  if (options.empty()) {
    std::cout << indent << "no options\n";
    return;
  }
  for (const trellis::OptionSpec& option : options) {
    std::cout << indent << "option " << option.key << " (" << trellis::option_type_name(option.type)
              << ", default " << (option.default_value ? option.default_value : "none")
              << "): " << (option.help ? option.help : "") << "\n";
  }
}

void print_problem(const std::string& indent, const std::string& problem) {
  std::cout << indent << "PROBLEM: " << problem << "\n";
}

void print_plugins(const trellis::PluginRegistry& registry, bool verbose) {
  const std::vector<trellis::PluginInfo>& plugins = registry.plugins();
  if (plugins.empty()) {
    std::cout << "No plugins found.\n";
    return;
  }
  std::size_t kind_w = 4, name_w = 4, version_w = 7, summary_w = 7;
  for (const trellis::PluginInfo& p : plugins) {
    kind_w = std::max(kind_w, std::string(trellis::plugin_kind_name(p.kind)).size());
    name_w = std::max(name_w, p.name.size());
    version_w = std::max(version_w, p.version.size());
    summary_w = std::max(summary_w, p.summary.size());
  }
  const std::string indent(kind_w + 2, ' ');
  std::cout << cell("KIND", kind_w + 2) << cell("NAME", name_w + 2)
            << cell("VERSION", version_w + 2) << cell("SUMMARY", summary_w + 2) << "FILE\n";
  for (const trellis::PluginInfo& p : plugins) {
    std::cout << cell(trellis::plugin_kind_name(p.kind), kind_w + 2) << cell(p.name, name_w + 2)
              << cell(p.version, version_w + 2) << cell(p.summary, summary_w + 2) << p.file.string()
              << "\n";
    if (!p.problem.empty()) {
      print_problem(indent, p.problem);
      continue;
    }
    // A run naming a plugin that two files provide fails (see PluginRegistry::find).
    std::string others;
    for (const trellis::PluginInfo& other : plugins) {
      if (&other != &p && other.problem.empty() && other.kind == p.kind && other.name == p.name) {
        others += (others.empty() ? "" : ", ") + other.file.string();
      }
    }
    if (!others.empty()) {
      print_problem(indent, "'" + p.name + "' is also provided by " + others +
                                ": remove one of them, or a run naming it fails");
      continue;
    }
    if (verbose) print_options(registry, p, indent);
  }
}

void print_search(const trellis::PluginRegistry& registry) {
  if (!registry.skipped().empty()) {
    std::cout << "\nSkipped files:\n";
    for (const trellis::SkippedFile& s : registry.skipped()) {
      std::cout << "  " << s.file.string() << ": " << s.reason << "\n";
    }
  }
  std::cout << "\nSearched, in order:\n";
  for (const trellis::PluginSearchDir& entry : registry.searched()) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(entry.path, ec);
    std::cout << "  " << entry.path.string() << "  (" << entry.origin
              << (exists ? "" : "; does not exist") << ")\n";
  }
}

int run(int argc, char** argv) {
  const Arguments args = parse_arguments(argc, argv);
  if (args.help) {
    std::cout << kUsage;
    return 0;
  }
  const std::optional<std::string> plugin_path =
      trellis::RunEnvironment::from_process().plugin_path;
  const trellis::PluginRegistry registry =
      trellis::PluginRegistry::discover(trellis::PluginRegistry::search_path(
          plugin_path ? plugin_path->c_str() : nullptr, args.paths));
  print_plugins(registry, args.verbose);
  print_search(registry);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-plugins: " << e.what() << "\n";
    // A bad argument gets the usage; a plugin error's message already says what to do.
    if (dynamic_cast<const trellis::PluginError*>(&e) == nullptr) std::cerr << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "trellis-plugins: " << e.what() << "\n";
    return 1;
  }
}
