// Hugging Face's safetensors format (checkpoint/safetensors.h): what the writer writes reads back
// bit for bit, the 16- and 64-bit float dtypes convert to fp32 exactly, and every rule of the
// strict reader refuses a file that breaks it, naming the file and the rule; a Hugging Face
// directory reads one weights file or the shards its index maps, and refuses a wrong index.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include "checkpoint/hf_directory.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/safetensors_writer.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

fs::path work_file(const std::string& name) {
  const fs::path dir = fs::path(TRELLIS_TEST_WORK_DIR) / "safetensors";
  fs::create_directories(dir);
  return dir / name;
}

// A file of `header` (padded to a multiple of 8 when `pad`) and `data`.
fs::path raw_file(const std::string& name, const std::string& header, const std::string& data,
                  std::uint64_t declared = 0) {
  const fs::path path = work_file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::uint64_t n = declared != 0 ? declared : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header << data;
  return path;
}

std::string bytes_of(const void* p, std::size_t n) {
  return std::string(static_cast<const char*>(p), n);
}

// Opening `header` over `data` fails with an InputError naming the file and saying `why`.
void refuses(const std::string& header, const std::string& data, const std::string& why,
             std::uint64_t declared = 0) {
  const fs::path path = raw_file("bad.safetensors", header, data, declared);
  CAPTURE(header);
  CHECK_THROWS_WITH_AS(SafetensorsFile{path},
                       doctest::Contains(("safetensors file " + path.string() + ": ").c_str()),
                       InputError);
  CHECK_THROWS_WITH_AS(SafetensorsFile{path}, doctest::Contains(why.c_str()), InputError);
}

}  // namespace

TEST_CASE("the writer's file reads back bit for bit, with its metadata") {
  SafetensorsWriter writer;
  const std::vector<float> a = {1.0f,  -2.5f, std::numeric_limits<float>::denorm_min(),
                                3e38f, -0.0f, 0.1f};
  writer.add("wte.weight", {2, 3}, a);
  writer.add("ln_f.bias", {1}, {7.0f});
  writer.add("empty", {0, 4}, {});
  writer.set_metadata("format", "pt");
  const fs::path path = work_file("written.safetensors");
  writer.write(path);
  CHECK_FALSE(fs::exists(work_file("written.safetensors.partial")));

  const SafetensorsFile file(path);
  CHECK(file.index().header_bytes % 8 == 0);  // the data aligned, as Hugging Face writes it
  CHECK(file.index().metadata.at("format") == "pt");
  REQUIRE(file.index().tensors.size() == 3);
  const SafetensorsTensor* t = file.index().find("wte.weight");
  REQUIRE(t != nullptr);
  CHECK(t->shape == std::vector<std::int64_t>{2, 3});
  CHECK(t->dtype == SafetensorsDType::f32);
  const std::vector<float> back = file.read_f32(*t);
  CHECK(std::memcmp(back.data(), a.data(), a.size() * sizeof(float)) == 0);
  CHECK(file.read_f32(*file.index().find("ln_f.bias")) == std::vector<float>{7.0f});
  CHECK(file.read_f32(*file.index().find("empty")).empty());
  CHECK(file.index().find("missing") == nullptr);
  CHECK_THROWS_AS(writer.add("wte.weight", {1}, {1.0f}), Error);
  CHECK_THROWS_AS(writer.add("x", {2}, {1.0f}), Error);
}

TEST_CASE("BF16, F16 and F64 convert to fp32 exactly") {
  // bf16: the top half of an fp32; f16: 1, -2, the smallest subnormal, infinity, 65504.
  const std::uint16_t bf16[] = {0x3f80, 0xc020, 0x0001};
  const std::uint16_t f16[] = {0x3c00, 0xc000, 0x0001, 0x7c00, 0x7bff};
  const double f64[] = {0.5, -1e-3};
  const std::string header = R"({"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},)"
                             R"("h":{"dtype":"F16","shape":[5],"data_offsets":[6,16]},)"
                             R"("d":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},)"
                             R"("i":{"dtype":"I32","shape":[1],"data_offsets":[32,36]}})";
  const std::int32_t one = 1;
  const fs::path path =
      raw_file("dtypes.safetensors", header,
               bytes_of(bf16, 6) + bytes_of(f16, 10) + bytes_of(f64, 16) + bytes_of(&one, 4));
  const SafetensorsFile file(path);
  const std::vector<float> b = file.read_f32(*file.index().find("b"));
  CHECK(b[0] == 1.0f);
  CHECK(b[1] == -2.5f);
  CHECK(b[2] == std::bit_cast<float>(std::uint32_t{0x00010000}));
  const std::vector<float> h = file.read_f32(*file.index().find("h"));
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == std::ldexp(1.0f, -24));
  CHECK(std::isinf(h[3]));
  CHECK(h[4] == 65504.0f);
  const std::vector<float> d = file.read_f32(*file.index().find("d"));
  CHECK(d[0] == 0.5f);
  CHECK(d[1] == static_cast<float>(-1e-3));
  CHECK_THROWS_WITH_AS(file.read_f32(*file.index().find("i")),
                       doctest::Contains("tensor \"i\" is I32, not a floating-point dtype"),
                       InputError);
}

