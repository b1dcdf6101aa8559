#include "checkpoint/manifest.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "checkpoint/crc32.h"
#include "json/json_fields.h"
#include "json/readable_json.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

using json::Document;
using json::Value;

Document shape_json(const Shape& shape) {
  Document a = Document::array();
  for (std::int64_t d : shape) a.push_back(d);
  return a;
}

Shape shape_from(const Value& value) {
  std::vector<std::int64_t> dims;
  for (const Value& d : json::items(value)) {
    const std::int64_t dim = json::to_int(d);
    if (dim < 0) throw std::runtime_error("a negative dimension");
    dims.push_back(dim);
  }
  if (dims.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    throw std::runtime_error("more than " + std::to_string(Shape::kMaxRank) + " dimensions");
  }
  return Shape(dims);
}

// Reads field `key` of `object` with `read`, naming the field's path when it is missing or wrong.
template <class Read>
auto field(const Value& object, const std::string& path, const char* key, Read read) {
  try {
    return read(json::at(object, key));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + "." + key + ": " + e.what());
  }
}

std::int64_t int_field(const Value& o, const std::string& path, const char* key) {
  return field(o, path, key, [](const Value& j) { return json::to_int(j); });
}

std::string string_field(const Value& o, const std::string& path, const char* key) {
  return field(o, path, key, [](const Value& j) { return json::to_string(j); });
}

// The manifest's words for the architecture's choices: the config's ([model] norm, mlp,
// positions).
const char* architecture_word(ModelArchitecture::Norm n) {
  return n == ModelArchitecture::Norm::rmsnorm ? "rmsnorm" : "layernorm";
}
const char* architecture_word(ModelArchitecture::Mlp m) {
  return m == ModelArchitecture::Mlp::swiglu ? "swiglu" : "gelu";
}
const char* architecture_word(ModelArchitecture::Positions p) {
  return p == ModelArchitecture::Positions::rope ? "rope" : "learned";
}

// One of `words` (the choices of `key`), as the index of the word.
int choice_field(const Value& model, const char* key, std::initializer_list<const char*> words) {
  const std::string word = string_field(model, "model", key);
  int i = 0;
  for (const char* w : words) {
    if (word == w) return i;
    ++i;
  }
  throw std::runtime_error(std::string("model.") + key + ": \"" + word +
                           "\" is not one of its words");
}

ModelArchitecture read_architecture(const Value& model) {
  auto number = [](const Value& j) { return json::to_number(j); };
  auto boolean = [](const Value& j) { return json::to_bool(j); };
  ModelArchitecture a;
  a.norm =
      static_cast<ModelArchitecture::Norm>(choice_field(model, "norm", {"layernorm", "rmsnorm"}));
  a.norm_eps = field(model, "model", "norm_eps", number);
  a.mlp = static_cast<ModelArchitecture::Mlp>(choice_field(model, "mlp", {"gelu", "swiglu"}));
  a.ffn_hidden = int_field(model, "model", "ffn_hidden");
  a.positions = static_cast<ModelArchitecture::Positions>(
      choice_field(model, "positions", {"learned", "rope"}));
  a.rope_theta = field(model, "model", "rope_theta", number);
  a.kv_heads = int_field(model, "model", "kv_heads");
  a.bias = field(model, "model", "bias", boolean);
  a.tie_embeddings = field(model, "model", "tie_embeddings", boolean);
  if (a.ffn_hidden < 1 || a.kv_heads < 1 || !(a.norm_eps > 0) || !(a.rope_theta > 0))
    throw std::runtime_error("model: ffn_hidden, kv_heads, norm_eps or rope_theta out of range");
  return a;
}

}  // namespace

