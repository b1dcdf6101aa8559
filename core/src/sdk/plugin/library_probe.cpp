#include "plugin/library_probe.h"

#include <dlfcn.h>

#include <exception>
#include <string>

#include "plugin/elf_dynamic_symbols.h"

namespace trellis::plugin_detail {

ProbeResult probe_library(const std::filesystem::path& file) {
  using Verdict = ProbeResult::Verdict;
  try {
    if (defines_dynamic_symbol(file, kDescriptorAlias)) return {Verdict::plugin, {}};
    return {Verdict::not_plugin, "not a Trellis plugin: exports no trellis_plugin descriptor"};
  } catch (const NotASharedLibrary& e) {
    return {Verdict::not_a_library, e.what()};
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
