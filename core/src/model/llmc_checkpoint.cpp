#include "model/llmc_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "kernels/host_transfer.h"
#include "model/llmc_checkpoint_header.h"
#include "model/tensor_box.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// Where a Trellis parameter lives in an llm.c checkpoint.
struct LlmcPlace {
  std::string tensor;  // llm.c's name
  int layer = -1;      // for per-layer tensors [L, ...]
};

LlmcPlace llmc_place(const std::string& name) {
  static const std::map<std::string, std::string> whole = {
      {"wte", "wte"}, {"wpe", "wpe"}, {"lnf.weight", "lnfw"}, {"lnf.bias", "lnfb"}};
  static const std::map<std::string, std::string> per_layer = {
      {"ln1.weight", "ln1w"},           {"ln1.bias", "ln1b"},
      {"attn.qkv.weight", "qkvw"},      {"attn.qkv.bias", "qkvb"},
      {"attn.proj.weight", "attprojw"}, {"attn.proj.bias", "attprojb"},
      {"ln2.weight", "ln2w"},           {"ln2.bias", "ln2b"},
      {"mlp.fc.weight", "fcw"},         {"mlp.fc.bias", "fcb"},
      {"mlp.proj.weight", "fcprojw"},   {"mlp.proj.bias", "fcprojb"}};
  if (auto it = whole.find(name); it != whole.end()) return {it->second, -1};
  static const std::regex block(R"(h\.(\d+)\.(.+))");
  std::smatch m;
  if (std::regex_match(name, m, block)) {
    if (auto it = per_layer.find(m[2].str()); it != per_layer.end()) {
      return {it->second, std::stoi(m[1].str())};
    }
  }
  throw Error("parameter " + name + " has no counterpart in llm.c's GPT-2 checkpoint format");
}

struct FileLayout {
  std::map<std::string, std::int64_t> offset;  // in floats, from the start of the parameters
  std::map<std::string, std::int64_t> numel;
};

FileLayout file_layout(const LlmcCheckpointHeader& header) {
  FileLayout layout;
  std::int64_t at = 0;
  for (const LlmcTensor& t : llmc_parameter_tensors(header)) {
    layout.offset[t.name] = at;
    layout.numel[t.name] = t.numel;
    at += t.numel;
  }
  return layout;
}

LlmcCheckpointHeader header_for(const ModelDims& dims) {
  LlmcCheckpointHeader h;
  h.version = kLlmcCheckpointFp32Version;
  h.max_seq_len = dims.max_seq_len;
  h.vocab_size = dims.vocab_size;
  h.layers = dims.layers;
  h.heads = dims.heads;
  h.channels = dims.hidden;
  h.padded_vocab = dims.padded_vocab;
  return h;
}

// The slab of the file holding `p` whole: its first float and its size.
std::pair<std::int64_t, std::int64_t> slab(const FileLayout& layout, const LlmcCheckpointHeader& h,
                                           const Parameter& p) {
  LlmcPlace place = llmc_place(p.name);
  std::int64_t numel = layout.numel.at(place.tensor);
  std::int64_t offset = layout.offset.at(place.tensor);
  if (place.layer >= 0) {
    if (place.layer >= h.layers) {
      throw Error("parameter " + p.name + " is beyond the checkpoint's " +
                  std::to_string(h.layers) + " layers");
    }
    numel /= h.layers;
    offset += numel * place.layer;
  }
  if (numel != p.global_shape.numel()) {
    throw Error("parameter " + p.name + " " + p.global_shape.str() + " does not match llm.c's " +
                place.tensor + " (" + std::to_string(numel) + " values per layer)");
  }
  return {offset, numel};
}

void check_dims(const std::filesystem::path& file, const LlmcCheckpointHeader& h,
                const ModelDims& dims) {
  auto mismatch = [&](const char* what, std::int64_t in_file, std::int64_t in_model) {
    throw InputError("llm.c checkpoint " + file.string() + ": " + what + " is " +
                     std::to_string(in_file) + " in the file but " + std::to_string(in_model) +
                     " in the model");
  };
  if (h.vocab_size != dims.vocab_size) mismatch("vocab_size", h.vocab_size, dims.vocab_size);
  if (h.padded_vocab != dims.padded_vocab)
    mismatch("padded vocab", h.padded_vocab, dims.padded_vocab);
  if (h.layers != dims.layers) mismatch("layers", h.layers, dims.layers);
  if (h.heads != dims.heads) mismatch("heads", h.heads, dims.heads);
  if (h.channels != dims.hidden) mismatch("hidden", h.channels, dims.hidden);
  if (h.max_seq_len != dims.max_seq_len) mismatch("max_seq_len", h.max_seq_len, dims.max_seq_len);
}

}  // namespace

