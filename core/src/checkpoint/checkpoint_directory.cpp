#include "checkpoint/checkpoint_directory.h"

#include <algorithm>
#include <cstdio>

#include "checkpoint/manifest.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace fs = std::filesystem;

std::string step_directory_name(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08lld", static_cast<long long>(step));
  return name;
}

std::optional<std::int64_t> parse_step_directory_name(const std::string& name) {
  constexpr std::string_view prefix = "step-";
  if (!name.starts_with(prefix) || name.size() < prefix.size() + 8) return std::nullopt;
  std::int64_t step = 0;
  for (std::size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || step > (INT64_MAX - 9) / 10) return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::vector<CheckpointStep> complete_checkpoints(const fs::path& dir) {
  std::vector<CheckpointStep> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const auto step = parse_step_directory_name(entry.path().filename().string());
    if (!step || !entry.is_directory(ec)) continue;
    if (!fs::is_regular_file(entry.path() / kManifestFile, ec)) continue;
    out.push_back({*step, entry.path()});
  }
  std::sort(out.begin(), out.end(),
            [](const CheckpointStep& a, const CheckpointStep& b) { return a.step < b.step; });
  return out;
}

std::optional<CheckpointStep> newest_checkpoint(const fs::path& dir) {
  std::vector<CheckpointStep> all = complete_checkpoints(dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

fs::path resolve_checkpoint_path(const fs::path& given) {
  std::error_code ec;
  if (!fs::is_directory(given, ec)) {
    throw InputError(absolute_path_text(given) +
                     " is not a directory; valid: a checkpoint step directory (step-NNNNNNNN) or "
                     "a checkpoints directory holding them");
  }
  if (fs::exists(given / kManifestFile, ec)) return given;
  if (auto newest = newest_checkpoint(given)) return newest->dir;
  const bool named_like_step = parse_step_directory_name(given.filename().string()).has_value();
  throw InputError(absolute_path_text(given) +
                   (named_like_step
                        ? " has no manifest.json: it is not a complete checkpoint"
                        : " holds no complete checkpoint (no step-NNNNNNNN directory with a "
                          "manifest.json)") +
                   "; valid: a checkpoint step directory or a checkpoints directory holding one");
}

void remove_partial_saves(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> partial;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().starts_with(".tmp-")) partial.push_back(entry.path());
  }
  for (const fs::path& p : partial) fs::remove_all(p, ec);
}

void prune_checkpoints(const fs::path& dir, std::int64_t keep) {
  std::error_code ec;
  remove_partial_saves(dir);
  if (keep <= 0) return;
  std::vector<CheckpointStep> all = complete_checkpoints(dir);
  const auto excess = static_cast<std::int64_t>(all.size()) - keep;
  for (std::int64_t i = 0; i < excess; ++i) {
    // Renamed first, so a removal cut short leaves a .tmp- directory, never a half step.
    const fs::path& old = all[static_cast<std::size_t>(i)].dir;
    const fs::path doomed = dir / (".tmp-removing-" + old.filename().string());
    fs::rename(old, doomed, ec);
    if (!ec) fs::remove_all(doomed, ec);
  }
}

}  // namespace trellis
