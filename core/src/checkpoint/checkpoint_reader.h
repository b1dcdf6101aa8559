// Reading a checkpoint step into the pieces of any layout: for each piece a rank needs, the
// shards whose regions overlap it are read (each whole, its CRC-32 checked), and their common
// elements copied, by coordinates in the whole tensor. Every error is an InputError naming the
// file: a missing or short shard file, a checksum that does not match, a tensor the checkpoint
// lacks, a region its shards do not cover.
#pragma once

#include <filesystem>
#include <map>
#include <vector>

#include "checkpoint/checkpoint_piece.h"
#include "checkpoint/manifest.h"
#include "os/unique_fd.h"
#include "trellis/kernels.h"

namespace trellis {

class CheckpointReader {
 public:
  // Reads and checks `step_dir`/manifest.json.
  explicit CheckpointReader(std::filesystem::path step_dir);

  const Manifest& manifest() const noexcept { return manifest_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }

  // Fills piece.values (region.numel() contiguous f32) from the checkpoint. The values are put
  // together in host memory and copied into piece.values (which may be on a GPU) with `kernels`.
  void read(const CheckpointPiece& piece, Kernels& kernels);

 private:
  int open_shard_file(const std::string& file);

  std::filesystem::path dir_;
  Manifest manifest_;
  std::map<std::string, UniqueFd> files_;
  std::vector<float> buffer_;  // one shard as read
  std::vector<float> piece_;   // the piece being put together
};

}  // namespace trellis
