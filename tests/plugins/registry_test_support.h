// What the registry's tests share: the directories of the test plugins (built by this folder's
// CMakeLists.txt) and small helpers to search results and error messages.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "trellis/error.h"
#include "trellis/plugin_registry.h"

namespace trellis::test {

inline std::filesystem::path plugin_root() {
  return TRELLIS_TEST_PLUGIN_ROOT;
}
// One usable plugin per kind: comm "solo", layers "grid-check", schedule "fill-drain"; and
// libnot_a_plugin.so, junk.so (text) and README.txt, which are not plugins.
inline std::filesystem::path good_dir() {
  return plugin_root() / "good";
}
// "solo" again, stripped of its static symbol table (strip --strip-all).
inline std::filesystem::path stripped_dir() {
  return plugin_root() / "stripped";
}
// One fault each: future-major, future-minor, mixed-up, no-factory, strange-kind, nameless (a
// faulty descriptor) and empty-handed (a correct descriptor whose factory returns null).
inline std::filesystem::path bad_dir() {
  return plugin_root() / "bad";
}
inline std::filesystem::path dup_a_dir() {
  return plugin_root() / "dup_a";
}
inline std::filesystem::path dup_b_dir() {
  return plugin_root() / "dup_b";
}
inline std::filesystem::path unloadable_dir() {
  return plugin_root() / "unloadable";
}
// "thrower" of each kind: calls that throw std::out_of_range, std::bad_alloc, a class of the
// plugin's own, a non-std exception, and trellis errors (tests/plugins/sources/throwing_*.cpp).
inline std::filesystem::path throwing_dir() {
  return plugin_root() / "throwing";
}
// "solo-2-2": solo's code declaring plugin ABI 2.2, before Communicator::all_to_all_v.
inline std::filesystem::path older_dir() {
  return plugin_root() / "older";
}
// A path that is never created.
inline std::filesystem::path missing_dir() {
  return plugin_root() / "no-such-directory";
}

inline std::filesystem::path plugin_file(const std::filesystem::path& dir, std::string_view kind,
                                         std::string_view name) {
  return dir / ("libtrellis_" + std::string(kind) + "_" + std::string(name) + ".so");
}

inline PluginSearchDir from_env(const std::filesystem::path& path) {
  return {path, "TRELLIS_PLUGIN_PATH"};
}
inline PluginSearchDir from_config(const std::filesystem::path& path) {
  return {path, "[plugins] paths"};
}

// The plugin with this kind and name in plugins(), or null.
inline const PluginInfo* listed(const PluginRegistry& registry, PluginKind kind,
                                std::string_view name) {
  for (const PluginInfo& p : registry.plugins()) {
    if (p.kind == kind && p.name == name) return &p;
  }
  return nullptr;
}

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Runs `f`, which must throw PluginError, and returns the error's message.
template <class F>
std::string plugin_error_of(F&& f) {
  try {
    f();
  } catch (const PluginError& e) {
    return e.what();
  }
  FAIL("expected a PluginError");
  return {};
}

}  // namespace trellis::test
