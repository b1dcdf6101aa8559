#include "plugin/registry_messages.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace trellis::plugin_detail {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the dynamic-programming table at a time: row[j] = distance(a[0..i), b[0..j)).
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_name(std::string_view wanted, const std::vector<std::string>& names) {
  // A third of the name's length, but at least 2, catches transposed and dropped letters
  // ("1fb1", "gpip") without suggesting unrelated short names.
  const std::size_t limit = std::max<std::size_t>(2, wanted.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& name : names) {
    const std::size_t d = edit_distance(wanted, name);
    if (d < best_distance || (d == best_distance && name < best)) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

std::string describe_plugins_of_kind(PluginKind kind, const std::vector<PluginInfo>& plugins) {
  std::string text;
  std::size_t width = 0;
  for (const PluginInfo& p : plugins) {
    if (p.kind == kind) width = std::max(width, p.name.size());
  }
  for (const PluginInfo& p : plugins) {
    if (p.kind != kind) continue;
    text += "  " + p.name + std::string(width - p.name.size() + 2, ' ') + p.file.string();
    if (!p.problem.empty()) text += "  (unusable: " + p.problem + ")";
    text += "\n";
  }
  if (text.empty()) return std::string("no ") + plugin_kind_name(kind) + " plugins were found\n";
  return std::string(plugin_kind_name(kind)) + " plugins found:\n" + text;
}

std::string describe_search(const std::vector<PluginSearchDir>& searched,
                            const std::vector<SkippedFile>& skipped) {
  std::string text = "searched, in order:\n";
  for (const PluginSearchDir& entry : searched) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(entry.path, ec);
    text += "  " + entry.path.string() + "  (" + entry.origin + (exists ? "" : "; does not exist") +
            ")\n";
  }
  if (searched.empty()) text += "  nothing: the search path is empty\n";
  if (!skipped.empty()) {
    text += "skipped files:\n";
    for (const SkippedFile& s : skipped) text += "  " + s.file.string() + ": " + s.reason + "\n";
  }
  return text;
}

}  // namespace trellis::plugin_detail
