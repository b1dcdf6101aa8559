#include "model/hf_weights.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <regex>
#include <set>
#include <span>

#include "checkpoint/durable_file.h"
#include "kernels/host_transfer.h"
#include "model/tensor_box.h"
#include "os/unique_fd.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// ---- The families' tables ----

// A size of Hugging Face's shape, from the model: C, 3C, the MLP's width, the keys' and values'
// width (kv_heads x head size), the vocabulary, the positions.
enum class Size : unsigned char { none, C, C3, F, KV, V, P };

// Which models hold a tensor.
enum class When : unsigned char { always, bias, mha, mha_bias, gqa, gqa_bias, untied };

// A Trellis parameter (a block's after "h.<i>.") and the Hugging Face tensors holding it (a
// block's after "<block><i>."): one, or one per slab of the parameter's first axis.
struct TensorRule {
  const char* trellis;
  std::array<const char*, 3> hf;
  std::array<Size, 2> shape;  // of each, as Hugging Face stores it
  bool transposed = false;    // held with its last axis first (Conv1D)
  bool vocab_rows = false;    // the first vocab_size rows of Trellis's tensor
  When when = When::always;
  bool prefixed = true;  // named after the family's prefix (all but LLaMA's lm_head.weight)
};

struct FamilyTable {
  const char* prefix;  // of the body's tensors, as the causal-LM class saves them
  const char* block;   // a block's tensors: <block><i>.
  std::span<const TensorRule> before, blocks, after;
  const char* buffers;      // names (after the prefix) that are buffers, not weights
  const char* valid_names;  // for messages, with <p> for the prefix
  const char* tied_note;    // why lm_head.weight must equal the token table
};

using S = Size;

constexpr TensorRule kGpt2Before[] = {
    {"wte", {"wte.weight"}, {S::V, S::C}, false, true},
    {"wpe", {"wpe.weight"}, {S::P, S::C}},
};
constexpr TensorRule kGpt2Blocks[] = {
    {"ln1.weight", {"ln_1.weight"}, {S::C}},
    {"ln1.bias", {"ln_1.bias"}, {S::C}},
    {"attn.qkv.weight", {"attn.c_attn.weight"}, {S::C, S::C3}, true},
    {"attn.qkv.bias", {"attn.c_attn.bias"}, {S::C3}},
    {"attn.proj.weight", {"attn.c_proj.weight"}, {S::C, S::C}, true},
    {"attn.proj.bias", {"attn.c_proj.bias"}, {S::C}},
    {"ln2.weight", {"ln_2.weight"}, {S::C}},
    {"ln2.bias", {"ln_2.bias"}, {S::C}},
    {"mlp.fc.weight", {"mlp.c_fc.weight"}, {S::C, S::F}, true},
    {"mlp.fc.bias", {"mlp.c_fc.bias"}, {S::F}},
    {"mlp.proj.weight", {"mlp.c_proj.weight"}, {S::F, S::C}, true},
    {"mlp.proj.bias", {"mlp.c_proj.bias"}, {S::C}},
};
constexpr TensorRule kGpt2After[] = {
    {"lnf.weight", {"ln_f.weight"}, {S::C}},
    {"lnf.bias", {"ln_f.bias"}, {S::C}},
};

