#include "plugin/library_probe.h"

#include <dlfcn.h>

#include <algorithm>
#include <exception>
#include <ios>
#include <string>
#include <vector>

// library_info.hpp in Boost 1.74 uses std::vector without including it.
#include <boost/dll/library_info.hpp>

namespace trellis::plugin_detail {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& wanted) {
  return std::find(names.begin(), names.end(), wanted) != names.end();
}

}  // namespace

ProbeResult probe_library(const std::filesystem::path& file) {
  using Verdict = ProbeResult::Verdict;
  try {
    boost::dll::library_info info(file);
    // BOOST_DLL_ALIAS places the alias in its own section, "boostdll"; asking for that section's
    // symbols reads far less than listing every symbol of the library.
    const std::vector<std::string> aliases = info.symbols("boostdll");
    if (contains(aliases, kDescriptorAlias)) return {Verdict::plugin, {}};
    // library_info reads the static symbol table, which `strip` removes. A stripped library still
    // has its alias section and its dynamic symbols, so it is loaded and checked with dlsym.
    if (info.symbols().empty() && contains(info.sections(), "boostdll")) {
      return {Verdict::maybe_plugin, {}};
    }
    return {Verdict::not_plugin, "not a Trellis plugin: exports no trellis_plugin descriptor"};
  } catch (const std::ios_base::failure&) {
    // library_info reads with stream exceptions on: a file shorter than an ELF header, or one it
    // cannot open, ends here with a message about iostreams that would only confuse.
    return {Verdict::not_a_library, "not a shared library (too short to be one, or unreadable)"};
  } catch (const std::exception& e) {
    return {Verdict::not_a_library, std::string("not a shared library (") + e.what() + ")"};
  }
}

LoadResult load_plugin_library(const std::filesystem::path& file) {
  // Boost.DLL 1.74 reports every dlopen failure as "Bad file descriptor" and drops the loader's
  // message, which is the part that tells the user what is missing. So the file is opened here
  // first; when that succeeds, Boost's load below only takes another reference to it.
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* message = ::dlerror();
    std::string error = message != nullptr ? message : "the dynamic loader gave no reason";
    // The loader starts with the file's path, which every message of ours already shows.
    if (const std::string prefix = file.string() + ": "; error.starts_with(prefix)) {
      error.erase(0, prefix.size());
    }
    return {nullptr, error};
  }
  LoadResult result;
  try {
    result.library = std::make_shared<boost::dll::shared_library>(
        file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  ::dlclose(handle);
  return result;
}

}  // namespace trellis::plugin_detail
