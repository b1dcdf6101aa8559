// Looking at a shared library before and while loading it, for the plugin registry.
//
// probe_library() reads the file's dynamic symbols (elf_dynamic_symbols.h), without loading it,
// so a library that is not a Trellis plugin never has its initialisers run. load_plugin_library()
// then loads a candidate and reports the dynamic loader's own message when that fails.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS 1
#endif
#include <boost/dll/shared_library.hpp>

namespace trellis::plugin_detail {

// The Boost.DLL alias every plugin exports (TRELLIS_PLUGIN in trellis/plugin.h).
inline constexpr const char* kDescriptorAlias = "trellis_plugin";

struct ProbeResult {
  enum class Verdict {
    plugin,         // exports the alias
    not_plugin,     // a shared library without the alias
    not_a_library,  // not an ELF shared library at all
  };
  Verdict verdict;
  std::string reason;  // for not_plugin and not_a_library: why, in words for the user
};

ProbeResult probe_library(const std::filesystem::path& file);

struct LoadResult {
  std::shared_ptr<boost::dll::shared_library> library;  // null when loading failed
  std::string error;                                    // the loader's message otherwise
};

// Loads `file` with every symbol resolved now (RTLD_NOW), so a missing dependency or symbol is
// reported here, with the loader's message, rather than killing the process at a later call.
LoadResult load_plugin_library(const std::filesystem::path& file);

}  // namespace trellis::plugin_detail
