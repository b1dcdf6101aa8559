// The checkpoint format without training: CRC-32, the manifest's JSON, regions copied between
// any two cuttings of a tensor, step directories, and a save and load through one rank with the
// errors a damaged checkpoint gives.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

#include "checkpoint/checkpoint_directory.h"
#include "checkpoint/checkpoint_reader.h"
#include "checkpoint/checkpoint_writer.h"
#include "checkpoint/crc32.h"
#include "checkpoint/manifest.h"
#include "checkpoint/tensor_region.h"
#include "comm/self_communicator.h"
#include "json/json_fields.h"
#include "json/readable_json.h"
#include "kernels/cpu/cpu_kernels.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

// The checkpoint code moves values with a Kernels (tensors may be on a GPU); here host memory.
Kernels* cpu_kernels() {
  static const std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
  return kernels.get();
}

fs::path work_dir(const std::string& name) {
  const fs::path dir = fs::path(TRELLIS_TEST_WORK_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The values of a whole [rows, cols] tensor: element i is i.
std::vector<float> iota_values(std::int64_t n) {
  std::vector<float> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

// The region's values cut out of the whole tensor (element i of the whole is i).
std::vector<float> expected_values(const TensorRegion& r) {
  std::vector<float> whole = iota_values(r.global_shape.numel());
  std::vector<float> out(static_cast<std::size_t>(r.numel()));
  copy_overlap(TensorRegion::whole(r.global_shape), whole.data(), r, out.data());
  return out;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

// CRC-32 by its definition, one bit at a time: the reflected IEEE polynomial, initial value and
// final xor all ones (what zlib, gzip and PNG compute).
std::uint32_t crc32_by_definition(const unsigned char* data, std::size_t bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < bytes; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

TEST_CASE("crc32 is the IEEE CRC of zlib, also computed in pieces") {
  const std::string text = "123456789";
  CHECK(crc32_update(0, text.data(), text.size()) == 0xCBF43926u);  // the standard check value
  const std::uint32_t part = crc32_update(0, text.data(), 4);
  CHECK(crc32_update(part, text.data() + 4, 5) == 0xCBF43926u);
  CHECK(crc32_hex(0xCBF43926u) == "cbf43926");
  CHECK(crc32_update(0, text.data(), 0) == 0u);
  // Every length up to a few words past the wide loops, at every alignment, as checkpoint shards
  // of any size and offset are: the same value as the definition, whole and in two pieces.
  std::vector<unsigned char> bytes(4096 + 64);
  std::uint32_t state = 12345;
  for (unsigned char& b : bytes)
    b = static_cast<unsigned char>((state = state * 1103515245u + 12345u) >> 24);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t length : {1, 3, 7, 8, 15, 31, 32, 33, 63, 64, 65, 255, 1000, 4096}) {
      CAPTURE(offset);
      CAPTURE(length);
      const unsigned char* data = bytes.data() + offset;
      const std::uint32_t want = crc32_by_definition(data, length);
      CHECK(crc32_update(0, data, length) == want);
      const std::size_t cut = length / 3;
      CHECK(crc32_update(crc32_update(0, data, cut), data + cut, length - cut) == want);
    }
  }
}

TEST_CASE("json: typed reads and parse errors say what and where") {
  const json::Value back = json::parse(json::readable_text({{"name", "a \"quoted\"\nname"},
                                                            {"n", std::int64_t{1} << 40},
                                                            {"x", 0.25},
                                                            {"two", 2.0},
                                                            {"list", {1, false}}}));
  CHECK(json::to_string(json::at(back, "name")) == "a \"quoted\"\nname");
  CHECK(json::to_int(json::at(back, "n")) == (std::int64_t{1} << 40));
  CHECK(json::to_number(json::at(back, "x")) == 0.25);
  CHECK(json::to_int(json::at(back, "two")) == 2);
  CHECK(json::items(json::at(back, "list")).size() == 2);
  CHECK_THROWS_WITH_AS(
      json::parse("{\n  \"a\": [1, 2,,]\n}"),
      doctest::Contains("line 2, column 14: syntax error while parsing value - unexpected ','"),
      std::runtime_error);
  CHECK_THROWS_WITH_AS(json::parse("{\"a\": 1} x"), doctest::Contains("expected end of input"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(json::to_int(json::at(back, "name")),
                       doctest::Contains("expected an integer, got a string"), std::runtime_error);
  CHECK_THROWS_WITH_AS(json::to_int(json::at(back, "x")),
                       doctest::Contains("expected an integer, got a number"), std::runtime_error);
  CHECK_THROWS_WITH_AS(json::to_int(json::parse("18446744073709551615")),
                       doctest::Contains("out of range"), std::runtime_error);
  CHECK_THROWS_WITH_AS(json::at(back, "missing"), doctest::Contains("no field 'missing'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(json::at(json::at(back, "list"), "a"),
                       doctest::Contains("expected an object, got an array"), std::runtime_error);
}

TEST_CASE(
    "a number past a double's range is a parse error, and a manifest with one an input error") {
  // Found by fuzz_manifest: the JSON library reports such a number as out_of_range rather than
  // as a parse error, and it escaped Manifest::parse as an exception no caller expects.
  CHECK_THROWS_WITH_AS(json::parse("[1e999]"), doctest::Contains("number overflow parsing '1e999'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(
      Manifest::parse("111e77771111111111111111111{\n  \"format\"", "dir/manifest.json"),
      doctest::Contains("checkpoint manifest dir/manifest.json: not valid JSON (number overflow "
                        "parsing '111e77771111111111111111111')"),
      InputError);
}

TEST_CASE("readable json: flat arrays and objects of flat members on one line") {
  const json::Document document = {
      {"format", "x"},
      {"model", {{"layers", 4}, {"shape", {128, 16}}}},
      {"tensors", json::Document::array(
                      {json::Document{{"name", "wte"}, {"shards", json::Document::array()}}})},
      {"empty", json::Document::object()}};
  CHECK(json::readable_text(document) == R"({
  "format": "x",
  "model": {"layers": 4, "shape": [128, 16]},
  "tensors": [
    {"name": "wte", "shards": []}
  ],
  "empty": {}
}
)");
  CHECK(json::line_text({{"loss", std::nan("")}, {"s", "\u00e9\x01"}}) ==
        "{\"loss\":null,\"s\":\"\u00e9\\u0001\"}");
}

TEST_CASE("a checkpoint of an earlier build loads: values, CRCs, manifest text byte for byte") {
  const fs::path step_dir = fs::path(TRELLIS_TEST_DATA_DIR) / "step-00000003";
  const std::string text = read_text(step_dir / "manifest.json");
  const Manifest manifest = Manifest::parse(text, step_dir / "manifest.json");
  CHECK(manifest.text() == text);
  CHECK(manifest.step == 3);
  CHECK(manifest.tensors.size() == 3);
  // The reader checks every shard's CRC-32 against the manifest's before using it.
  CheckpointReader reader(step_dir);
  auto allocator = make_cpu_allocator();
  const struct {
    const char* name;
    Shape shape;
    float first;
  } tensors[] = {
      {"wte", {16, 8}, 0.5f}, {"h.0.ln_1.bias", {24}, -3.25f}, {"adamw.m/wte", {16, 8}, 1000.0f}};
  for (const auto& t : tensors) {
    CAPTURE(t.name);
    Tensor values = Tensor::empty(t.shape, DType::f32, allocator);
    reader.read({t.name, TensorRegion::whole(t.shape), values}, *cpu_kernels());
    for (std::int64_t i = 0; i < values.numel(); ++i)
      REQUIRE(values.data<float>()[i] == t.first + static_cast<float>(i));
  }
}

TEST_CASE("a mixture of experts' manifest says its experts; a dense one reads as 0 experts") {
  const fs::path step_dir = fs::path(TRELLIS_TEST_DATA_DIR) / "step-00000003";
  Manifest manifest = Manifest::parse(read_text(step_dir / "manifest.json"), "manifest.json");
  CHECK(manifest.moe.experts == 0);
  CHECK(manifest.text().find("experts") == std::string::npos);
  manifest.moe.experts = 8;
  manifest.moe.top_k = 2;
  manifest.moe.every = 2;
  manifest.moe.aux_loss_coeff = 0.001;
  manifest.moe.capacity_factor = 1.25;
  const Manifest back = Manifest::parse(manifest.text(), "manifest.json");
  CHECK(back.moe.experts == 8);
  CHECK(back.moe.top_k == 2);
  CHECK(back.moe.every == 2);
  CHECK(back.moe.aux_loss_coeff == 0.001);
  CHECK(back.moe.capacity_factor == 1.25);
  CHECK(back.text() == manifest.text());
  // Which blocks hold how many experts decide the parameters; top_k and capacity do not.
  MoeSettings run = back.moe;
  run.top_k = 1;
  run.capacity_factor = 0.0;
  CHECK(moe_differences(back.moe, run).empty());
  run.every = 1;
  REQUIRE(moe_differences(back.moe, run).size() == 1);
  CHECK(moe_differences(back.moe, run)[0] == "moe_every is 2 in the checkpoint but 1 in the run");
  CHECK(moe_differences(back.moe, MoeSettings{})[0] ==
        "experts is 8 in the checkpoint but 0 in the run");
}

TEST_CASE("a manifest records another architecture than GPT-2's; an earlier one reads as GPT-2") {
  const fs::path step_dir = fs::path(TRELLIS_TEST_DATA_DIR) / "step-00000003";
  Manifest manifest = Manifest::parse(read_text(step_dir / "manifest.json"), "manifest.json");
  const ModelDims& d = manifest.dims;
  CHECK(manifest.arch.is_gpt2(d.hidden, d.heads));
  CHECK(manifest.text().find("norm") == std::string::npos);
  ModelArchitecture llama = ModelArchitecture::gpt2(d.hidden, d.heads);
  llama.norm = ModelArchitecture::Norm::rmsnorm;
  llama.norm_eps = 1e-6;
  llama.mlp = ModelArchitecture::Mlp::swiglu;
  llama.ffn_hidden = 40;
  llama.positions = ModelArchitecture::Positions::rope;
  llama.rope_theta = 500000.0;
  llama.kv_heads = 1;
  llama.bias = false;
  llama.tie_embeddings = false;
  manifest.arch = llama;
  const Manifest back = Manifest::parse(manifest.text(), "manifest.json");
  CHECK(architecture_differences(back.arch, llama).empty());
  CHECK(back.arch.norm_eps == 1e-6);
  CHECK(back.arch.rope_theta == 500000.0);
  CHECK(back.text() == manifest.text());
  const std::vector<std::string> differences =
      architecture_differences(back.arch, ModelArchitecture::gpt2(d.hidden, d.heads));
  REQUIRE(differences.size() == 9);
  CHECK(differences[0] == "norm is rmsnorm in the checkpoint but layernorm in the run");
  CHECK(differences[5] == "rope_theta is 500000 in the checkpoint but 10000 in the run");
  // A word the manifest does not know is an input error naming the field.
  std::string text = manifest.text();
  text.replace(text.find("\"rmsnorm\""), 9, "\"batchnm\"");
  CHECK_THROWS_WITH_AS(Manifest::parse(text, "manifest.json"),
                       doctest::Contains("model.norm: \"batchnm\""), InputError);
}

TEST_CASE("regions: boxes and ranges copy into any other cutting of the tensor") {
  const Shape global{6, 4, 5};
  // Written as boxes split along the second dimension (tensor parallel, two ranks) ...
  std::vector<TensorRegion> written = {TensorRegion::whole_box(global, {0, 0, 0}, {6, 2, 5}),
                                       TensorRegion::whole_box(global, {0, 2, 0}, {6, 2, 5})};
  // ... read as ranges of the flattened whole (distributed optimizer, three data ranks), as
  // boxes split along the last dimension, and as a range of a box.
  std::vector<TensorRegion> wanted;
  for (int r = 0; r < 3; ++r) {
    TensorRegion range = TensorRegion::whole(global);
    range.begin = r * 40;
    range.end = (r + 1) * 40;
    wanted.push_back(range);
  }
  wanted.push_back(TensorRegion::whole_box(global, {1, 0, 2}, {4, 4, 3}));
  TensorRegion part = TensorRegion::whole_box(global, {2, 1, 0}, {3, 3, 5});
  part.begin = 7;
  part.end = 38;
  wanted.push_back(part);
  for (const TensorRegion& want : wanted) {
    CAPTURE(want.str());
    std::vector<float> got(static_cast<std::size_t>(want.numel()), -1.0f);
    std::int64_t copied = 0;
    for (const TensorRegion& w : written) {
      const std::vector<float> shard = expected_values(w);
      copied += copy_overlap(w, shard.data(), want, got.data());
    }
    CHECK(copied == want.numel());
    CHECK(got == expected_values(want));
  }
  // And back: ranges written, a box read.
  std::vector<float> box(24);
  const TensorRegion box_region = TensorRegion::whole_box(global, {3, 1, 1}, {2, 3, 4});
  std::int64_t copied = 0;
  for (int r = 0; r < 3; ++r) {
    const std::vector<float> shard = expected_values(wanted[static_cast<std::size_t>(r)]);
    copied +=
        copy_overlap(wanted[static_cast<std::size_t>(r)], shard.data(), box_region, box.data());
  }
  CHECK(copied == 24);
  CHECK(box == expected_values(box_region));
  CHECK(elements_below_row(box_region, 4) == 12);
}

TEST_CASE("step directories: only renamed ones with a manifest count; prune keeps the newest") {
  const fs::path dir = work_dir("directories");
  CHECK(step_directory_name(42) == "step-00000042");
  CHECK(parse_step_directory_name("step-00000042") == 42);
  CHECK(!parse_step_directory_name("step-42"));
  for (int step : {2, 4, 6, 8}) {
    fs::create_directories(dir / step_directory_name(step));
    std::ofstream(dir / step_directory_name(step) / "manifest.json") << "{}";
  }
  fs::create_directories(dir / "step-00000010");       // no manifest: incomplete
  fs::create_directories(dir / ".tmp-step-00000012");  // a save cut short
  CHECK(newest_checkpoint(dir)->step == 8);
  CHECK(resolve_checkpoint_path(dir) == dir / "step-00000008");
  CHECK(resolve_checkpoint_path(dir / "step-00000004") == dir / "step-00000004");
  CHECK_THROWS_WITH_AS(resolve_checkpoint_path(dir / "step-00000010"),
                       doctest::Contains("not a complete checkpoint"), InputError);
  prune_checkpoints(dir, 2);
  std::vector<CheckpointStep> left = complete_checkpoints(dir);
  REQUIRE(left.size() == 2);
  CHECK(left[0].step == 6);
  CHECK(left[1].step == 8);
  CHECK(!fs::exists(dir / ".tmp-step-00000012"));
}

TEST_CASE("save and load through one rank; damage is an input error naming the file") {
  const fs::path dir = work_dir("save_load");
  SelfCommunicator world;
  auto allocator = make_cpu_allocator();
  const Shape global{8, 3};
  Tensor values = Tensor::empty(global, DType::f32, allocator);
  std::vector<float> whole = iota_values(24);
  std::copy(whole.begin(), whole.end(), values.data<float>());
  // Two pieces of one tensor: the first three rows, then the rest as a flat range.
  TensorRegion rows = TensorRegion::whole_box(global, {0, 0}, {3, 3});
  TensorRegion rest = TensorRegion::whole(global);
  rest.begin = 9;
  rest.end = 24;
  CheckpointSave save;
  save.dir = dir;
  save.header.step = 5;
  save.header.optimizer_steps = 5;
  save.header.dims.vocab_size = 8;
  const fs::path step_dir = save_checkpoint(save,
                                            {{"t", rows, values.view({24}).narrow(0, 0, 9)},
                                             {"t", rest, values.view({24}).narrow(0, 9, 15)}},
                                            world, *cpu_kernels());
  CHECK(step_dir == dir / "step-00000005");
  CHECK(read_text(step_dir / "manifest.json").find("\"format\": \"trellis-checkpoint\"") !=
        std::string::npos);
  CHECK(!fs::exists(step_dir / "rank-00000.index.json"));

  CheckpointReader reader(step_dir);
  CHECK(reader.manifest().step == 5);
  Tensor column = Tensor::empty({8, 1}, DType::f32, allocator);
  reader.read({"t", TensorRegion::whole_box(global, {0, 1}, {8, 1}), column}, *cpu_kernels());
  for (int r = 0; r < 8; ++r) CHECK(column.data<float>()[r] == static_cast<float>(r * 3 + 1));
  // A larger padded vocabulary: rows past the checkpoint's are zeros.
  Tensor padded = Tensor::empty({10, 3}, DType::f32, allocator);
  reader.read({"t", TensorRegion::whole(Shape{10, 3}), padded, 6}, *cpu_kernels());
  CHECK(padded.data<float>()[23] == 23.0f);
  CHECK(padded.data<float>()[29] == 0.0f);

  CHECK_THROWS_WITH_AS(reader.read({"absent", TensorRegion::whole(global), values}, *cpu_kernels()),
                       doctest::Contains("has no tensor 'absent'"), InputError);
  // A flipped byte.
  {
    std::fstream f(step_dir / "rank-00000.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(50);
    f.put('\x7f');
  }
  CheckpointReader damaged(step_dir);
  CHECK_THROWS_WITH_AS(damaged.read({"t", TensorRegion::whole(global), values}, *cpu_kernels()),
                       doctest::Contains(((step_dir / "rank-00000.bin").string() + ": t").c_str()),
                       InputError);
  fs::remove(step_dir / "rank-00000.bin");
  CheckpointReader missing(step_dir);
  CHECK_THROWS_WITH_AS(missing.read({"t", TensorRegion::whole(global), values}, *cpu_kernels()),
                       doctest::Contains("rank-00000.bin: missing"), InputError);
  std::ofstream(step_dir / "manifest.json") << "{\"format\": \"something else\"}";
  CHECK_THROWS_WITH_AS(CheckpointReader{step_dir}, doctest::Contains("not a Trellis checkpoint"),
                       InputError);
}