void load_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params, Kernels& kernels) {
  LlmcCheckpointHeader header = read_llmc_checkpoint_header(file);
  check_dims(file, header, dims);
  FileLayout layout = file_layout(header);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("llm.c checkpoint " + absolute_path_text(file) + ": cannot open");
  std::vector<float> whole, shard;
  for (Parameter* p : params) {
    auto [offset, numel] = slab(layout, header, *p);
    check_box(p->global_shape, p->shard_offset, p->value.shape(), "parameter " + p->name);
    whole.resize(static_cast<std::size_t>(numel));
    in.seekg(kLlmcCheckpointHeaderBytes + offset * 4);
    in.read(reinterpret_cast<char*>(whole.data()), numel * 4);
    if (!in) throw InputError("llm.c checkpoint " + file.string() + ": short read at " + p->name);
    shard.resize(static_cast<std::size_t>(p->value.numel()));
    for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                     [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                       std::copy_n(whole.data() + global, run, shard.data() + local);
                     });
    copy_from_host(kernels, shard, p->value);
  }
}

void create_llmc_file(const std::filesystem::path& file, const ModelDims& dims) {
  LlmcCheckpointHeader header = header_for(dims);
  const std::int64_t total = llmc_parameter_count(header);
  std::int32_t raw[256] = {};
  raw[0] = kLlmcCheckpointMagic;
  raw[1] = kLlmcCheckpointFp32Version;
  raw[2] = static_cast<std::int32_t>(header.max_seq_len);
  raw[3] = static_cast<std::int32_t>(header.vocab_size);
  raw[4] = static_cast<std::int32_t>(header.layers);
  raw[5] = static_cast<std::int32_t>(header.heads);
  raw[6] = static_cast<std::int32_t>(header.channels);
  raw[7] = static_cast<std::int32_t>(header.padded_vocab);
  int fd = ::open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0)
    throw Error("llm.c export: cannot create " + file.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, raw, sizeof(raw)) == static_cast<ssize_t>(sizeof(raw)) &&
            ::ftruncate(fd, kLlmcCheckpointHeaderBytes + total * 4) == 0;
  ::close(fd);
  if (!ok) throw Error("llm.c export: cannot size " + file.string() + ": " + std::strerror(errno));
}

void write_llmc_shards(const std::filesystem::path& file, const ModelDims& dims,
                       const std::vector<Parameter*>& params, Kernels& kernels) {
  LlmcCheckpointHeader header = header_for(dims);
  FileLayout layout = file_layout(header);
  int fd = ::open(file.c_str(), O_WRONLY);
  if (fd < 0)
    throw Error("llm.c export: cannot open " + file.string() + ": " + std::strerror(errno));
  for (Parameter* p : params) {
    auto [offset, numel] = slab(layout, header, *p);
    (void)numel;
    check_box(p->global_shape, p->shard_offset, p->value.shape(), "parameter " + p->name);
    const std::vector<float> shard = f32_to_host(kernels, p->value);
    const float* values = shard.data();
    bool ok = true;
    for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                     [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                       const off_t at = kLlmcCheckpointHeaderBytes + (offset + global) * 4;
                       const auto bytes = static_cast<std::size_t>(run) * 4;
                       ok = ok &&
                            ::pwrite(fd, values + local, bytes, at) == static_cast<ssize_t>(bytes);
                     });
    if (!ok) {
      ::close(fd);
      throw Error("llm.c export: cannot write " + p->name + " into " + file.string() + ": " +
                  std::strerror(errno));
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw Error("llm.c export: cannot flush " + file.string() + ": " + std::strerror(errno));
  }
}

void save_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params, Kernels& kernels) {
  // Every value of the file must come from some parameter.
  LlmcCheckpointHeader header = header_for(dims);
  FileLayout layout = file_layout(header);
  std::vector<bool> written(static_cast<std::size_t>(llmc_parameter_count(header)), false);
  for (Parameter* p : params) {
    auto [offset, numel] = slab(layout, header, *p);
    (void)numel;
    for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                     [&](std::int64_t global, std::int64_t, std::int64_t run) {
                       std::fill_n(written.begin() + offset + global, run, true);
                     });
  }
  for (const auto& [name, offset] : layout.offset) {
    for (std::int64_t i = 0; i < layout.numel.at(name); ++i) {
      if (!written[static_cast<std::size_t>(offset + i)]) {
        throw Error("llm.c export: no parameter provided the values of " + name);
      }
    }
  }
  std::filesystem::path partial = file;
  partial += ".partial";
  create_llmc_file(partial, dims);
  write_llmc_shards(partial, dims, params, kernels);
  std::filesystem::rename(partial, file);
}

}  // namespace trellis
