#include "model/hf_gpt2_weights.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <set>

#include "checkpoint/durable_file.h"
#include "kernels/host_transfer.h"
#include "model/hf_gpt2_config.h"
#include "model/tensor_box.h"
#include "os/unique_fd.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// GPT2LMHeadModel's prefix for the transformer's tensors.
constexpr std::string_view kPrefix = "transformer.";

// A block's tensor: Trellis's name and Hugging Face's after "h.<i>.", and Hugging Face's shape in
// multiples of C.
struct BlockTensor {
  const char* trellis;
  const char* hf;
  int rank;
  std::int64_t shape_in_c[2];
  bool transposed;
};

constexpr BlockTensor kBlockTensors[] = {
    {"ln1.weight", "ln_1.weight", 1, {1, 0}, false},
    {"ln1.bias", "ln_1.bias", 1, {1, 0}, false},
    {"attn.qkv.weight", "attn.c_attn.weight", 2, {1, 3}, true},
    {"attn.qkv.bias", "attn.c_attn.bias", 1, {3, 0}, false},
    {"attn.proj.weight", "attn.c_proj.weight", 2, {1, 1}, true},
    {"attn.proj.bias", "attn.c_proj.bias", 1, {1, 0}, false},
    {"ln2.weight", "ln_2.weight", 1, {1, 0}, false},
    {"ln2.bias", "ln_2.bias", 1, {1, 0}, false},
    {"mlp.fc.weight", "mlp.c_fc.weight", 2, {1, 4}, true},
    {"mlp.fc.bias", "mlp.c_fc.bias", 1, {4, 0}, false},
    {"mlp.proj.weight", "mlp.c_proj.weight", 2, {4, 1}, true},
    {"mlp.proj.bias", "mlp.c_proj.bias", 1, {1, 0}, false},
};

