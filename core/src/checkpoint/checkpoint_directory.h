// The checkpoints directory: one complete checkpoint per `step-<NNNNNNNN>/` holding its
// manifest.json, and the `.tmp-*` directories of saves in progress (or of saves a crash cut
// short), which never count as checkpoints. A step directory appears only by the rename that
// ends a save, after every file in it was written and synced, so "has a manifest" is "complete".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trellis {

struct CheckpointStep {
  std::int64_t step = 0;
  std::filesystem::path dir;  // <checkpoints>/step-<NNNNNNNN>
};

// "step-00000042"
std::string step_directory_name(std::int64_t step);
// The step of a name of that form, or nullopt.
std::optional<std::int64_t> parse_step_directory_name(const std::string& name);

// The complete checkpoints in `dir`, oldest first; none when `dir` does not exist.
std::vector<CheckpointStep> complete_checkpoints(const std::filesystem::path& dir);
std::optional<CheckpointStep> newest_checkpoint(const std::filesystem::path& dir);

// [model] init = "checkpoint:DIR": DIR is a step directory (it has a manifest.json) or a
// checkpoints directory, meaning its newest complete step. Throws InputError saying which it is
// not.
std::filesystem::path resolve_checkpoint_path(const std::filesystem::path& given);

// Removes every `.tmp-*` directory in `dir`: saves that never finished. Call it only when no
// save is in progress (rank 0, before its own save or at start-up).
void remove_partial_saves(const std::filesystem::path& dir);

// remove_partial_saves(), then the oldest complete checkpoints beyond the newest `keep` (0 keeps
// all). Best effort: what cannot be removed is left for the next time.
void prune_checkpoints(const std::filesystem::path& dir, std::int64_t keep);

}  // namespace trellis