TEST_CASE("the strict reader refuses every broken rule, naming it") {
  const std::string four(4, '\0'), eight(8, '\0');
  const std::string ok = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  SUBCASE("header length") {
    refuses(ok, four, "past the file's end", 1000);
    refuses(ok, four, "past the format's limit of 100 MB", 200'000'000);
    const fs::path tiny = work_file("tiny.safetensors");
    std::ofstream(tiny, std::ios::binary | std::ios::trunc) << "abc";
    CHECK_THROWS_WITH_AS(SafetensorsFile{tiny}, doctest::Contains("shorter than its 8-byte"),
                         InputError);
    CHECK_THROWS_WITH_AS(SafetensorsFile{work_file("absent.safetensors")},
                         doctest::Contains("cannot be opened"), InputError);
  }
  SUBCASE("the JSON") {
    refuses("{\"a\":", four, "not valid JSON");
    refuses("[1, 2]", "", "not a JSON object");
    refuses(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            eight, "tensor \"a\" is named twice");
    refuses(R"({"a":{"dtype":"F32","shape":[1]}})", four, "exactly \"dtype\", \"shape\"");
    refuses(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", four,
            "exactly \"dtype\", \"shape\"");
    refuses(R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            four, "\"__metadata__\" value of \"k\" is not a string");
  }
  SUBCASE("dtype and shape") {
    refuses(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", four,
            "dtype \"F33\" is not one of BOOL, U8");
    refuses(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four,
            "not a non-negative integer");
    refuses(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", four,
            "not a non-negative integer");
    refuses(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", four,
            "is too large");
    refuses(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four,
            "F32 [2] is 8 bytes, but its data_offsets span 4");
  }
  SUBCASE("offsets") {
    refuses(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", four,
            "not within the file's 4 bytes of data");
    refuses(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four,
            "not within the file's");
    refuses(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", four, "not [begin, end]");
    refuses(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            eight, "overlaps the tensor before it");
    refuses(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight,
            "bytes [0, 4) of the data belong to no tensor");
    refuses(ok, eight, "bytes [4, 8) of the data belong to no tensor");
  }
  // The same header over the right data reads.
  CHECK(SafetensorsFile(raw_file("good.safetensors", ok, four)).index().tensors.size() == 1);
}

namespace {

fs::path hf_dir(const std::string& name) {
  const fs::path dir = fs::path(TRELLIS_TEST_WORK_DIR) / "hf" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << R"({"model_type": "gpt2", "n_embd": 4})";
  return dir;
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("a Hugging Face directory: one weights file, or shards its index maps") {
  {
    const fs::path dir = hf_dir("single");
    SafetensorsWriter w;
    w.add("wte.weight", {2, 2}, {1, 2, 3, 4});
    w.write(dir / "model.safetensors");
    const HfDirectory hf(dir);
    CHECK(hf.config().at("model_type") == "gpt2");
    CHECK(hf.names() == std::vector<std::string>{"wte.weight"});
    CHECK(hf.read_f32("wte.weight") == std::vector<float>{1, 2, 3, 4});
    CHECK(hf.find("wpe.weight") == nullptr);
    CHECK_THROWS_WITH_AS(hf.read_f32("wpe.weight"), doctest::Contains("no tensor \"wpe.weight\""),
                         InputError);
  }
  const fs::path dir = hf_dir("sharded");
  SafetensorsWriter first, second;
  first.add("a", {1}, {1});
  first.add("b", {2}, {2, 3});
  second.add("c", {1}, {4});
  first.write(dir / "model-00001-of-00002.safetensors");
  second.write(dir / "model-00002-of-00002.safetensors");
  const std::string map = R"({"metadata": {"total_size": 16}, "weight_map": {
      "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
      "c": "model-00002-of-00002.safetensors"}})";
  write_text(dir / "model.safetensors.index.json", map);
  const HfDirectory hf(dir);
  CHECK(hf.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(hf.read_f32("b") == std::vector<float>{2, 3});
  CHECK(hf.read_f32("c") == std::vector<float>{4});

  // Each way an index can be wrong.
  auto refuses_index = [&](const std::string& text, const std::string& why) {
    write_text(dir / "model.safetensors.index.json", text);
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(HfDirectory{dir}, doctest::Contains(why.c_str()), InputError);
  };
  refuses_index(
      R"({"weight_map": {"a": "model-00002-of-00002.safetensors"}})",
      "tensor \"a\" is mapped to model-00002-of-00002.safetensors, which does not hold it");
  refuses_index(R"({"weight_map": {"a": "model-00001-of-00002.safetensors"}})",
                "tensor \"b\" of model-00001-of-00002.safetensors is not mapped");
  refuses_index(R"({"weight_map": {"a": "../model-00001-of-00002.safetensors"}})",
                "is not a file name of the directory");
  refuses_index(R"({"weight_map": {"a": "absent.safetensors"}})",
                "absent.safetensors: cannot be opened");
  refuses_index(R"({"weights": {}})", "no \"weight_map\" object");
  refuses_index(R"({"weight_map": {}})", "names no tensor");
  refuses_index("{", "not valid JSON");

  const fs::path empty = hf_dir("empty");
  CHECK_THROWS_WITH_AS(HfDirectory{empty}, doctest::Contains("neither model.safetensors"),
                       InputError);
  fs::remove(empty / "config.json");
  CHECK_THROWS_WITH_AS(HfDirectory{empty}, doctest::Contains("config.json: cannot be opened"),
                       InputError);
  CHECK_THROWS_WITH_AS(HfDirectory{empty / "nowhere"}, doctest::Contains("not a directory"),
                       InputError);
}
