#include "model/llmc_checkpoint.h"

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "model/llmc_checkpoint_header.h"
#include "model/tensor_box.h"
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
                          const std::vector<Parameter*>& params) {
  LlmcCheckpointHeader header = read_llmc_checkpoint_header(file);
  check_dims(file, header, dims);
  FileLayout layout = file_layout(header);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("llm.c checkpoint " + file.string() + ": cannot open");
  std::vector<float> whole;
  for (Parameter* p : params) {
    auto [offset, numel] = slab(layout, header, *p);
    check_box(p->global_shape, p->shard_offset, p->value.shape(), "parameter " + p->name);
    whole.resize(static_cast<std::size_t>(numel));
    in.seekg(kLlmcCheckpointHeaderBytes + offset * 4);
    in.read(reinterpret_cast<char*>(whole.data()), numel * 4);
    if (!in) throw InputError("llm.c checkpoint " + file.string() + ": short read at " + p->name);
    float* out = p->value.data<float>();
    for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                     [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                       std::copy_n(whole.data() + global, run, out + local);
                     });
  }
}

void save_llmc_checkpoint(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params) {
  LlmcCheckpointHeader header = header_for(dims);
  FileLayout layout = file_layout(header);
  std::int64_t total = llmc_parameter_count(header);
  std::vector<float> values(static_cast<std::size_t>(total), 0.0f);
  std::vector<bool> written(static_cast<std::size_t>(total), false);
  for (Parameter* p : params) {
    if (!(p->value.shape() == p->global_shape)) {
      throw Error("llm.c export needs whole parameters; " + p->name + " is a shard " +
                  p->value.shape().str() + " of " + p->global_shape.str());
    }
    auto [offset, numel] = slab(layout, header, *p);
    std::copy_n(p->value.data<float>(), numel, values.begin() + offset);
    std::fill_n(written.begin() + offset, numel, true);
  }
  for (const auto& [name, offset] : layout.offset) {
    for (std::int64_t i = 0; i < layout.numel.at(name); ++i) {
      if (!written[static_cast<std::size_t>(offset + i)]) {
        throw Error("llm.c export: no parameter provided the values of " + name);
      }
    }
  }
  std::int32_t raw[256] = {};
  raw[0] = kLlmcCheckpointMagic;
  raw[1] = kLlmcCheckpointFp32Version;
  raw[2] = static_cast<std::int32_t>(header.max_seq_len);
  raw[3] = static_cast<std::int32_t>(header.vocab_size);
  raw[4] = static_cast<std::int32_t>(header.layers);
  raw[5] = static_cast<std::int32_t>(header.heads);
  raw[6] = static_cast<std::int32_t>(header.channels);
  raw[7] = static_cast<std::int32_t>(header.padded_vocab);
  std::filesystem::path partial = file;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(raw), sizeof(raw));
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(float)));
    if (!out) throw Error("llm.c export: cannot write " + partial.string());
  }
  std::filesystem::rename(partial, file);
}

}  // namespace trellis