constexpr TensorRule kLlamaBefore[] = {
    {"wte", {"embed_tokens.weight"}, {S::V, S::C}, false, true},
};
constexpr TensorRule kLlamaBlocks[] = {
    {"ln1.weight", {"input_layernorm.weight"}, {S::C}},
    {"attn.qkv.weight",
     {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"},
     {S::C, S::C},
     false,
     false,
     When::mha},
    {"attn.qkv.bias",
     {"self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"},
     {S::C},
     false,
     false,
     When::mha_bias},
    {"attn.q.weight", {"self_attn.q_proj.weight"}, {S::C, S::C}, false, false, When::gqa},
    {"attn.q.bias", {"self_attn.q_proj.bias"}, {S::C}, false, false, When::gqa_bias},
    {"attn.kv.weight",
     {"self_attn.k_proj.weight", "self_attn.v_proj.weight"},
     {S::KV, S::C},
     false,
     false,
     When::gqa},
    {"attn.kv.bias",
     {"self_attn.k_proj.bias", "self_attn.v_proj.bias"},
     {S::KV},
     false,
     false,
     When::gqa_bias},
    {"attn.proj.weight", {"self_attn.o_proj.weight"}, {S::C, S::C}},
    {"attn.proj.bias", {"self_attn.o_proj.bias"}, {S::C}, false, false, When::bias},
    {"ln2.weight", {"post_attention_layernorm.weight"}, {S::C}},
    {"mlp.fc.weight", {"mlp.gate_proj.weight", "mlp.up_proj.weight"}, {S::F, S::C}},
    {"mlp.fc.bias", {"mlp.gate_proj.bias", "mlp.up_proj.bias"}, {S::F}, false, false, When::bias},
    {"mlp.proj.weight", {"mlp.down_proj.weight"}, {S::C, S::F}},
    {"mlp.proj.bias", {"mlp.down_proj.bias"}, {S::C}, false, false, When::bias},
};
constexpr TensorRule kLlamaAfter[] = {
    {"lnf.weight", {"norm.weight"}, {S::C}},
    {"lm_head.weight", {"lm_head.weight"}, {S::V, S::C}, false, true, When::untied, false},
};

const FamilyTable& family_table(HfFamily family) {
  static const FamilyTable gpt2{
      "transformer.",
      "h.",
      kGpt2Before,
      kGpt2Blocks,
      kGpt2After,
      R"(h\.\d+\.attn\.(bias|masked_bias))",
      "<p>wte.weight, <p>wpe.weight, <p>h.<i>.ln_1.weight ... <p>h.<i>.mlp.c_proj.bias, "
      "<p>ln_f.weight, <p>ln_f.bias, lm_head.weight",
      "Trellis's GPT-2 ties the head to the token embedding (valid: a checkpoint whose head is "
      "tied)"};
  static const FamilyTable llama{
      "model.",
      "layers.",
      kLlamaBefore,
      kLlamaBlocks,
      kLlamaAfter,
      R"(layers\.\d+\.self_attn\.rotary_emb\.inv_freq)",
      "<p>embed_tokens.weight, <p>layers.<i>.input_layernorm.weight, "
      "<p>layers.<i>.self_attn.{q,k,v,o}_proj.weight, "
      "<p>layers.<i>.post_attention_layernorm.weight, "
      "<p>layers.<i>.mlp.{gate,up,down}_proj.weight (with attention_bias and mlp_bias also "
      "their .bias), <p>norm.weight, lm_head.weight",
      "config.json's tie_word_embeddings is true, which ties the head to the token embedding "
      "(valid: a checkpoint whose head is tied, or tie_word_embeddings false)"};
  return family == HfFamily::llama ? llama : gpt2;
}

bool holds(When when, const HfModel& m) {
  const bool mha = m.arch.kv_heads == m.dims.heads, bias = m.arch.bias;
  switch (when) {
    case When::always:
      return true;
    case When::bias:
      return bias;
    case When::mha:
      return mha;
    case When::mha_bias:
      return mha && bias;
    case When::gqa:
      return !mha;
    case When::gqa_bias:
      return !mha && bias;
    case When::untied:
      return !m.arch.tie_embeddings;
  }
  return false;
}

std::int64_t size_of(Size s, const HfModel& m) {
  const ModelDims& d = m.dims;
  switch (s) {
    case Size::none:
      break;
    case Size::C:
      return d.hidden;
    case Size::C3:
      return 3 * d.hidden;
    case Size::F:
      return m.arch.ffn_hidden;
    case Size::KV:
      return m.arch.kv_heads * (d.hidden / d.heads);
    case Size::V:
      return d.vocab_size;
    case Size::P:
      return d.max_seq_len;
  }
  return 0;
}

// ---- Where each parameter lives ----

// A Hugging Face tensor holding a parameter, or one slab of its first axis.
struct HfPlace {
  std::string name;                 // without the family's prefix
  bool prefixed = true;             // named after the prefix
  std::vector<std::int64_t> shape;  // as Hugging Face stores it
  bool transposed = false;
  bool vocab_rows = false;

  std::string full_name(const std::string& prefix) const { return prefixed ? prefix + name : name; }
};

std::vector<HfPlace> places_of(const TensorRule& rule, const std::string& hf_block,
                               const HfModel& m) {
  std::vector<HfPlace> out;
  for (const char* hf : rule.hf) {
    if (hf == nullptr) break;
    HfPlace p{hf_block + hf, rule.prefixed, {}, rule.transposed, rule.vocab_rows};
    for (Size s : rule.shape)
      if (s != Size::none) p.shape.push_back(size_of(s, m));
    out.push_back(std::move(p));
  }
  return out;
}

// Every parameter `m` has, with its places, in the family's order.
std::vector<std::pair<std::string, std::vector<HfPlace>>> all_places(const HfModel& m) {
  const FamilyTable& t = family_table(m.family);
  std::vector<std::pair<std::string, std::vector<HfPlace>>> out;
  auto add = [&](std::span<const TensorRule> rules, const std::string& trellis_block,
                 const std::string& hf_block) {
    for (const TensorRule& r : rules)
      if (holds(r.when, m)) out.emplace_back(trellis_block + r.trellis, places_of(r, hf_block, m));
  };
  add(t.before, "", "");
  for (std::int64_t i = 0; i < m.dims.layers; ++i) {
    const std::string index = std::to_string(i) + ".";
    add(t.blocks, "h." + index, t.block + index);
  }
  add(t.after, "", "");
  return out;
}

// The places of `parameter`; Error for one the family has no tensor for.
std::vector<HfPlace> places_of(const std::string& parameter, const HfModel& m) {
  const FamilyTable& t = family_table(m.family);
  auto find = [&](std::span<const TensorRule> rules, const std::string& name,
                  const std::string& hf_block) -> std::optional<std::vector<HfPlace>> {
    for (const TensorRule& r : rules)
      if (name == r.trellis && holds(r.when, m)) return places_of(r, hf_block, m);
    return std::nullopt;
  };
  static const std::regex block(R"(h\.(\d+)\.(.+))");
  std::smatch match;
  std::optional<std::vector<HfPlace>> found;
  if (std::regex_match(parameter, match, block)) {
    if (std::stoll(match[1].str()) < m.dims.layers)
      found = find(t.blocks, match[2].str(), t.block + match[1].str() + ".");
  } else if (!(found = find(t.before, parameter, ""))) {
    found = find(t.after, parameter, "");
  }
  if (!found) {
    throw Error("parameter " + parameter + " has no counterpart in Hugging Face's " +
                hf_family_name(m.family));
  }
  return *found;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::int64_t elements(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

Shape without_first(const Shape& s) {
  return Shape(std::span<const std::int64_t>(s.begin() + 1, s.end()));
}

// The places of `p`, checked against its global shape: one holds all of it, several one slab of
// its first axis each; a vocabulary place holds vocab_size of padded_vocab rows.
std::vector<HfPlace> checked_places(const Parameter& p, const HfModel& m) {
  std::vector<HfPlace> places = places_of(p.name, m);
  const auto slabs = static_cast<std::int64_t>(places.size());
  bool ok = slabs == 1 || (p.global_shape.rank() > 1 && p.global_shape[0] == slabs);
  for (const HfPlace& place : places) {
    std::int64_t numel = elements(place.shape);
    if (place.vocab_rows) numel = numel / m.dims.vocab_size * m.dims.padded_vocab;
    ok = ok && numel * slabs == p.global_shape.numel();
  }
  if (!ok) {
    std::string names;
    for (const HfPlace& place : places)
      names += (names.empty() ? "" : ", ") + place.name + " " + shape_text(place.shape);
    throw Error("parameter " + p.name + " " + p.global_shape.str() + " does not match " +
                "Hugging Face's " + names);
  }
  return places;
}

// Slab `j` of `slabs` of the shard of `p` (the whole shard when slabs is 1): the box of the
// slab's global shape this rank holds, and where its values start among the shard's. None when
// the shard has no row of that slab.
struct SlabBox {
  Shape global, offset, local;
  std::int64_t first = 0;
};

std::optional<SlabBox> slab_box(const Parameter& p, std::size_t j, std::size_t slabs) {
  check_box(p.global_shape, p.shard_offset, p.value.shape(), "parameter " + p.name);
  if (slabs == 1) return SlabBox{p.global_shape, p.shard_offset, p.value.shape(), 0};
  const auto row = static_cast<std::int64_t>(j);
  const std::int64_t begin = p.shard_offset[0], rows = p.value.shape()[0];
  if (row < begin || row >= begin + rows) return std::nullopt;
  SlabBox box{without_first(p.global_shape), without_first(p.shard_offset),
              without_first(p.value.shape()), 0};
  box.first = (row - begin) * box.local.numel();
  return box;
}

// ---- Values ----

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

// The slab box as runs of its Hugging Face tensor: visit(hf_index, local_index, run), local
// indices counting in the box's values as hf_values() gives them. Padding rows are left out.
template <class Visit>
void for_each_hf_run(const SlabBox& box, const HfPlace& place, const ModelDims& dims,
                     Visit&& visit) {
  const std::int64_t real = dims.vocab_size * (box.global.numel() / dims.padded_vocab);
  auto keep = [&](std::int64_t global, std::int64_t local, std::int64_t run) {
    // Runs lie within one row, so a run is all real or all padding.
    if (!place.vocab_rows || global < real) visit(global, local, run);
  };
  if (place.transposed) {
    for_each_box_run(rotated(box.global), rotated(box.offset), rotated(box.local), keep);
  } else {
    for_each_box_run(box.global, box.offset, box.local, keep);
  }
}

// The slab box's values of `shard` (this rank's values of the parameter), in for_each_hf_run's
// local order.
std::vector<float> hf_values(const std::vector<float>& shard, const SlabBox& box,
                             const HfPlace& place) {
  const auto first = shard.begin() + static_cast<std::ptrdiff_t>(box.first);
  std::vector<float> values(first, first + static_cast<std::ptrdiff_t>(box.local.numel()));
  return place.transposed ? rotate_last_axis(values, box.local, true) : values;
}

// For each value of `params` that goes into the file: visit(tensor name, hf index, values,
// local index, run), values in for_each_hf_run's local order.
template <class Visit>
void for_each_exported_run(const HfModel& m, const std::vector<Parameter*>& params,
                           Kernels* kernels, Visit&& visit) {
  const std::string prefix = family_table(m.family).prefix;
  const std::vector<float> none;
  for (Parameter* p : params) {
    const std::vector<HfPlace> places = checked_places(*p, m);
    const std::vector<float> shard = kernels ? f32_to_host(*kernels, p->value) : none;
    for (std::size_t j = 0; j < places.size(); ++j) {
      const std::optional<SlabBox> box = slab_box(*p, j, places.size());
      if (!box) continue;
      const std::vector<float> values = kernels ? hf_values(shard, *box, places[j]) : none;
      const std::string name = places[j].full_name(prefix);
      for_each_hf_run(*box, places[j], m.dims,
                      [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                        visit(name, global, values, local, run);
                      });
    }
  }
}

// ---- Files ----

std::string directory_text(const HfDirectory& dir) {
  return "Hugging Face directory " + dir.dir().string();
}

// The prefix of `dir`'s names: the family's (as its causal-LM class saves them), or none (as its
// base model does).
std::string name_prefix(const HfDirectory& dir, const HfModel& m) {
  const FamilyTable& t = family_table(m.family);
  const std::string prefix = t.prefix;
  return dir.find(prefix + places_of(t.before[0], "", m).at(0).name) != nullptr ? prefix : "";
}

// The token table's place.
HfPlace embedding_place(const HfModel& m) {
  return places_of(family_table(m.family).before[0], "", m).at(0);
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

// The export's file: the family's tensors, marked as PyTorch's (Hugging Face's loaders refuse a
// file whose "format" they do not know).
SafetensorsLayout export_layout(const HfModel& m) {
  return safetensors_layout(hf_tensors(m), {{"format", "pt"}});
}

std::string system_error(const std::string& what, const std::filesystem::path& file) {
  return "Hugging Face export: cannot " + what + " " + file.string() + ": " + std::strerror(errno);
}

void replace_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec) {
    throw Error("Hugging Face export: cannot rename " + from.string() + " to " + to.string() +
                ": " + ec.message());
  }
}

}  // namespace

std::vector<SafetensorsShape> hf_tensors(const HfModel& model) {
  const std::string prefix = family_table(model.family).prefix;
  std::vector<SafetensorsShape> out;
  for (const auto& [parameter, places] : all_places(model))
    for (const HfPlace& place : places) out.push_back({place.full_name(prefix), place.shape});
  return out;
}

void check_hf_weights(const HfDirectory& dir, const HfModel& model) {
  const FamilyTable& table = family_table(model.family);
  const std::string prefix = name_prefix(dir, model);
  const std::size_t count = hf_tensors(model).size();
  std::set<std::string> expected;
  for (const auto& [parameter, places] : all_places(model)) {
    for (const HfPlace& place : places) {
      const std::string name = place.full_name(prefix);
      const SafetensorsTensor* t = dir.find(name);
      if (t == nullptr) {
        throw InputError(directory_text(dir) + ": no tensor \"" + name + "\" (a " +
                         hf_family_name(model.family) + " of " + std::to_string(model.dims.layers) +
                         " layers holds " + std::to_string(count) +
                         " weight tensors, named with or without \"" + table.prefix + "\")");
      }
      check_tensor(dir, *t, place.shape, "config.json's sizes");
      expected.insert(name);
    }
  }
  const std::regex buffer(table.buffers);
  const HfPlace embedding = embedding_place(model);
  for (const std::string& name : dir.names()) {
    if (expected.count(name) != 0) continue;
    const std::string unprefixed =
        name.starts_with(prefix) ? name.substr(prefix.size()) : std::string();
    if (std::regex_match(unprefixed, buffer)) continue;
    if (name == "lm_head.weight" && model.arch.tie_embeddings) {
      check_tensor(dir, *dir.find(name), embedding.shape, "the head, tied to " + embedding.name);
      continue;
    }
    const std::string valid =
        std::regex_replace(std::string(table.valid_names), std::regex("<p>"), prefix);
    throw InputError(directory_text(dir) + ": tensor \"" + name + "\" is not part of a " +
                     hf_family_name(model.family) + " (valid names: " + valid + ")");
  }
}

void load_hf_weights(const HfDirectory& dir, const HfModel& model,
                     const std::vector<Parameter*>& params, Kernels& kernels) {
  check_hf_weights(dir, model);
  const std::string prefix = name_prefix(dir, model);
  const HfPlace embedding = embedding_place(model);
  if (model.arch.tie_embeddings && dir.find("lm_head.weight") != nullptr &&
      dir.read_f32("lm_head.weight") != dir.read_f32(embedding.full_name(prefix))) {
    throw InputError(directory_text(dir) + ": lm_head.weight differs from " + embedding.name +
                     "; " + family_table(model.family).tied_note);
  }
  std::vector<float> whole, shard;
  for (Parameter* p : params) {
    const std::vector<HfPlace> places = checked_places(*p, model);
    // Trellis's whole tensor: each place's values in Trellis's order, its padding rows zero.
    whole.clear();
    const Shape slab = places.size() == 1 ? p->global_shape : without_first(p->global_shape);
    for (const HfPlace& place : places) {
      std::vector<float> values = dir.read_f32(place.full_name(prefix));
      if (place.transposed) values = rotate_last_axis(values, slab, false);
      values.resize(static_cast<std::size_t>(slab.numel()), 0.0f);
      whole.insert(whole.end(), values.begin(), values.end());
    }
    check_box(p->global_shape, p->shard_offset, p->value.shape(), "parameter " + p->name);
    shard.assign(static_cast<std::size_t>(p->value.numel()), 0.0f);
    for_each_box_run(p->global_shape, p->shard_offset, p->value.shape(),
                     [&](std::int64_t global, std::int64_t local, std::int64_t run) {
                       std::copy_n(whole.data() + global, run, shard.data() + local);
                     });
    copy_from_host(kernels, shard, p->value);
  }
}

void create_hf_weights(const std::filesystem::path& file, const HfModel& model) {
  const SafetensorsLayout layout = export_layout(model);
  UniqueFd fd(::open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644));
  if (fd.get() < 0) throw Error(system_error("create", file));
  const auto head = static_cast<ssize_t>(layout.head.size());
  if (::write(fd.get(), layout.head.data(), layout.head.size()) != head ||
      ::ftruncate(fd.get(), static_cast<off_t>(layout.file_bytes)) != 0) {
    throw Error(system_error("size", file));
  }
}

