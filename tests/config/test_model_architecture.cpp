// [model] arch and the keys it presets: the presets resolve to the documented values, keys the
// config writes override them, the description --dry-run and the banner show, and the
// architecture reaches the plugins' checks. (The refusals are in the bad-config corpus.)
#include <doctest/doctest.h>

#include "config/config_loader.h"
#include "config/dry_run_report.h"
#include "config/model_architecture.h"
#include "support/fixtures.h"
#include "train/model_flops.h"

namespace fs = std::filesystem;
using trellis::ModelArchitecture;
using trellis::ResolvedRun;

namespace {

const fs::path& work() {
  static const fs::path dir = [] {
    fs::path d = trellis::test::fresh_work_dir("architecture");
    trellis::test::make_fixtures(d / "fixtures");
    return d;
  }();
  return dir;
}

// A run of the family that builds every architecture ("test-arch"), with `model` in [model].
ResolvedRun load(const std::string& model, std::vector<std::string> sets = {}) {
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;
  return trellis::load_run_text(
      "[data]\ntrain = \"fixtures/tiny.txt\"\n[parallel]\n"
      "tensor_mode = \"test-arch\"\n[model]\n" +
          model,
      work() / "run.toml", sets, env);
}

std::vector<std::string> problems_of(const std::string& model, const std::string& family) {
  trellis::RunEnvironment env;
  env.plugin_path = CONFIG_TEST_PLUGIN_DIR;
  try {
    trellis::load_run_text("[data]\ntrain = \"fixtures/tiny.txt\"\n[parallel]\ntensor_mode = \"" +
                               family + "\"\n[model]\n" + model,
                           work() / "run.toml", {}, env);
  } catch (const trellis::ConfigError& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) out.push_back(p.format());
    return out;
  }
  FAIL("the config loaded without problems:\n" << model);
  return {};
}

}  // namespace

TEST_CASE("Megatron-LM's SwiGLU width: int(4 x hidden x 2/3 / 64) x 64") {
  for (std::int64_t hidden : {1, 23, 24, 64, 100, 768, 1024, 1056, 4096, 5120}) {
    INFO(hidden);
    const auto expected =
        static_cast<std::int64_t>(static_cast<double>(4 * hidden) * 2.0 / 3.0 / 64.0) * 64;
    CHECK(trellis::llama_ffn_hidden(hidden) == expected);
  }
  CHECK(trellis::llama_ffn_hidden(23) == 0);
  CHECK(trellis::llama_ffn_hidden(768) == 2048);
  CHECK(trellis::llama_ffn_hidden(4096) == 10880);
}

TEST_CASE("without arch the run is GPT-2's, its sentinels filled in") {
  const ResolvedRun run = load("");
  CHECK(run.config.model.arch == "gpt2");
  CHECK(run.arch.is_gpt2(768, 12));
  CHECK(run.arch.ffn_hidden == 3072);
  CHECK(run.arch.kv_heads == 12);
  CHECK(run.arch.norm_eps == 1e-5);
  CHECK(run.config.model.ffn_hidden == 3072);
  CHECK(run.config.model.kv_heads == 12);
  CHECK(run.origins.at("model.ffn_hidden").describe() == "default (-1: 4 x hidden)");
  CHECK(run.origins.at("model.kv_heads").describe() == "default (-1: heads)");
  CHECK(run.origins.at("model.norm").describe() == "default");
  CHECK(run.query(nullptr).arch.is_gpt2(768, 12));
  CHECK(trellis::architecture_text("gpt2", run.arch, run.dims) == "gpt2");
  // GPT-2's parameters are counted as before.
  CHECK(trellis::parameter_count(run.dims, run.moe, run.arch) ==
        trellis::parameter_count(run.dims, run.moe));
  CHECK(trellis::parameter_count(run.dims) == 124475904);  // GPT-2 small, vocab padded to 50304
}

TEST_CASE("arch = \"llama\" resolves to the documented preset") {
  const ResolvedRun run = load("arch = \"llama\"\n");
  const ModelArchitecture& a = run.arch;
  CHECK(a.norm == ModelArchitecture::Norm::rmsnorm);
  CHECK(a.norm_eps == 1e-5);
  CHECK(a.mlp == ModelArchitecture::Mlp::swiglu);
  CHECK(a.ffn_hidden == 2048);  // int(4 x 768 x 2/3 / 64) x 64
  CHECK(a.positions == ModelArchitecture::Positions::rope);
  CHECK(a.rope_theta == 10000.0);
  CHECK(a.kv_heads == 12);
  CHECK_FALSE(a.bias);
  CHECK_FALSE(a.tie_embeddings);
  CHECK_FALSE(a.is_gpt2(768, 12));
  // The config shows the values in effect, and where they came from.
  const trellis::ModelSection& m = run.config.model;
  CHECK(m.norm == "rmsnorm");
  CHECK(m.mlp == "swiglu");
  CHECK(m.positions == "rope");
  CHECK(m.ffn_hidden == 2048);
  CHECK_FALSE(m.bias);
  CHECK_FALSE(m.tie_embeddings);
  CHECK(run.origins.at("model.norm").describe() == "default (arch \"llama\")");
  CHECK(run.origins.at("model.ffn_hidden").describe() ==
        "default (-1: arch \"llama\": 8 x hidden / 3, rounded down to a multiple of 64)");
  CHECK(run.origins.at("model.kv_heads").describe() == "default (-1: arch \"llama\": heads)");
  // The plugins' checks see it.
  const trellis::RunQuery q = run.query(nullptr);
  CHECK(q.arch.mlp == ModelArchitecture::Mlp::swiglu);
  CHECK(q.arch.ffn_hidden == 2048);
  CHECK(trellis::architecture_text("llama", a, run.dims) ==
        "llama (rmsnorm, swiglu 2048, rope theta 10000, 12 kv heads, no bias, untied head)");
  const std::string report = trellis::format_dry_run(run);
  INFO(report);
  CHECK(report.find("llama (rmsnorm, swiglu 2048, rope theta 10000, 12 kv heads, no bias, "
                    "untied head)") != std::string::npos);
}

