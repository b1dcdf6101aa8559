#include "checkpoint/checkpoint_writer.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/crc32.h"
#include "checkpoint/durable_file.h"
#include "kernels/host_transfer.h"
#include "trellis/error.h"

namespace trellis {

namespace fs = std::filesystem;

namespace {

std::string rank_file(int rank, const char* suffix) {
  char name[48];
  std::snprintf(name, sizeof(name), "rank-%05d%s", rank, suffix);
  return name;
}

// Step 2 on one rank: its shards and their list.
void write_rank_files(const fs::path& tmp, const Manifest& header,
                      const std::vector<CheckpointPiece>& owned, int rank, Kernels& kernels) {
  Manifest index = header;
  index.tensors.clear();
  const std::string data_name = rank_file(rank, ".bin");
  if (!owned.empty()) {
    DurableFile data(tmp / data_name);
    std::vector<float> host;
    for (const CheckpointPiece& piece : owned) {
      check_region(piece.region, "checkpoint tensor " + piece.name);
      if (!piece.values.is_contiguous() || piece.values.numel() != piece.region.numel() ||
          piece.values.dtype() != DType::f32) {
        throw Error("checkpoint tensor " + piece.name + ": values " + piece.values.str() +
                    " are not the region's " + std::to_string(piece.region.numel()) +
                    " contiguous f32 values");
      }
      host.resize(static_cast<std::size_t>(piece.values.numel()));
      copy_to_host(kernels, piece.values, host);
      ManifestShard shard;
      shard.file = data_name;
      shard.region = piece.region;
      shard.crc32 = crc32_update(0, host.data(), piece.values.nbytes());
      shard.byte_offset = static_cast<std::int64_t>(data.write(host.data(), piece.values.nbytes()));
      ManifestTensor tensor;
      tensor.name = piece.name;
      tensor.shape = piece.region.global_shape;
      tensor.shards.push_back(std::move(shard));
      index.tensors.push_back(std::move(tensor));
    }
    data.sync_and_close();
  }
  write_durable_file(tmp / rank_file(rank, ".index.json"), index.text());
}

// Step 3 on rank 0: every rank's shards under their tensors, in the order ranks listed them.
Manifest merge_indexes(const fs::path& tmp, const Manifest& header, int world) {
  Manifest manifest = header;
  manifest.tensors.clear();
  std::map<std::string, std::size_t> where;
  for (int r = 0; r < world; ++r) {
    const fs::path file = tmp / rank_file(r, ".index.json");
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      throw Error("checkpoint: rank " + std::to_string(r) + " wrote no " + file.string() +
                  "; checkpoints need a directory every rank sees (one machine or a shared "
                  "filesystem)");
    }
    for (ManifestTensor& t : Manifest::read(file).tensors) {
      auto [it, added] = where.emplace(t.name, manifest.tensors.size());
      if (added) {
        manifest.tensors.push_back(std::move(t));
        continue;
      }
      ManifestTensor& into = manifest.tensors[it->second];
      if (!(into.shape == t.shape)) {
        throw Error("checkpoint: ranks disagree on the shape of " + t.name + ": " +
                    into.shape.str() + " and " + t.shape.str() + " (rank " + std::to_string(r) +
                    ")");
      }
      for (ManifestShard& s : t.shards) into.shards.push_back(std::move(s));
    }
  }
  // Each value by exactly one rank: the shards' sizes add up to the tensor's (a value nobody or
  // two ranks owned shows as another sum, and would make a checkpoint that loads wrong values).
  for (const ManifestTensor& t : manifest.tensors) {
    std::int64_t covered = 0;
    for (const ManifestShard& s : t.shards) covered += s.region.numel();
    if (covered != t.shape.numel()) {
      throw Error("checkpoint: the shards of " + t.name + " hold " + std::to_string(covered) +
                  " values, but the tensor " + t.shape.str() + " has " +
                  std::to_string(t.shape.numel()) + "; the ranks' ownership is inconsistent");
    }
  }
  return manifest;
}

}  // namespace

fs::path save_checkpoint(const CheckpointSave& save, const std::vector<CheckpointPiece>& owned,
                         Communicator& world, Kernels& kernels) {
  const int rank = world.rank();
  const std::string step_name = step_directory_name(save.header.step);
  const fs::path tmp = save.dir / (".tmp-" + step_name);
  const fs::path final_dir = save.dir / step_name;
  if (rank == 0) {
    std::error_code ec;
    fs::create_directories(save.dir, ec);
    if (ec) {
      throw Error("checkpoint: cannot create " + save.dir.string() + ": " + ec.message());
    }
    remove_partial_saves(save.dir);
    fs::create_directory(tmp, ec);
    if (ec) throw Error("checkpoint: cannot create " + tmp.string() + ": " + ec.message());
  }
  world.barrier()->wait();

  write_rank_files(tmp, save.header, owned, rank, kernels);
  if (save.after_shards_written) save.after_shards_written();
  world.barrier()->wait();

  if (rank == 0) {
    Manifest manifest = merge_indexes(tmp, save.header, world.size());
    for (int r = 0; r < world.size(); ++r) fs::remove(tmp / rank_file(r, ".index.json"));
    write_durable_file(tmp / kManifestFile, manifest.text());
    sync_directory(tmp);
    std::error_code ec;
    // The same step saved again (a run restarted from an earlier step): the old copy goes
    // aside first, so the name always holds one complete checkpoint or none.
    if (fs::exists(final_dir, ec)) {
      const fs::path old = save.dir / (".tmp-replaced-" + step_name);
      fs::remove_all(old, ec);
      fs::rename(final_dir, old, ec);
      if (ec)
        throw Error("checkpoint: cannot move " + final_dir.string() + " aside: " + ec.message());
    }
    fs::rename(tmp, final_dir, ec);
    if (ec) {
      throw Error("checkpoint: cannot rename " + tmp.string() + " to " + final_dir.string() + ": " +
                  ec.message());
    }
    sync_directory(save.dir);
    prune_checkpoints(save.dir, save.keep);
  }
  world.barrier()->wait();
  return final_dir;
}

}  // namespace trellis
