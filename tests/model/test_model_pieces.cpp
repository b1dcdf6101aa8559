// The pieces around the model: initialisation that is the same under every layout, shard boxes,
// the learning-rate schedule, the data windows, chunking, metrics lines, llm.c export.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "dataset/token_dataset.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/llmc_checkpoint.h"
#include "model/model_chunk.h"
#include "model/param_init.h"
#include "model/tensor_box.h"
#include "train/lr_schedule.h"
#include "train/model_flops.h"
#include "train/step_metrics.h"
#include "trellis/error.h"

using namespace trellis;
namespace fs = std::filesystem;

namespace {

// Initialisation and llm.c files move values with a Kernels (tensors may be on a GPU).
Kernels* cpu_kernels() {
  static const std::shared_ptr<Kernels> kernels = make_cpu_kernels(1);
  return kernels.get();
}

Parameter make_param(const std::string& name, Shape local, Shape global, Shape offset,
                     ParamInit init, const std::shared_ptr<Allocator>& a) {
  Parameter p;
  p.name = name;
  p.value = Tensor::empty(local, DType::f32, a);
  p.grad = Tensor::empty(local, DType::f32, a);
  p.global_shape = global;
  p.shard_offset = offset;
  p.init = init;
  return p;
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("trellis-test-" + std::to_string(::getpid()) + "-" + name);
}

void write_token_file(const fs::path& path, const std::vector<std::uint16_t>& ids) {
  std::int32_t header[256] = {20240520, 1, static_cast<std::int32_t>(ids.size())};
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header), sizeof(header));
  out.write(reinterpret_cast<const char*>(ids.data()), ids.size() * 2);
}

}  // namespace

TEST_CASE("random initialisation is the same under every layout: a shard is a slice of the whole") {
  auto a = make_cpu_allocator();
  ParamInit init{ParamInit::Kind::normal, 0.02f};
  Parameter whole = make_param("h.0.attn.qkv.weight", {3, 8, 8}, {3, 8, 8}, {0, 0, 0}, init, a);
  Parameter shard = make_param("h.0.attn.qkv.weight", {3, 4, 8}, {3, 8, 8}, {0, 4, 0}, init, a);
  initialize_parameters({&whole, &shard}, 1234, *cpu_kernels());
  for (int q = 0; q < 3; ++q)
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 8; ++c)
        CHECK(shard.value.data<float>()[(q * 4 + r) * 8 + c] ==
              whole.value.data<float>()[(q * 8 + 4 + r) * 8 + c]);
  // Moments of the draw.
  double sum = 0, sq = 0;
  for (int i = 0; i < 192; ++i) {
    double v = whole.value.data<float>()[i];
    sum += v;
    sq += v * v;
  }
  CHECK(std::abs(sum / 192) < 0.006);
  CHECK(std::abs(std::sqrt(sq / 192) - 0.02) < 0.004);
}

TEST_CASE("initialisation depends on the seed and the name, and fills zeros and ones") {
  auto a = make_cpu_allocator();
  ParamInit normal{ParamInit::Kind::normal, 1.0f};
  Parameter x = make_param("wte", {16}, {16}, {0}, normal, a);
  Parameter y = make_param("wpe", {16}, {16}, {0}, normal, a);
  Parameter z = make_param("wte", {16}, {16}, {0}, normal, a);
  Parameter ones = make_param("ln.weight", {4}, {4}, {0}, {ParamInit::Kind::ones, 0}, a);
  initialize_parameters({&x, &y, &ones}, 1, *cpu_kernels());
  initialize_parameters({&z}, 2, *cpu_kernels());
  CHECK(x.value.data<float>()[0] != y.value.data<float>()[0]);
  CHECK(x.value.data<float>()[0] != z.value.data<float>()[0]);
  CHECK(ones.value.data<float>()[3] == 1.0f);
  // Many draws: a standard normal.
  double sum = 0, sq = 0;
  const int n = 100000;
  std::uint64_t key = parameter_stream_key(7, "x");
  for (int i = 0; i < n; ++i) {
    double v = normal_draw(key, i);
    sum += v;
    sq += v * v;
  }
  CHECK(std::abs(sum / n) < 0.02);
  CHECK(std::abs(sq / n - 1.0) < 0.02);
}

TEST_CASE("box runs visit a shard in local order") {
  std::vector<std::array<std::int64_t, 3>> runs;
  for_each_box_run(Shape{4, 6}, Shape{1, 2}, Shape{2, 3},
                   [&](std::int64_t g, std::int64_t l, std::int64_t n) {
                     runs.push_back({g, l, n});
                   });
  REQUIRE(runs.size() == 2);
  CHECK(runs[0] == std::array<std::int64_t, 3>{8, 0, 3});
  CHECK(runs[1] == std::array<std::int64_t, 3>{14, 3, 3});
  CHECK_THROWS_AS(check_box(Shape{4, 6}, Shape{3, 0}, Shape{2, 6}, "p"), Error);
}