TEST_CASE("a key the config writes overrides the preset") {
  const ResolvedRun run = load(
      "arch = \"llama\"\nhidden = 1056\nheads = 8\nkv_heads = 4\nffn_hidden = 3000\n"
      "tie_embeddings = true\nrope_theta = 500000.0\n",
      {"model.norm_eps=1e-6"});
  const ModelArchitecture& a = run.arch;
  CHECK(a.kv_heads == 4);
  CHECK(a.ffn_hidden == 3000);
  CHECK(a.tie_embeddings);
  CHECK(a.rope_theta == 500000.0);
  CHECK(a.norm_eps == 1e-6);
  // The rest is still the preset's.
  CHECK(a.norm == ModelArchitecture::Norm::rmsnorm);
  CHECK(a.mlp == ModelArchitecture::Mlp::swiglu);
  CHECK_FALSE(a.bias);
  CHECK(run.origins.at("model.kv_heads").describe() == (work() / "run.toml").string() + ":9");
  CHECK(trellis::architecture_text("llama", a, run.dims) ==
        "llama (rmsnorm eps 1e-06, swiglu 3000, rope theta 500000, 4 kv heads, no bias, tied "
        "head)");
  // And the preset's width at this hidden, when left out or written as -1 (which undoes a value
  // the file gives, from the command line).
  CHECK(load("arch = \"llama\"\nhidden = 1056\nheads = 8\n").arch.ffn_hidden == 2816);
  const ResolvedRun unset = load("arch = \"llama\"\nhidden = 1056\nheads = 8\nffn_hidden = 100\n",
                                 {"model.ffn_hidden=-1", "model.kv_heads=-1"});
  CHECK(unset.arch.ffn_hidden == 2816);
  CHECK(unset.arch.kv_heads == 8);
  CHECK(unset.origins.at("model.ffn_hidden").describe() ==
        "--set model.ffn_hidden=-1 (-1: arch \"llama\": 8 x hidden / 3, rounded down to a "
        "multiple of 64)");
}

TEST_CASE("a GPT-2 with one key changed is another architecture") {
  const ResolvedRun run = load("positions = \"rope\"\n");
  CHECK(run.arch.positions == ModelArchitecture::Positions::rope);
  CHECK(run.arch.norm == ModelArchitecture::Norm::layernorm);
  CHECK(run.arch.ffn_hidden == 3072);
  CHECK_FALSE(run.arch.is_gpt2(768, 12));
  CHECK(trellis::architecture_text("gpt2", run.arch, run.dims) ==
        "gpt2 (layernorm, gelu 3072, rope theta 10000, 12 kv heads, bias, tied head)");
  // arch = "llama" with every key set back to GPT-2's is GPT-2.
  const ResolvedRun back = load(
      "arch = \"llama\"\nnorm = \"layernorm\"\nmlp = \"gelu\"\nffn_hidden = 3072\n"
      "positions = \"learned\"\nbias = true\ntie_embeddings = true\n");
  CHECK(back.arch.is_gpt2(768, 12));
}

TEST_CASE("the parameter count follows the architecture") {
  const ResolvedRun run = load(
      "arch = \"llama\"\nvocab_size = 256\nseq_len = 32\nlayers = 2\nheads = 4\n"
      "hidden = 64\nkv_heads = 2\nffn_hidden = 96\n");
  const std::int64_t C = 64, F = 96, kv = 2 * 16, V = 256;
  const std::int64_t block = 2 * C                              // two RMSNorm weights
                             + C * (C + 2 * kv)                 // q, k, v without biases
                             + C * C                            // attention projection
                             + 2 * F * C + F * C;               // gate and up, down
  const std::int64_t expected = V * C + 2 * block + C + V * C;  // no positions, own head
  CHECK(trellis::parameter_count(run.dims, run.moe, run.arch) == expected);
  CHECK(trellis::flops_per_token(run.dims, run.moe, run.arch) ==
        doctest::Approx(6.0 * static_cast<double>(expected) + 12.0 * 2 * 64 * 32));
}

TEST_CASE("a family that does not build architectures is named with the key that asks for one") {
  const auto arch = problems_of("arch = \"llama\"\n", "test-1d");
  REQUIRE(arch.size() == 1);
  CHECK(arch[0].find("run.toml:6: model.arch = \"llama\": the layers plugin \"test-1d\"") !=
        std::string::npos);
  CHECK(arch[0].find("builds_architectures, ABI 2.6") != std::string::npos);
  const auto bias = problems_of("bias = false\n", "test-1d");
  REQUIRE(bias.size() == 1);
  CHECK(bias[0].find("model.bias = false: the layers plugin \"test-1d\"") != std::string::npos);
  CHECK(bias[0].find("remove model.bias") != std::string::npos);
}