// Trellis's parameter names of a GPT-2 of `layers` blocks, in GPT2LMHeadModel's order.
std::vector<std::string> parameter_names(std::int64_t layers) {
  std::vector<std::string> names = {"wte", "wpe"};
  for (std::int64_t i = 0; i < layers; ++i)
    for (const BlockTensor& t : kBlockTensors)
      names.push_back("h." + std::to_string(i) + "." + t.trellis);
  names.push_back("lnf.weight");
  names.push_back("lnf.bias");
  return names;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string directory_text(const HfDirectory& dir) {
  return "Hugging Face directory " + dir.dir().string();
}

// The prefix of `dir`'s names: GPT2LMHeadModel's, or none (GPT2Model's).
std::string name_prefix(const HfDirectory& dir) {
  return dir.find(std::string(kPrefix) + "wte.weight") != nullptr ? std::string(kPrefix) : "";
}

bool converts_to_f32(SafetensorsDType t) {
  return t == SafetensorsDType::f32 || t == SafetensorsDType::f16 || t == SafetensorsDType::bf16 ||
         t == SafetensorsDType::f64;
}

void check_tensor(const HfDirectory& dir, const SafetensorsTensor& t,
                  const std::vector<std::int64_t>& shape, const std::string& why) {
  if (t.shape != shape) {
    throw InputError(directory_text(dir) + ": tensor \"" + t.name + "\" has shape " +
                     shape_text(t.shape) + "; valid: " + shape_text(shape) + " (" + why + ")");
  }
  if (!converts_to_f32(t.dtype)) {
    throw InputError(directory_text(dir) + ": tensor \"" + t.name + "\" is " +
                     safetensors_dtype_name(t.dtype) + "; valid: F32, BF16, F16 or F64");
  }
}

// A Conv1D tensor: `values` of Trellis's shape `global` with its last axis moved first
// (`to_hf`), or Hugging Face's values of that rotated shape back in Trellis's order.
std::vector<float> rotate_last_axis(const std::vector<float>& values, const Shape& global,
                                    bool to_hf) {
  const std::int64_t last = global[global.rank() - 1];
  const std::int64_t rest = global.numel() / last;
  std::vector<float> out(values.size());
  for (std::int64_t f = 0; f < rest; ++f) {
    for (std::int64_t j = 0; j < last; ++j) {
      const auto trellis_at = static_cast<std::size_t>(f * last + j);
      const auto hf_at = static_cast<std::size_t>(j * rest + f);
      if (to_hf) {
        out[hf_at] = values[trellis_at];
      } else {
        out[trellis_at] = values[hf_at];
      }
    }
  }
  return out;
}

Shape rotated(const Shape& s) {
  std::vector<std::int64_t> dims = {s[s.rank() - 1]};
  for (int d = 0; d + 1 < s.rank(); ++d) dims.push_back(s[d]);
  return Shape(std::span<const std::int64_t>(dims));
}

// The place of `p`, checked against its global shape.
HfGpt2Place checked_place(const Parameter& p, const ModelDims& dims) {
  HfGpt2Place place = hf_gpt2_place(p.name, dims);
  std::int64_t numel = 1;
  for (std::int64_t d : place.shape) numel *= d;
  if (place.vocab_rows) numel = numel / dims.vocab_size * dims.padded_vocab;
  if (numel != p.global_shape.numel()) {
    throw Error("parameter " + p.name + " " + p.global_shape.str() + " does not match " +
                "Hugging Face's " + place.name + " " + shape_text(place.shape));
  }
  return place;
}

// The shard of `p` as runs of its Hugging Face tensor: visit(hf_index, local_index, run), where
// local indices count in the shard's values as hf_order() gives them. Padding rows are left out.
template <class Visit>
void for_each_hf_run(const Parameter& p, const HfGpt2Place& place, const ModelDims& dims,
                     Visit&& visit) {
  check_box(p.global_shape, p.shard_offset, p.value.shape(), "parameter " + p.name);
  const std::int64_t real = dims.vocab_size * (p.global_shape.numel() / dims.padded_vocab);
  auto keep = [&](std::int64_t global, std::int64_t local, std::int64_t run) {
    // Runs lie within one row, so a run is all real or all padding.
    if (!place.vocab_rows || global < real) visit(global, local, run);
  };
  if (place.transposed) {
    for_each_box_run(rotated(p.global_shape), rotated(p.shard_offset), rotated(p.value.shape()),
                     keep);
  } else {
    for_each_box_run(p.global_shape, p.shard_offset, p.value.shape(), keep);
  }
}

// This rank's values of `p`, in for_each_hf_run's local order.
std::vector<float> hf_order(const Parameter& p, const HfGpt2Place& place, Kernels& kernels) {
  std::vector<float> shard = f32_to_host(kernels, p.value);
  return place.transposed ? rotate_last_axis(shard, p.value.shape(), true) : shard;
}

// The export's file: GPT2LMHeadModel's tensors, marked as PyTorch's (Hugging Face's loaders
// refuse a file whose "format" they do not know).
SafetensorsLayout export_layout(const ModelDims& dims) {
  return safetensors_layout(hf_gpt2_tensors(dims), {{"format", "pt"}});
}

std::string system_error(const std::string& what, const std::filesystem::path& file) {
  return "Hugging Face export: cannot " + what + " " + file.string() + ": " + std::strerror(errno);
}

}  // namespace

HfGpt2Place hf_gpt2_place(const std::string& parameter, const ModelDims& dims) {
  const std::int64_t C = dims.hidden;
  if (parameter == "wte") return {"wte.weight", {dims.vocab_size, C}, false, true};
  if (parameter == "wpe") return {"wpe.weight", {dims.max_seq_len, C}, false, false};
  if (parameter == "lnf.weight") return {"ln_f.weight", {C}, false, false};
  if (parameter == "lnf.bias") return {"ln_f.bias", {C}, false, false};
  static const std::regex block(R"(h\.(\d+)\.(.+))");
  std::smatch m;
  if (std::regex_match(parameter, m, block) && std::stoll(m[1].str()) < dims.layers) {
    for (const BlockTensor& t : kBlockTensors) {
      if (m[2].str() != t.trellis) continue;
      std::vector<std::int64_t> shape;
      for (int d = 0; d < t.rank; ++d) shape.push_back(t.shape_in_c[d] * C);
      return {"h." + m[1].str() + "." + t.hf, shape, t.transposed, false};
    }
  }
  throw Error("parameter " + parameter + " has no counterpart in Hugging Face's GPT-2");
}

