// Saving one checkpoint step from every rank of a run (collective over the world):
//
//  1. rank 0 clears leftover `.tmp-*` saves and makes `<dir>/.tmp-step-<N>/`; barrier;
//  2. every rank writes the pieces it owns (each value of the model is owned by exactly one
//     rank) to `rank-<R>.bin`, one shard after another with a CRC-32 each, and the list of its
//     shards to `rank-<R>.index.json`; both fsynced; barrier;
//  3. rank 0 merges the lists into manifest.json, checks that the shards of every tensor tile it
//     exactly once, fsyncs the manifest and the directory, renames it to `step-<N>/`, fsyncs
//     `<dir>`, and drops the oldest checkpoints beyond `keep`; barrier.
//
// A crash anywhere before the rename leaves only a `.tmp-*` directory, which is never read and
// is removed by the next save or run; the checkpoints before it stay as they were. Needs a
// directory every rank can reach (one machine, or a shared filesystem).
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "checkpoint/checkpoint_piece.h"
#include "checkpoint/manifest.h"
#include "trellis/comm.h"
#include "trellis/kernels.h"

namespace trellis {

struct CheckpointSave {
  std::filesystem::path dir;  // the checkpoints directory
  Manifest header;            // everything but `tensors`
  std::int64_t keep = 0;      // newest complete checkpoints kept; 0 keeps all
  // Called on every rank once its shard files are synced, before the barrier that ends step 2
  // (a place for tests to crash a save half-way); may be empty.
  std::function<void()> after_shards_written;
};

// Returns the step directory written. Throws Error naming the file that could not be written.
// The pieces' values may be device memory: each is copied to one reused host buffer with
// `kernels` before it is checksummed and written.
std::filesystem::path save_checkpoint(const CheckpointSave& save,
                                      const std::vector<CheckpointPiece>& owned,
                                      Communicator& world, Kernels& kernels);

}  // namespace trellis