TEST_CASE("learning rate: warm-up, then constant or cosine down to min_lr at the last step") {
  LrScheduleSpec c{false, 1e-3, 0.0, 4, 10};
  CHECK(learning_rate(c, 0) == doctest::Approx(2.5e-4));
  CHECK(learning_rate(c, 3) == doctest::Approx(1e-3));
  CHECK(learning_rate(c, 9) == doctest::Approx(1e-3));
  LrScheduleSpec cos{true, 1e-3, 1e-4, 2, 12};
  CHECK(learning_rate(cos, 1) == doctest::Approx(1e-3));
  CHECK(learning_rate(cos, 2) == doctest::Approx(1e-3));
  CHECK(learning_rate(cos, 7) == doctest::Approx(1e-4 + 0.5 * 9e-4 * (1 + std::cos(M_PI * 5 / 9))));
  CHECK(learning_rate(cos, 11) == doctest::Approx(1e-4));
}

TEST_CASE("token windows follow llm.c: sequence j of step s starts at (b*G + j)*T, wrapping") {
  fs::path file = temp_file("tokens.bin");
  std::vector<std::uint16_t> ids(103);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::uint16_t>(i);
  write_token_file(file, ids);
  TokenDataset data = TokenDataset::open(file, 200);
  CHECK_FALSE(data.is_text());
  // G = 2, T = 10: (103 - 1) / 20 = 5 batches per epoch.
  CHECK(data.batches_per_epoch(2, 10) == 5);
  std::int32_t in[20], tg[20];
  data.read(1, 2, 10, 0, 2, false, 0, in, tg);
  CHECK(in[0] == 20);
  CHECK(in[10] == 30);
  CHECK(tg[9] == 30);
  data.read(6, 2, 10, 1, 1, false, 0, in, tg);  // step 6 wraps to batch 1, sequence 1
  CHECK(in[0] == 30);
  // Shuffled: each epoch visits every window once.
  std::set<std::int32_t> starts;
  for (int s = 0; s < 5; ++s)
    for (int j = 0; j < 2; ++j) {
      data.read(s, 2, 10, j, 1, true, 99, in, tg);
      starts.insert(in[0]);
      CHECK(in[0] % 10 == 0);
    }
  CHECK(starts.size() == 10);
  CHECK_THROWS_WITH_AS(data.batches_per_epoch(11, 10), doctest::Contains("has 103 tokens"),
                       InputError);
  fs::remove(file);
}

TEST_CASE("token ids at or above the vocabulary are input errors naming the file") {
  fs::path file = temp_file("big-ids.bin");
  write_token_file(file, {1, 2, 300});
  CHECK_THROWS_WITH_AS(TokenDataset::open(file, 256), doctest::Contains("id 300"), InputError);
  fs::remove(file);
}

TEST_CASE("plain text is read as bytes and needs a vocabulary of at least 256") {
  fs::path file = temp_file("text.txt");
  std::ofstream(file) << "hello world";
  TokenDataset data = TokenDataset::open(file, 256);
  CHECK(data.is_text());
  CHECK(data.tokens() == 11);
  CHECK(data.token(4) == 'o');
  CHECK_THROWS_WITH_AS(TokenDataset::open(file, 100), doctest::Contains("vocab_size >= 256"),
                       InputError);
  fs::remove(file);
}

TEST_CASE("layers split evenly into stages") {
  ChunkSpec s = chunk_spec(8, 4, 2);
  CHECK(s.first_block == 4);
  CHECK(s.blocks == 2);
  CHECK_FALSE(s.has_embedding());
  CHECK_FALSE(s.has_head());
  CHECK(chunk_spec(8, 4, 3).has_head());
  CHECK_THROWS_AS(chunk_spec(6, 4, 0), InputError);
}

TEST_CASE("metrics lines are JSON with DESIGN.md's fields; a diverged loss is null") {
  StepMetrics m;
  m.step = 3;
  m.loss = 2.5;
  m.peak_mem_bytes = 1024;
  const std::string line = to_json(m);
  CHECK(line.find('\n') == std::string::npos);  // one line of metrics.jsonl
  const nlohmann::json record = nlohmann::json::parse(line);
  CHECK(record.at("step") == 3);
  CHECK(record.at("loss") == 2.5);
  CHECK(record.at("peak_mem_bytes") == 1024);
  for (const char* field : {"lr", "grad_norm", "step_ms", "tokens_per_s", "mfu"})
    CHECK(record.at(field).is_number());
  m.loss = std::nan("");
  CHECK(nlohmann::json::parse(to_json(m)).at("loss").is_null());
}