std::vector<SafetensorsShape> hf_gpt2_tensors(const ModelDims& dims) {
  std::vector<SafetensorsShape> out;
  for (const std::string& name : parameter_names(dims.layers)) {
    HfGpt2Place place = hf_gpt2_place(name, dims);
    out.push_back({std::string(kPrefix) + place.name, place.shape});
  }
  return out;
}

void check_hf_gpt2_weights(const HfDirectory& dir, const ModelDims& dims) {
  const std::string prefix = name_prefix(dir);
  const std::string why = "config.json's sizes";
  std::set<std::string> expected;
  for (const std::string& name : parameter_names(dims.layers)) {
    const HfGpt2Place place = hf_gpt2_place(name, dims);
    const std::string hf_name = prefix + place.name;
    const SafetensorsTensor* t = dir.find(hf_name);
    if (t == nullptr) {
      throw InputError(directory_text(dir) + ": no tensor \"" + hf_name + "\" (a GPT-2 of " +
                       std::to_string(dims.layers) + " layers holds " +
                       std::to_string(parameter_names(dims.layers).size()) +
                       " weight tensors, named with or without \"transformer.\")");
    }
    check_tensor(dir, *t, place.shape, why);
    expected.insert(hf_name);
  }
  static const std::regex mask_buffer(R"(h\.\d+\.attn\.(bias|masked_bias))");
  for (const std::string& name : dir.names()) {
    if (expected.count(name) != 0) continue;
    const std::string unprefixed =
        name.starts_with(prefix) ? name.substr(prefix.size()) : std::string();
    if (std::regex_match(unprefixed, mask_buffer)) continue;
    if (name == "lm_head.weight") {
      check_tensor(dir, *dir.find(name), {dims.vocab_size, dims.hidden}, "the head, tied to wte");
      continue;
    }
    throw InputError(directory_text(dir) + ": tensor \"" + name +
                     "\" is not part of a GPT-2 (valid names: " + prefix + "wte.weight, " + prefix +
                     "wpe.weight, " + prefix + "h.<i>.ln_1.weight ... " + prefix +
                     "h.<i>.mlp.c_proj.bias, " + prefix + "ln_f.weight, " + prefix +
                     "ln_f.bias, lm_head.weight)");
  }
}

void load_hf_gpt2(const HfDirectory& dir, const ModelDims& dims,
                  const std::vector<Parameter*>& params, Kernels& kernels) {
  check_hf_gpt2_weights(dir, dims);
  const std::string prefix = name_prefix(dir);
  if (dir.find("lm_head.weight") != nullptr &&
      dir.read_f32("lm_head.weight") != dir.read_f32(prefix + "wte.weight")) {
    throw InputError(directory_text(dir) +
                     ": lm_head.weight differs from wte.weight; Trellis's GPT-2 ties the head to "
                     "the token embedding (valid: a checkpoint whose head is tied)");
  }
  std::vector<float> whole, shard;
  for (Parameter* p : params) {
    const HfGpt2Place place = checked_place(*p, dims);
    std::vector<float> values = dir.read_f32(prefix + place.name);
    whole = place.transposed ? rotate_last_axis(values, p->global_shape, false) : std::move(values);
    whole.resize(static_cast<std::size_t>(p->global_shape.numel()), 0.0f);  // padding rows
    check_box(p->global_shape, p->shard_offset, p->value.shape(), "parameter " + p->name);
    shard.assign(static_cast<std::size_t>(p->value.numel()), 0.0f);
    for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                     [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                       std::copy_n(whole.data() + global, run, shard.data() + local);
                     });
    copy_from_host(kernels, shard, p->value);
  }
}

