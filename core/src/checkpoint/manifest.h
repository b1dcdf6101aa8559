// manifest.json, the index of one checkpoint step: what was trained (model dimensions, the step,
// the optimizer's step count, where the data stands), under which layout it was written (for
// information: readers never need it), and every tensor by name with its global shape and its
// shards — file, region within the whole tensor, byte offset in the file, CRC-32. The format is
// written up in docs/checkpoints.md; kFormat and kVersion identify it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/tensor_region.h"
#include "trellis/config.h"

namespace trellis {

struct ManifestShard {
  std::string file;  // relative to the step directory, e.g. "rank-00003.bin"
  TensorRegion region;
  std::int64_t byte_offset = 0;  // of the shard's first value in the file (f32, little-endian)
  std::uint32_t crc32 = 0;       // of the region.numel() * 4 bytes
};

struct ManifestTensor {
  std::string name;  // a parameter's name, or "adamw.m/<name>", "adamw.v/<name>"
  Shape shape;       // the whole tensor
  std::vector<ManifestShard> shards;
};

// The layout the checkpoint was written under. Loading reads shards by their regions, so any
// other layout can load it; this is here for people and tools.
struct ManifestLayout {
  int world = 1;
  int tensor = 1;
  int pipeline = 1;
  int data = 1;
  int context = 1;  // written only when > 1 (checkpoints before context parallelism lack it)
  int virtual_stages = 1;
  std::string tensor_mode = "1d";
  int zero = 0;
  int expert = 1;  // [parallel] expert; written only when > 1
};

// What decides the next step's batch. Windows are a pure function of the step (and, shuffled,
// of the seed and the epoch the step falls in), so `step` is the whole position; the rest says
// what the step counts in.
struct ManifestData {
  std::int64_t global_batch = 0;
  std::int64_t seq_len = 0;
  bool shuffle = false;
  std::int64_t seed = 0;
};

struct Manifest {
  static constexpr const char* kFormat = "trellis-checkpoint";
  static constexpr int kVersion = 1;

  std::int64_t step = 0;             // optimizer steps done; training continues at step + 1
  std::int64_t optimizer_steps = 0;  // AdamW's count (bias correction)
  ModelDims dims;
  MoeSettings moe;  // experts 0: a dense model (and every manifest written before MoE)
  // What the blocks compute; GPT-2's in every manifest written before architectures (whose text
  // a GPT-2 run's manifest keeps: the fields are written only for another architecture, not
  // when kv_heads is 0, a manifest made without one).
  ModelArchitecture arch;
  ManifestLayout layout;
  ManifestData data;
  std::vector<ManifestTensor> tensors;

  const ManifestTensor* find(const std::string& name) const;

  // The manifest.json text: the layout docs/checkpoints.md shows, one shard a line.
  std::string text() const;
  // Throws InputError naming `file`: not JSON, not a Trellis checkpoint, another version, a
  // field missing or of the wrong type, a shard that is not a region of its tensor.
  static Manifest parse(std::string_view text, const std::filesystem::path& file);
  static Manifest read(const std::filesystem::path& file);
};

constexpr const char* kManifestFile = "manifest.json";

// The dimensions a checkpoint and a run must share to load one into the other, each difference as
// "hidden is 16 in the checkpoint, 32 in the run". The padded vocabulary may differ (padding rows
// carry nothing), and so may seq_len up to the checkpoint's position table.
std::vector<std::string> model_differences(const ModelDims& checkpoint, const ModelDims& run);
// The same for a mixture of experts: the experts and which blocks have them decide the
// parameters; top_k, the aux coefficient and the capacity factor are training's and may differ.
std::vector<std::string> moe_differences(const MoeSettings& checkpoint, const MoeSettings& run);
// The same for the architecture: every field decides the parameters or what they compute, so a
// difference in any is one (e.g. "norm is rmsnorm in the checkpoint but layernorm in the run").
std::vector<std::string> architecture_differences(const ModelArchitecture& checkpoint,
                                                  const ModelArchitecture& run);

}  // namespace trellis
