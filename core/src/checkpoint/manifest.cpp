#include "checkpoint/manifest.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "checkpoint/crc32.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis {

namespace {

Json shape_json(const Shape& shape) {
  Json a = Json::array();
  for (std::int64_t d : shape) a.push(d);
  return a;
}

Shape shape_from(const Json& json) {
  std::vector<std::int64_t> dims;
  for (const Json& d : json.items()) {
    if (d.as_int() < 0) throw std::runtime_error("a negative dimension");
    dims.push_back(d.as_int());
  }
  if (dims.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    throw std::runtime_error("more than " + std::to_string(Shape::kMaxRank) + " dimensions");
  }
  return Shape(dims);
}

// Reads field `key` of `object` with `read`, naming the field's path when it is missing or wrong.
template <class Read>
auto field(const Json& object, const std::string& path, const char* key, Read read) {
  try {
    return read(object.at(key));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + "." + key + ": " + e.what());
  }
}

std::int64_t int_field(const Json& o, const std::string& path, const char* key) {
  return field(o, path, key, [](const Json& j) { return j.as_int(); });
}

}  // namespace

const ManifestTensor* Manifest::find(const std::string& name) const {
  for (const ManifestTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Json Manifest::to_json() const {
  Json root = Json::object();
  root.set("format", kFormat);
  root.set("version", kVersion);
  root.set("step", step);
  Json optimizer = Json::object();
  optimizer.set("name", "adamw");
  optimizer.set("steps", optimizer_steps);
  root.set("optimizer", std::move(optimizer));
  Json d = Json::object();
  d.set("next_step", step + 1);
  d.set("global_batch", data.global_batch);
  d.set("seq_len", data.seq_len);
  d.set("shuffle", data.shuffle);
  d.set("seed", data.seed);
  root.set("data", std::move(d));
  Json model = Json::object();
  model.set("vocab_size", dims.vocab_size);
  model.set("padded_vocab", dims.padded_vocab);
  model.set("seq_len", dims.seq_len);
  model.set("max_seq_len", dims.max_seq_len);
  model.set("layers", dims.layers);
  model.set("heads", dims.heads);
  model.set("hidden", dims.hidden);
  root.set("model", std::move(model));
  Json l = Json::object();
  l.set("world", layout.world);
  l.set("tensor", layout.tensor);
  l.set("pipeline", layout.pipeline);
  l.set("data", layout.data);
  l.set("virtual_stages", layout.virtual_stages);
  l.set("tensor_mode", layout.tensor_mode);
  l.set("zero", layout.zero);
  root.set("layout", std::move(l));
  Json list = Json::array();
  for (const ManifestTensor& t : tensors) {
    Json tensor = Json::object();
    tensor.set("name", t.name);
    tensor.set("dtype", "f32");
    tensor.set("shape", shape_json(t.shape));
    Json shards = Json::array();
    for (const ManifestShard& s : t.shards) {
      Json shard = Json::object();
      shard.set("file", s.file);
      shard.set("offset", shape_json(s.region.offset));
      shard.set("shape", shape_json(s.region.shape));
      Json range = Json::array();
      range.push(s.region.begin);
      range.push(s.region.end);
      shard.set("range", std::move(range));
      shard.set("byte_offset", s.byte_offset);
      shard.set("crc32", crc32_hex(s.crc32));
      shards.push(std::move(shard));
    }
    tensor.set("shards", std::move(shards));
    list.push(std::move(tensor));
  }
  root.set("tensors", std::move(list));
  return root;
}

Manifest Manifest::from_json(const Json& root, const std::filesystem::path& file) {
  const std::string where = "checkpoint manifest " + file.string();
  const Json* format = root.find("format");
  if (!root.is_object() || format == nullptr || format->type() != Json::Type::string ||
      format->as_string() != kFormat) {
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
    const Json& optimizer = root.at("optimizer");
    m.optimizer_steps = int_field(optimizer, "optimizer", "steps");
    const Json& d = root.at("data");
    m.data.global_batch = int_field(d, "data", "global_batch");
    m.data.seq_len = int_field(d, "data", "seq_len");
    m.data.shuffle = field(d, "data", "shuffle", [](const Json& j) { return j.as_bool(); });
    m.data.seed = int_field(d, "data", "seed");
    const Json& model = root.at("model");
    m.dims.vocab_size = int_field(model, "model", "vocab_size");
    m.dims.padded_vocab = int_field(model, "model", "padded_vocab");
    m.dims.seq_len = int_field(model, "model", "seq_len");
    m.dims.max_seq_len = int_field(model, "model", "max_seq_len");
    m.dims.layers = int_field(model, "model", "layers");
    m.dims.heads = int_field(model, "model", "heads");
    m.dims.hidden = int_field(model, "model", "hidden");
    const Json& l = root.at("layout");
    m.layout.world = static_cast<int>(int_field(l, "layout", "world"));
    m.layout.tensor = static_cast<int>(int_field(l, "layout", "tensor"));
    m.layout.pipeline = static_cast<int>(int_field(l, "layout", "pipeline"));
    m.layout.data = static_cast<int>(int_field(l, "layout", "data"));
    m.layout.virtual_stages = static_cast<int>(int_field(l, "layout", "virtual_stages"));
    m.layout.tensor_mode =
        field(l, "layout", "tensor_mode", [](const Json& j) { return j.as_string(); });
    m.layout.zero = static_cast<int>(int_field(l, "layout", "zero"));
    for (const Json& t : root.at("tensors").items()) {
      ManifestTensor tensor;
      tensor.name = field(t, "tensors[]", "name", [](const Json& j) { return j.as_string(); });
      const std::string path = "tensor '" + tensor.name + "'";
      const std::string dtype =
          field(t, path, "dtype", [](const Json& j) { return j.as_string(); });
      if (dtype != "f32") throw std::runtime_error(path + ": dtype " + dtype + "; valid: f32");
      tensor.shape = field(t, path, "shape", shape_from);
      for (const Json& s : t.at("shards").items()) {
        ManifestShard shard;
        shard.file = field(s, path + " shard", "file", [](const Json& j) { return j.as_string(); });
        if (shard.file.empty() || shard.file.find('/') != std::string::npos ||
            shard.file.starts_with(".")) {
          throw std::runtime_error(path + ": shard file '" + shard.file +
                                   "' is not a plain file name in the step directory");
        }
        shard.region.global_shape = tensor.shape;
        shard.region.offset = field(s, path + " shard", "offset", shape_from);
        shard.region.shape = field(s, path + " shard", "shape", shape_from);
        const Json& range = s.at("range");
        if (range.items().size() != 2) throw std::runtime_error(path + ": range needs 2 numbers");
        shard.region.begin = range.items()[0].as_int();
        shard.region.end = range.items()[1].as_int();
        shard.byte_offset = int_field(s, path + " shard", "byte_offset");
        const std::string crc =
            field(s, path + " shard", "crc32", [](const Json& j) { return j.as_string(); });
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
  Json json;
  try {
    json = Json::parse(text.str());
  } catch (const std::runtime_error& e) {
    throw InputError("checkpoint manifest " + file.string() + ": not valid JSON (" + e.what() +
                     "); it is not a Trellis checkpoint, or it was damaged");
  }
  return from_json(json, file);
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

}  // namespace trellis
