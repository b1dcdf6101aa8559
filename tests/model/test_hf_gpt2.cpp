// Hugging Face GPT-2 weights (model/hf_weights.h, model/hf_gpt2_config.h): the tiny GPT-2
// written by tests/golden/hf_format.py as Hugging Face lays it out imports to exactly the values
// of its llm.c checkpoint and computes PyTorch's loss under every family; bf16 shards import to
// the bf16 rounding; an export is GPT2LMHeadModel's layout and imports back bit for bit; and a
// directory or config.json that is not a GPT-2 Trellis computes is refused, naming what is wrong.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "hf_test_files.h"
#include "kernels/host_transfer.h"
#include "model/hf_gpt2_config.h"
#include "model/hf_weights.h"
#include "tiny_gpt2_model.h"

namespace fs = std::filesystem;
using namespace trellis;
using trellis::test::HfTensors;
using trellis::test::TinyModel;
namespace numerics = trellis::test::numerics;

namespace {

using trellis::test::bf16_round;
using trellis::test::check_imported_values;
using trellis::test::hf_work_dir;
using trellis::test::input_error_of;
using trellis::test::read_text;
using trellis::test::same_value;

// The tiny GPT-2 as Hugging Face's GPT-2 of its dimensions.
HfModel gpt2(const TinyModel& m) {
  return hf_model(m.dims, ModelArchitecture::gpt2(m.dims.hidden, m.dims.heads));
}

std::function<void(TinyModel&)> load_hf(const fs::path& dir) {
  return [dir](TinyModel& m) {
    load_hf_weights(HfDirectory(dir), gpt2(m), m.chunk->parameters(), *m.kernels);
  };
}

fs::path golden_dir(const char* name) {
  return golden::golden_path(name);
}

std::vector<float> values(const TinyModel& m, const std::string& name) {
  return f32_to_host(*m.kernels, m.parameter(name).value);
}

// The golden fp32 directory's tensors, rewritten by `edit` (which may add, drop or change them)
// into a new directory with `config`.
fs::path edited_directory(const std::string& name, const nlohmann::json& config,
                          const std::function<void(HfTensors&)>& edit) {
  HfTensors tensors = trellis::test::read_hf_tensors(golden_dir("tiny_gpt2.hf"));
  edit(tensors);
  return trellis::test::write_hf_directory(name, config, tensors);
}

nlohmann::json golden_config() {
  return nlohmann::json::parse(read_text(golden_dir("tiny_gpt2.hf") / "config.json"));
}

}  // namespace

TEST_CASE("a Hugging Face GPT-2 imports the llm.c checkpoint's values and PyTorch's loss") {
  for (const char* mode : {"1d", "seq", "2d"}) {
    CAPTURE(mode);
    TinyModel llmc(2, mode);
    TinyModel hf(2, mode, load_hf(golden_dir("tiny_gpt2.hf")));
    check_imported_values(hf, llmc, same_value);
    Microbatch mb = hf.batch();
    const double loss =
        hf.chunk->forward(mb, mb.tokens).data<float>()[0] / static_cast<double>(hf.B * hf.T);
    const double want = hf.g.scalar("loss");
    numerics::Comparison c =
        numerics::compare_scalar(loss, want, numerics::gpt_loss_bound(hf.shape(), want));
    INFO("loss: " << c.describe());
    CHECK(c.ok());
  }
}

TEST_CASE("bf16 shards named as GPT2LMHeadModel's, with the tied head, import rounded to bf16") {
  TinyModel llmc(1);
  TinyModel hf(1, "1d", load_hf(golden_dir("tiny_gpt2.hf_bf16")));
  check_imported_values(hf, llmc, bf16_round);
}

