#include "checkpoint/checkpoint_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checkpoint/crc32.h"
#include "kernels/host_transfer.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace fs = std::filesystem;

CheckpointReader::CheckpointReader(fs::path step_dir)
    : dir_(std::move(step_dir)), manifest_(Manifest::read(dir_ / kManifestFile)) {}

int CheckpointReader::open_shard_file(const std::string& file) {
  auto it = files_.find(file);
  if (it != files_.end()) return it->second.get();
  const fs::path path = dir_ / file;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    throw InputError("checkpoint shard " + absolute_path_text(path) + ": " +
                     (errno == ENOENT ? std::string("missing; the checkpoint is incomplete")
                                      : std::string("cannot open: ") + std::strerror(errno)));
  }
  const int raw = fd.get();
  files_.emplace(file, std::move(fd));
  return raw;
}

void CheckpointReader::read(const CheckpointPiece& piece, Kernels& kernels) {
  const std::string where = "checkpoint " + dir_.string();
  const ManifestTensor* tensor = manifest_.find(piece.name);
  if (tensor == nullptr) {
    throw InputError(where + " has no tensor '" + piece.name + "' (manifest " +
                     (dir_ / kManifestFile).string() +
                     "), which this run needs; it cannot serve this model or layout");
  }
  const TensorRegion& want = piece.region;
  // The whole tensors must agree, but for padding rows of a vocabulary padded to another size.
  bool same_shape = tensor->shape.rank() == want.global_shape.rank();
  for (int d = 0; same_shape && d < want.global_shape.rank(); ++d) {
    const bool padded_rows =
        d == 0 && piece.padding_rows_from >= 0 && tensor->shape[0] >= piece.padding_rows_from;
    same_shape = padded_rows || tensor->shape[d] == want.global_shape[d];
  }
  if (!same_shape) {
    throw InputError(where + ": tensor '" + piece.name + "' is " + tensor->shape.str() +
                     " in the checkpoint but " + want.global_shape.str() + " in this run");
  }
  if (!piece.values.is_contiguous() || piece.values.numel() != want.numel() ||
      piece.values.dtype() != DType::f32) {
    throw Error("checkpoint read of " + piece.name + ": the destination " + piece.values.str() +
                " is not the region's " + std::to_string(want.numel()) + " contiguous f32 values");
  }
  piece_.assign(static_cast<std::size_t>(want.numel()), 0.0f);
  float* out = piece_.data();
  std::int64_t copied = 0;
  for (const ManifestShard& shard : tensor->shards) {
    if (!boxes_overlap(shard.region, want)) continue;
    const fs::path path = dir_ / shard.file;
    const int fd = open_shard_file(shard.file);
    const auto bytes = static_cast<std::size_t>(shard.region.numel()) * sizeof(float);
    buffer_.resize(static_cast<std::size_t>(shard.region.numel()));
    std::size_t done = 0;
    while (done < bytes) {
      const ssize_t n =
          ::pread(fd, reinterpret_cast<char*>(buffer_.data()) + done, bytes - done,
                  static_cast<off_t>(shard.byte_offset + static_cast<std::int64_t>(done)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        throw InputError("checkpoint shard " + path.string() +
                         ": cannot read: " + std::strerror(errno));
      }
      if (n == 0) {
        throw InputError("checkpoint shard " + path.string() + " ends before " + piece.name + " " +
                         shard.region.str() + " (bytes " + std::to_string(shard.byte_offset) +
                         ".." +
                         std::to_string(shard.byte_offset + static_cast<std::int64_t>(bytes)) +
                         "): the file is truncated");
      }
      done += static_cast<std::size_t>(n);
    }
    const std::uint32_t crc = crc32_update(0, buffer_.data(), bytes);
    if (crc != shard.crc32) {
      throw InputError("checkpoint shard " + absolute_path_text(path) + ": " + piece.name + " " +
                       shard.region.str() + " at byte " + std::to_string(shard.byte_offset) +
                       " has checksum " + crc32_hex(crc) + " but the manifest says " +
                       crc32_hex(shard.crc32) + ": the file is corrupted");
    }
    copied += copy_overlap(shard.region, buffer_.data(), want, out);
  }
  const std::int64_t needed =
      piece.padding_rows_from >= 0 ? elements_below_row(want, tensor->shape[0]) : want.numel();
  if (copied != needed) {
    throw InputError(where + ": the shards of '" + piece.name + "' cover " +
                     std::to_string(copied) + " of the " + std::to_string(needed) +
                     " values this rank needs (" + want.str() + "); the manifest " +
                     (dir_ / kManifestFile).string() + " is incomplete or inconsistent");
  }
  copy_from_host(kernels, piece_, piece.values);
}

}  // namespace trellis