void write_hf_shards(const std::filesystem::path& file, const HfModel& model,
                     const std::vector<Parameter*>& params, Kernels& kernels) {
  const SafetensorsLayout layout = export_layout(model);
  UniqueFd fd(::open(file.c_str(), O_WRONLY));
  if (fd.get() < 0) throw Error(system_error("open", file));
  bool ok = true;
  for_each_exported_run(
      model, params, &kernels,
      [&](const std::string& name, std::int64_t global, const std::vector<float>& values,
          std::int64_t local, std::int64_t run) {
        const SafetensorsLayout::Entry* entry = layout.find(name);
        const auto at =
            static_cast<off_t>(entry->file_offset + 4 * static_cast<std::uint64_t>(global));
        const auto bytes = static_cast<std::size_t>(run) * 4;
        ok = ok &&
             ::pwrite(fd.get(), values.data() + local, bytes, at) == static_cast<ssize_t>(bytes);
      });
  if (!ok) throw Error(system_error("write the parameters into", file));
  if (::fsync(fd.get()) != 0) throw Error(system_error("flush", file));
}

void finish_hf_export(const std::filesystem::path& dir, const std::filesystem::path& weights,
                      const HfModel& model) {
  replace_file(weights, dir / "model.safetensors");
  std::error_code ec;
  std::filesystem::remove(dir / "model.safetensors.index.json", ec);
  const std::filesystem::path config = dir / "config.json";
  std::filesystem::path partial = config;
  partial += ".partial";
  std::filesystem::remove(partial, ec);
  write_durable_file(partial, hf_config_json(model).dump(2) + "\n");
  replace_file(partial, config);
  sync_directory(dir);
}

void save_hf_model(const std::filesystem::path& dir, const HfModel& model,
                   const std::vector<Parameter*>& params, Kernels& kernels) {
  // Every value of the file must come from some parameter.
  const SafetensorsLayout layout = export_layout(model);
  std::map<std::string, std::vector<bool>> written;
  for (const SafetensorsLayout::Entry& e : layout.entries)
    written[e.name].assign(static_cast<std::size_t>(e.elements()), false);
  for_each_exported_run(
      model, params, nullptr,
      [&](const std::string& name, std::int64_t global, const std::vector<float>&, std::int64_t,
          std::int64_t run) { std::fill_n(written.at(name).begin() + global, run, true); });
  for (const auto& [name, mask] : written) {
    if (std::find(mask.begin(), mask.end(), false) != mask.end())
      throw Error("Hugging Face export: no parameter provided the values of " + name);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path partial = dir / "model.safetensors.partial";
  create_hf_weights(partial, model);
  write_hf_shards(partial, model, params, kernels);
  finish_hf_export(dir, partial, model);
}

}  // namespace trellis