void create_hf_gpt2_weights(const std::filesystem::path& file, const ModelDims& dims) {
  const SafetensorsLayout layout = export_layout(dims);
  UniqueFd fd(::open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644));
  if (fd.get() < 0) throw Error(system_error("create", file));
  const auto head = static_cast<ssize_t>(layout.head.size());
  if (::write(fd.get(), layout.head.data(), layout.head.size()) != head ||
      ::ftruncate(fd.get(), static_cast<off_t>(layout.file_bytes)) != 0) {
    throw Error(system_error("size", file));
  }
}

void write_hf_gpt2_shards(const std::filesystem::path& file, const ModelDims& dims,
                          const std::vector<Parameter*>& params, Kernels& kernels) {
  const SafetensorsLayout layout = export_layout(dims);
  UniqueFd fd(::open(file.c_str(), O_WRONLY));
  if (fd.get() < 0) throw Error(system_error("open", file));
  for (Parameter* p : params) {
    const HfGpt2Place place = checked_place(*p, dims);
    const SafetensorsLayout::Entry* entry = layout.find(std::string(kPrefix) + place.name);
    const std::vector<float> values = hf_order(*p, place, kernels);
    bool ok = true;
    for_each_hf_run(
        *p, place, dims, [&](std::int64_t global, std::int64_t local, std::int64_t run) {
          const auto at =
              static_cast<off_t>(entry->file_offset + 4 * static_cast<std::uint64_t>(global));
          const auto bytes = static_cast<std::size_t>(run) * 4;
          ok = ok &&
               ::pwrite(fd.get(), values.data() + local, bytes, at) == static_cast<ssize_t>(bytes);
        });
    if (!ok) throw Error(system_error("write " + p->name + " into", file));
  }
  if (::fsync(fd.get()) != 0) throw Error(system_error("flush", file));
}

void finish_hf_gpt2_export(const std::filesystem::path& dir, const std::filesystem::path& weights,
                           const ModelDims& dims) {
  std::error_code ec;
  std::filesystem::rename(weights, dir / "model.safetensors", ec);
  if (ec) {
    throw Error("Hugging Face export: cannot rename " + weights.string() + " to " +
                (dir / "model.safetensors").string() + ": " + ec.message());
  }
  const std::filesystem::path config = dir / "config.json";
  std::filesystem::path partial = config;
  partial += ".partial";
  std::filesystem::remove(partial, ec);
  write_durable_file(partial, hf_gpt2_config(dims).dump(2) + "\n");
  std::filesystem::rename(partial, config, ec);
  if (ec) {
    throw Error("Hugging Face export: cannot rename " + partial.string() + " to " +
                config.string() + ": " + ec.message());
  }
  sync_directory(dir);
}

void save_hf_gpt2(const std::filesystem::path& dir, const ModelDims& dims,
                  const std::vector<Parameter*>& params, Kernels& kernels) {
  // Every value of the file must come from some parameter.
  const SafetensorsLayout layout = export_layout(dims);
  std::map<std::string, std::vector<bool>> written;
  for (const SafetensorsLayout::Entry& e : layout.entries)
    written[e.name].assign(static_cast<std::size_t>(e.elements()), false);
  for (Parameter* p : params) {
    const HfGpt2Place place = checked_place(*p, dims);
    std::vector<bool>& mask = written.at(std::string(kPrefix) + place.name);
    for_each_hf_run(*p, place, dims, [&](std::int64_t global, std::int64_t, std::int64_t run) {
      std::fill_n(mask.begin() + global, run, true);
    });
  }
  for (const auto& [name, mask] : written) {
    if (std::find(mask.begin(), mask.end(), false) != mask.end())
      throw Error("Hugging Face export: no parameter provided the values of " + name);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path partial = dir / "model.safetensors.partial";
  create_hf_gpt2_weights(partial, dims);
  write_hf_gpt2_shards(partial, dims, params, kernels);
  finish_hf_gpt2_export(dir, partial, dims);
}

}  // namespace trellis