TEST_CASE("model FLOPs follow 6N + 12*L*C*T") {
  ModelDims d;
  d.vocab_size = 512;
  d.padded_vocab = 512;
  d.seq_len = 128;
  d.max_seq_len = 128;
  d.layers = 4;
  d.heads = 4;
  d.hidden = 128;
  std::int64_t n = parameter_count(d);
  CHECK(n == 512 * 128 + 128 * 128 + 4 * (12 * 128 * 128 + 13 * 128) + 2 * 128);
  CHECK(flops_per_token(d) == doctest::Approx(6.0 * n + 12.0 * 4 * 128 * 128));

  // 8 experts, top 2, in blocks 0 and 2: each holds a router [8, C] and 8 MLPs, of which a token
  // uses 2.
  MoeSettings moe;
  moe.experts = 8;
  moe.top_k = 2;
  moe.every = 2;
  const std::int64_t mlp = 8 * 128 * 128 + 5 * 128, router = 8 * 128;
  CHECK(parameter_count(d, moe) == n + 2 * (router + 7 * mlp));
  CHECK(active_parameter_count(d, moe) == n + 2 * (router + mlp));
  CHECK(flops_per_token(d, moe) ==
        doctest::Approx(6.0 * static_cast<double>(n + 2 * (router + mlp)) + 12.0 * 4 * 128 * 128));
  CHECK(flops_per_token(d, MoeSettings{}) == flops_per_token(d));
}

TEST_CASE("an llm.c export reads back into the same values") {
  auto a = make_cpu_allocator();
  ModelDims d;
  d.vocab_size = 10;
  d.padded_vocab = 16;
  d.seq_len = 4;
  d.max_seq_len = 8;
  d.layers = 1;
  d.heads = 1;
  d.hidden = 4;
  const std::int64_t C = 4;
  std::vector<Parameter> params;
  auto add = [&](const std::string& name, Shape shape) {
    params.push_back(make_param(name, shape, shape,
                                Shape(std::vector<std::int64_t>(shape.rank(), 0)),
                                {ParamInit::Kind::normal, 1.0f}, a));
  };
  add("wte", {16, C});
  add("wpe", {8, C});
  for (const char* n : {"h.0.ln1.weight", "h.0.ln1.bias", "h.0.attn.proj.bias", "h.0.ln2.weight",
                        "h.0.ln2.bias", "h.0.mlp.proj.bias", "lnf.weight", "lnf.bias"})
    add(n, {C});
  add("h.0.attn.qkv.weight", {3, C, C});
  add("h.0.attn.qkv.bias", {3, C});
  add("h.0.attn.proj.weight", {C, C});
  add("h.0.mlp.fc.weight", {4 * C, C});
  add("h.0.mlp.fc.bias", {4 * C});
  add("h.0.mlp.proj.weight", {C, 4 * C});
  std::vector<Parameter*> ptrs;
  for (auto& p : params) ptrs.push_back(&p);
  initialize_parameters(ptrs, 5, *cpu_kernels());
  fs::path file = temp_file("export.llmc.bin");
  save_llmc_checkpoint(file, d, ptrs, *cpu_kernels());
  std::vector<Parameter> copy;
  std::vector<Parameter*> copy_ptrs;
  for (auto& p : params) {
    copy.push_back(make_param(p.name, p.value.shape(), p.global_shape, p.shard_offset, p.init, a));
  }
  for (auto& p : copy) copy_ptrs.push_back(&p);
  load_llmc_checkpoint(file, d, copy_ptrs, *cpu_kernels());
  for (std::size_t i = 0; i < params.size(); ++i)
    for (std::int64_t j = 0; j < params[i].value.numel(); ++j)
      CHECK(copy[i].value.data<float>()[j] == params[i].value.data<float>()[j]);
  // A shard reads its slice.
  Parameter half = make_param("h.0.mlp.fc.weight", {2 * C, C}, {4 * C, C}, {2 * C, 0},
                              {ParamInit::Kind::zeros, 0}, a);
  load_llmc_checkpoint(file, d, {&half}, *cpu_kernels());
  CHECK(half.value.data<float>()[0] == params[13].value.data<float>()[2 * C * C]);
  // Other dimensions are a clear error.
  ModelDims wrong = d;
  wrong.hidden = 8;
  CHECK_THROWS_WITH_AS(load_llmc_checkpoint(file, wrong, copy_ptrs, *cpu_kernels()),
                       doctest::Contains("hidden is 4 in the file but 8"), InputError);
  fs::remove(file);
}