const ManifestTensor* Manifest::find(const std::string& name) const {
  for (const ManifestTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string Manifest::text() const {
  Document root = Document::object();
  root["format"] = kFormat;
  root["version"] = kVersion;
  root["step"] = step;
  Document optimizer = Document::object();
  optimizer["name"] = "adamw";
  optimizer["steps"] = optimizer_steps;
  root["optimizer"] = std::move(optimizer);
  Document d = Document::object();
  d["next_step"] = step + 1;
  d["global_batch"] = data.global_batch;
  d["seq_len"] = data.seq_len;
  d["shuffle"] = data.shuffle;
  d["seed"] = data.seed;
  root["data"] = std::move(d);
  Document model = Document::object();
  model["vocab_size"] = dims.vocab_size;
  model["padded_vocab"] = dims.padded_vocab;
  model["seq_len"] = dims.seq_len;
  model["max_seq_len"] = dims.max_seq_len;
  model["layers"] = dims.layers;
  model["heads"] = dims.heads;
  model["hidden"] = dims.hidden;
  // Only for a mixture of experts: dense models' manifests keep the text they had before it.
  if (moe.experts > 0) {
    model["experts"] = moe.experts;
    model["top_k"] = moe.top_k;
    model["moe_every"] = moe.every;
    model["moe_aux_loss_coeff"] = moe.aux_loss_coeff;
    model["capacity_factor"] = moe.capacity_factor;
  }
  // kv_heads 0: a manifest made without an architecture, GPT-2's.
  if (arch.kv_heads > 0 && !arch.is_gpt2(dims.hidden, dims.heads)) {
    model["norm"] = architecture_word(arch.norm);
    model["norm_eps"] = arch.norm_eps;
    model["mlp"] = architecture_word(arch.mlp);
    model["ffn_hidden"] = arch.ffn_hidden;
    model["positions"] = architecture_word(arch.positions);
    model["rope_theta"] = arch.rope_theta;
    model["kv_heads"] = arch.kv_heads;
    model["bias"] = arch.bias;
    model["tie_embeddings"] = arch.tie_embeddings;
  }
  root["model"] = std::move(model);
  Document l = Document::object();
  l["world"] = layout.world;
  l["tensor"] = layout.tensor;
  l["pipeline"] = layout.pipeline;
  l["data"] = layout.data;
  // Only when the tokens were split: manifests of runs without context parallelism keep the text
  // they had before it existed.
  if (layout.context > 1) l["context"] = layout.context;
  l["virtual_stages"] = layout.virtual_stages;
  l["tensor_mode"] = layout.tensor_mode;
  l["zero"] = layout.zero;
  if (layout.expert > 1) l["expert"] = layout.expert;
  root["layout"] = std::move(l);
  Document list = Document::array();
  for (const ManifestTensor& t : tensors) {
    Document tensor = Document::object();
    tensor["name"] = t.name;
    tensor["dtype"] = "f32";
    tensor["shape"] = shape_json(t.shape);
    Document shards = Document::array();
    for (const ManifestShard& s : t.shards) {
      Document shard = Document::object();
      shard["file"] = s.file;
      shard["offset"] = shape_json(s.region.offset);
      shard["shape"] = shape_json(s.region.shape);
      Document range = Document::array();
      range.push_back(s.region.begin);
      range.push_back(s.region.end);
      shard["range"] = std::move(range);
      shard["byte_offset"] = s.byte_offset;
      shard["crc32"] = crc32_hex(s.crc32);
      shards.push_back(std::move(shard));
    }
    tensor["shards"] = std::move(shards);
    list.push_back(std::move(tensor));
  }
  root["tensors"] = std::move(list);
  return json::readable_text(root);
}

Manifest Manifest::parse(std::string_view text, const std::filesystem::path& file) {
  const std::string where = "checkpoint manifest " + file.string();
  Value root;
  try {
    root = json::parse(text);
  } catch (const std::runtime_error& e) {
    throw InputError(where + ": not valid JSON (" + e.what() +
                     "); it is not a Trellis checkpoint, or it was damaged");
  }
  const Value* format = json::find(root, "format");
  if (format == nullptr || !format->is_string() ||
      format->get_ref<const std::string&>() != kFormat) {
    throw InputError(where + ": not a Trellis checkpoint (no \"format\": \"" + kFormat +
                     "\"); valid: the manifest.json of a step directory written by trellis-train");
  }
  Manifest m;
  try {
    const std::int64_t version = int_field(root, "manifest", "version");
    if (version != kVersion) {
      throw InputError(where + ": format version " + std::to_string(version) +
                       ", but this build reads version " + std::to_string(kVersion));
    }
    m.step = int_field(root, "manifest", "step");
    const Value& optimizer = json::at(root, "optimizer");
    m.optimizer_steps = int_field(optimizer, "optimizer", "steps");
    const Value& d = json::at(root, "data");
    m.data.global_batch = int_field(d, "data", "global_batch");
    m.data.seq_len = int_field(d, "data", "seq_len");
    m.data.shuffle = field(d, "data", "shuffle", [](const Value& j) { return json::to_bool(j); });
    m.data.seed = int_field(d, "data", "seed");
    const Value& model = json::at(root, "model");
    m.dims.vocab_size = int_field(model, "model", "vocab_size");
    m.dims.padded_vocab = int_field(model, "model", "padded_vocab");
    m.dims.seq_len = int_field(model, "model", "seq_len");
    m.dims.max_seq_len = int_field(model, "model", "max_seq_len");
    m.dims.layers = int_field(model, "model", "layers");
    m.dims.heads = int_field(model, "model", "heads");
    m.dims.hidden = int_field(model, "model", "hidden");
    if (json::find(model, "experts") != nullptr) {
      auto number = [](const Value& j) { return json::to_number(j); };
      m.moe.experts = int_field(model, "model", "experts");
      m.moe.top_k = int_field(model, "model", "top_k");
      m.moe.every = int_field(model, "model", "moe_every");
      m.moe.aux_loss_coeff = field(model, "model", "moe_aux_loss_coeff", number);
      m.moe.capacity_factor = field(model, "model", "capacity_factor", number);
      if (m.moe.experts < 1 || m.moe.every < 1 || m.moe.top_k < 1 || m.moe.top_k > m.moe.experts)
        throw std::runtime_error("model: experts, top_k or moe_every out of range");
    }
    m.arch = ModelArchitecture::gpt2(m.dims.hidden, m.dims.heads);
    if (json::find(model, "norm") != nullptr) m.arch = read_architecture(model);
    const Value& l = json::at(root, "layout");
    m.layout.world = static_cast<int>(int_field(l, "layout", "world"));
    m.layout.tensor = static_cast<int>(int_field(l, "layout", "tensor"));
    m.layout.pipeline = static_cast<int>(int_field(l, "layout", "pipeline"));
    m.layout.data = static_cast<int>(int_field(l, "layout", "data"));
    if (json::find(l, "context") != nullptr)
      m.layout.context = static_cast<int>(int_field(l, "layout", "context"));
    m.layout.virtual_stages = static_cast<int>(int_field(l, "layout", "virtual_stages"));
    m.layout.tensor_mode = string_field(l, "layout", "tensor_mode");
    m.layout.zero = static_cast<int>(int_field(l, "layout", "zero"));
    if (json::find(l, "expert") != nullptr)
      m.layout.expert = static_cast<int>(int_field(l, "layout", "expert"));
    for (const Value& t : json::items(json::at(root, "tensors"))) {
      ManifestTensor tensor;
      tensor.name = string_field(t, "tensors[]", "name");
      const std::string path = "tensor '" + tensor.name + "'";
      const std::string dtype = string_field(t, path, "dtype");
      if (dtype != "f32") throw std::runtime_error(path + ": dtype " + dtype + "; valid: f32");
      tensor.shape = field(t, path, "shape", shape_from);
      for (const Value& s : json::items(json::at(t, "shards"))) {
        ManifestShard shard;
        shard.file = string_field(s, path + " shard", "file");
        if (shard.file.empty() || shard.file.find('/') != std::string::npos ||
            shard.file.starts_with(".")) {
          throw std::runtime_error(path + ": shard file '" + shard.file +
                                   "' is not a plain file name in the step directory");
        }
        shard.region.global_shape = tensor.shape;
        shard.region.offset = field(s, path + " shard", "offset", shape_from);
        shard.region.shape = field(s, path + " shard", "shape", shape_from);
        const Value::array_t& range = field(s, path + " shard", "range", json::items);
        if (range.size() != 2) throw std::runtime_error(path + ": range needs 2 numbers");
        shard.region.begin = json::to_int(range[0]);
        shard.region.end = json::to_int(range[1]);
        shard.byte_offset = int_field(s, path + " shard", "byte_offset");
        const std::string crc = string_field(s, path + " shard", "crc32");
        std::size_t used = 0;
        unsigned long value = 0;
        try {
          value = std::stoul(crc, &used, 16);
        } catch (const std::exception&) {
          used = 0;
        }
        if (crc.size() != 8 || used != 8) {
          throw std::runtime_error(path + ": crc32 '" + crc + "' is not 8 hex digits");
        }
        shard.crc32 = static_cast<std::uint32_t>(value);
        try {
          check_region(shard.region, path + " in " + shard.file);
        } catch (const Error& e) {
          throw std::runtime_error(e.what());
        }
        tensor.shards.push_back(std::move(shard));
      }
      m.tensors.push_back(std::move(tensor));
    }
  } catch (const InputError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw InputError(where + ": " + e.what());
  }
  return m;
}

Manifest Manifest::read(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw InputError("checkpoint manifest " + absolute_path_text(file) +
                     ": cannot be read (missing?); a step directory without its manifest is not "
                     "a complete checkpoint");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file);
}

std::vector<std::string> model_differences(const ModelDims& checkpoint, const ModelDims& run) {
  std::vector<std::string> out;
  auto differ = [&](const char* what, std::int64_t in_checkpoint, std::int64_t in_run) {
    if (in_checkpoint == in_run) return;
    out.push_back(std::string(what) + " is " + std::to_string(in_checkpoint) +
                  " in the checkpoint but " + std::to_string(in_run) + " in the run");
  };
  differ("vocab_size", checkpoint.vocab_size, run.vocab_size);
  differ("layers", checkpoint.layers, run.layers);
  differ("heads", checkpoint.heads, run.heads);
  differ("hidden", checkpoint.hidden, run.hidden);
  differ("max_seq_len (position table rows)", checkpoint.max_seq_len, run.max_seq_len);
  return out;
}

std::vector<std::string> architecture_differences(const ModelArchitecture& checkpoint,
                                                  const ModelArchitecture& run) {
  std::vector<std::string> out;
  auto differ = [&](const char* what, const std::string& in_checkpoint, const std::string& in_run) {
    if (in_checkpoint == in_run) return;
    out.push_back(std::string(what) + " is " + in_checkpoint + " in the checkpoint but " + in_run +
                  " in the run");
  };
  auto number = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };
  auto flag = [](bool v) { return std::string(v ? "true" : "false"); };
  differ("norm", architecture_word(checkpoint.norm), architecture_word(run.norm));
  differ("norm_eps", number(checkpoint.norm_eps), number(run.norm_eps));
  differ("mlp", architecture_word(checkpoint.mlp), architecture_word(run.mlp));
  differ("ffn_hidden", std::to_string(checkpoint.ffn_hidden), std::to_string(run.ffn_hidden));
  differ("positions", architecture_word(checkpoint.positions), architecture_word(run.positions));
  differ("rope_theta", number(checkpoint.rope_theta), number(run.rope_theta));
  differ("kv_heads", std::to_string(checkpoint.kv_heads), std::to_string(run.kv_heads));
  differ("bias", flag(checkpoint.bias), flag(run.bias));
  differ("tie_embeddings", flag(checkpoint.tie_embeddings), flag(run.tie_embeddings));
  return out;
}

std::vector<std::string> moe_differences(const MoeSettings& checkpoint, const MoeSettings& run) {
  std::vector<std::string> out;
  if (checkpoint.experts != run.experts) {
    out.push_back("experts is " + std::to_string(checkpoint.experts) + " in the checkpoint but " +
                  std::to_string(run.experts) + " in the run");
  } else if (checkpoint.experts > 0 && checkpoint.every != run.every) {
    out.push_back("moe_every is " + std::to_string(checkpoint.every) + " in the checkpoint but " +
                  std::to_string(run.every) + " in the run");
  }
  return out;
}

}  // namespace trellis