TEST_CASE("an export is GPT2LMHeadModel's layout and imports back bit for bit") {
  TinyModel llmc(1);
  const fs::path dir = hf_work_dir("export");
  save_hf_model(dir, gpt2(llmc), llmc.chunk->parameters(), *llmc.kernels);
  const HfDirectory out(dir);
  // Names, shapes and config.json as transformers' GPT2LMHeadModel.save_pretrained writes them.
  std::vector<std::string> expected;
  for (const SafetensorsShape& t : hf_tensors(gpt2(llmc))) {
    expected.push_back(t.name);
    CHECK(out.find(t.name)->shape == t.shape);
  }
  std::sort(expected.begin(), expected.end());
  CHECK(out.names() == expected);
  const std::int64_t C = llmc.dims.hidden;
  CHECK(out.find("transformer.h.1.attn.c_attn.weight")->shape ==
        std::vector<std::int64_t>{C, 3 * C});
  CHECK(out.find("transformer.h.1.mlp.c_proj.weight")->shape ==
        std::vector<std::int64_t>{4 * C, C});
  CHECK(out.find("transformer.wte.weight")->shape == std::vector<std::int64_t>{97, C});
  CHECK(out.config()["model_type"] == "gpt2");
  CHECK(out.config()["n_embd"] == C);
  CHECK(out.config()["vocab_size"] == 97);
  CHECK(out.config()["activation_function"] == "gelu_new");
  // Conv1D's [in, out]: element (i, o) of c_attn is element (o, i) of Trellis's qkv [3C, C].
  const std::vector<float> c_attn = out.read_f32("transformer.h.1.attn.c_attn.weight");
  const std::vector<float> qkv = values(llmc, "h.1.attn.qkv.weight");
  std::int64_t transposed_wrong = 0;
  for (std::int64_t i = 0; i < C; ++i)
    for (std::int64_t o = 0; o < 3 * C; ++o)
      transposed_wrong += c_attn[static_cast<std::size_t>(i * 3 * C + o)] !=
                          qkv[static_cast<std::size_t>(o * C + i)];
  CHECK(transposed_wrong == 0);
  // The file Hugging Face's loaders read: the "pt" format marker.
  CHECK(read_text(dir / "model.safetensors").find("\"__metadata__\":{\"format\":\"pt\"}") !=
        std::string::npos);

  TinyModel back(1, "1d", load_hf(dir));
  check_imported_values(back, llmc, same_value);
  // Exporting what was imported writes the same bytes.
  const fs::path again = hf_work_dir("export-again");
  save_hf_model(again, gpt2(back), back.chunk->parameters(), *back.kernels);
  CHECK(read_text(again / "model.safetensors") == read_text(dir / "model.safetensors"));
  CHECK(read_text(again / "config.json") == read_text(dir / "config.json"));
  fs::remove_all(dir);
  fs::remove_all(again);
}

TEST_CASE("a directory that is not the GPT-2 config.json describes is refused, naming the tensor") {
  TinyModel m(1);
  auto load_error = [&](const fs::path& dir) {
    return input_error_of(
        [&] { load_hf_weights(HfDirectory(dir), gpt2(m), m.chunk->parameters(), *m.kernels); });
  };
  using Tensors = HfTensors;
  const nlohmann::json config = golden_config();
  CHECK_MESSAGE(
      load_error(edited_directory("missing", config, [](Tensors& t) { t.erase("ln_f.bias"); }))
              .find("no tensor \"ln_f.bias\"") != std::string::npos,
      "missing tensor");
  const std::string shape = load_error(edited_directory("shape", config, [](Tensors& t) {
    auto& wte = t["wte.weight"];
    wte.first = {wte.first[1], wte.first[0]};
  }));
  CHECK_MESSAGE(
      shape.find("\"wte.weight\" has shape [16, 97]; valid: [97, 16]") != std::string::npos, shape);
  const std::string extra = load_error(edited_directory("extra", config, [](Tensors& t) {
    t["h.0.attn.rotary.weight"] = {{2}, {1.0f, 2.0f}};
  }));
  CHECK_MESSAGE(
      extra.find("\"h.0.attn.rotary.weight\" is not part of a GPT-2") != std::string::npos, extra);
  const std::string untied = load_error(edited_directory("untied", config, [](Tensors& t) {
    t["lm_head.weight"] = t["wte.weight"];
    t["lm_head.weight"].second[5] += 1.0f;
  }));
  CHECK_MESSAGE(untied.find("lm_head.weight differs from wte.weight") != std::string::npos, untied);
  // A tied head and the mask buffers are accepted.
  CHECK(load_error(edited_directory("tied", config, [](Tensors& t) {
          t["lm_head.weight"] = t["wte.weight"];
        })) == "(no InputError)");
}

TEST_CASE("config.json must describe the GPT-2 Trellis computes") {
  const nlohmann::json good = golden_config();
  CHECK(read_hf_gpt2_config(good, "c").hidden == 16);
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expect;
  };
  const Case cases[] = {
      {"model_type", "llama", "\"model_type\" is \"llama\"; valid: \"gpt2\""},
      {"activation_function", "gelu", "\"activation_function\" is \"gelu\""},
      {"n_inner", 48, "valid: null or 64"},
      {"layer_norm_epsilon", 1e-6, "\"layer_norm_epsilon\" is 1e-06"},
      {"tie_word_embeddings", false, "\"tie_word_embeddings\" is false"},
      {"n_embd", "16", "\"n_embd\" is \"16\"; valid: a positive integer"},
      {"n_head", 3, "n_embd 16 is not a multiple of n_head 3"},
      {"scale_attn_by_inverse_layer_idx", true, "\"scale_attn_by_inverse_layer_idx\" is true"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.key);
    nlohmann::json config = good;
    config[c.key] = c.value;
    const std::string message = input_error_of([&] { read_hf_gpt2_config(config, "config.json"); });
    CHECK_MESSAGE(message.find(c.expect) != std::string::npos, message);
    CHECK(message.starts_with("config.json: "));
  }
  nlohmann::json no_heads = good;
  no_heads.erase("n_head");
  CHECK(input_error_of([&] { read_hf_gpt2_config(no_heads, "c"); }).find("no \"n_head\"") !=
        std::string::npos);
}
