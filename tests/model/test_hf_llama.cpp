// Hugging Face LLaMA weights (model/hf_weights.h, model/hf_llama_config.h): the tiny LLaMA's
// directory (tests/golden/data/tiny_llama.hf, LlamaForCausalLM's names) imports to exactly
// tiny_llama.golden's "gqa." initial values and computes PyTorch's loss under the 1d and seq
// families; a bf16 copy imports to the bf16 rounding; an export is LlamaForCausalLM's layout (q,
// k and v, gate and up split out of Trellis's stacked tensors) and imports back bit for bit, for
// multi-head and grouped-query attention, with biases and a tied head too; and a directory or
// config.json that is not a LLaMA Trellis computes is refused, naming what is wrong.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "hf_test_files.h"
#include "kernels/host_transfer.h"
#include "model/hf_model.h"
#include "model/hf_weights.h"
#include "tiny_llama_model.h"

namespace fs = std::filesystem;
using namespace trellis;
using trellis::test::check_imported_values;
using trellis::test::hf_work_dir;
using trellis::test::HfTensors;
using trellis::test::input_error_of;
using trellis::test::read_text;
using trellis::test::same_value;
using trellis::test::TinyLlama;
namespace numerics = trellis::test::numerics;

namespace {

const fs::path kGoldenDir = golden::golden_path("tiny_llama.hf");

HfModel hf_of(const TinyLlama& m) {
  return hf_model(m.dims, m.arch);
}

TinyLlama::Load load_hf(const fs::path& dir) {
  return [dir](TinyLlama& m) {
    load_hf_weights(HfDirectory(dir), hf_of(m), m.chunk->parameters(), *m.kernels);
  };
}

// Distinct values in every parameter, padding rows included: what an export must carry (and
// drop) whatever the architecture.
void load_pattern(TinyLlama& m) {
  int k = 0;
  for (Parameter* p : m.chunk->parameters()) {
    std::vector<float> v(static_cast<std::size_t>(p->value.numel()));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = 0.05f * static_cast<float>(std::sin(1.0 + static_cast<double>(i) + 1000.0 * ++k));
    copy_from_host(*m.kernels, v, p->value);
  }
}

std::vector<float> values(const TinyLlama& m, const std::string& name) {
  return f32_to_host(*m.kernels, m.parameter(name).value);
}

nlohmann::json golden_config() {
  return nlohmann::json::parse(read_text(kGoldenDir / "config.json"));
}

// The golden directory's tensors, rewritten by `edit` into a new directory with `config`.
fs::path edited_directory(const std::string& name, const nlohmann::json& config,
                          const std::function<void(HfTensors&)>& edit) {
  HfTensors tensors = trellis::test::read_hf_tensors(kGoldenDir);
  edit(tensors);
  return trellis::test::write_hf_directory("llama-" + name, config, tensors);
}

}  // namespace

TEST_CASE("a Hugging Face LLaMA imports the golden initial values and PyTorch's loss") {
  for (const char* mode : {"1d", "seq"}) {
    CAPTURE(mode);
    const TinyLlama reference("gqa.", mode);
    TinyLlama hf("gqa.", mode, load_hf(kGoldenDir));
    check_imported_values(hf, reference, same_value);
    const double loss = hf.forward_backward();
    const double want = test::llama_golden().scalar("gqa.loss");
    numerics::Comparison c =
        numerics::compare_scalar(loss, want, numerics::llama_loss_bound(hf.shape(), want));
    INFO("loss: " << c.describe());
    CHECK(c.ok());
  }
}

TEST_CASE("a bf16 LLaMA imports rounded to bf16") {
  const fs::path dir = trellis::test::write_hf_directory(
      "llama-bf16", golden_config(), trellis::test::read_hf_tensors(kGoldenDir), true);
  CHECK(HfDirectory(dir).find("model.norm.weight")->dtype == SafetensorsDType::bf16);
  const TinyLlama reference("gqa.", "1d");
  const TinyLlama hf("gqa.", "1d", load_hf(dir));
  check_imported_values(hf, reference, trellis::test::bf16_round);
  fs::remove_all(dir);
}

TEST_CASE("an export is LlamaForCausalLM's layout and imports back bit for bit") {
  const TinyLlama reference("gqa.", "1d");
  const fs::path dir = hf_work_dir("llama-export");
  save_hf_model(dir, hf_of(reference), reference.chunk->parameters(), *reference.kernels);
  // The golden directory holds these initial values under Hugging Face's names: the export has
  // exactly its tensors, shapes and values.
  const HfDirectory out(dir), golden_hf(kGoldenDir);
  CHECK(out.names() == golden_hf.names());
  for (const std::string& name : golden_hf.names()) {
    CAPTURE(name);
    CHECK(out.find(name)->shape == golden_hf.find(name)->shape);
    CHECK(out.read_f32(name) == golden_hf.read_f32(name));
  }
  // config.json as LlamaForCausalLM.save_pretrained writes it, no special token ids.
  const nlohmann::json& config = out.config();
  const nlohmann::json want = golden_config();
  for (const char* key :
       {"model_type", "architectures", "hidden_size", "intermediate_size", "num_attention_heads",
        "num_key_value_heads", "num_hidden_layers", "vocab_size", "max_position_embeddings",
        "rms_norm_eps", "rope_theta", "tie_word_embeddings", "hidden_act", "attention_bias",
        "mlp_bias", "torch_dtype", "head_dim"}) {
    CAPTURE(key);
    CHECK(config.at(key) == want.at(key));
  }
  CHECK(!config.contains("bos_token_id"));
  CHECK(!config.contains("eos_token_id"));
  const HfModel read = read_hf_model_config(config, "export");
  CHECK(read.family == HfFamily::llama);
  CHECK(read.arch.kv_heads == 2);
  CHECK(read.arch.rope_theta == 500000.0);
  CHECK(read.arch.norm_eps == 1e-5);
  CHECK(read_text(dir / "model.safetensors").find("\"__metadata__\":{\"format\":\"pt\"}") !=
        std::string::npos);

  const TinyLlama back("gqa.", "1d", load_hf(dir));
  check_imported_values(back, reference, same_value);
  // Exporting what was imported writes the same bytes.
  const fs::path again = hf_work_dir("llama-export-again");
  save_hf_model(again, hf_of(back), back.chunk->parameters(), *back.kernels);
  CHECK(read_text(again / "model.safetensors") == read_text(dir / "model.safetensors"));
  CHECK(read_text(again / "config.json") == read_text(dir / "config.json"));
  fs::remove_all(dir);
  fs::remove_all(again);
}

TEST_CASE("multi-head attention, biases and a tied head go out and back") {
  struct Case {
    const char* what;
    const char* prefix;
    bool bias, tie;
  };
  for (const Case& c :
       {Case{"mha", "mha.", false, false}, Case{"mha-bias-tied", "mha.", true, true},
        Case{"gqa-bias", "gqa.", true, false}, Case{"gqa-tied", "gqa.", false, true}}) {
    CAPTURE(c.what);
    auto edit = [&](ModelArchitecture& a) {
      a.bias = c.bias;
      a.tie_embeddings = c.tie;
    };
    const TinyLlama source(c.prefix, "1d", load_pattern, edit);
    const fs::path dir = hf_work_dir(std::string("llama-") + c.what);
    save_hf_model(dir, hf_of(source), source.chunk->parameters(), *source.kernels);
    const HfDirectory out(dir);
    CHECK(out.config()["attention_bias"] == c.bias);
    CHECK(out.config()["mlp_bias"] == c.bias);
    CHECK(out.config()["tie_word_embeddings"] == c.tie);
    CHECK((out.find("lm_head.weight") == nullptr) == c.tie);
    CHECK((out.find("model.layers.1.mlp.down_proj.bias") != nullptr) == c.bias);
    // Trellis's stacked tensors are split along their first axis: q, k, v; gate, up.
    const std::int64_t C = source.dims.hidden, F = source.arch.ffn_hidden;
    const std::vector<float> fc = values(source, "h.1.mlp.fc.weight");
    CHECK(out.read_f32("model.layers.1.mlp.gate_proj.weight") ==
          std::vector<float>(fc.begin(), fc.begin() + F * C));
    CHECK(out.read_f32("model.layers.1.mlp.up_proj.weight") ==
          std::vector<float>(fc.begin() + F * C, fc.end()));
    if (std::string(c.prefix) == "mha.") {
      const std::vector<float> qkv = values(source, "h.0.attn.qkv.weight");
      int slab = 0;
      for (const char* name : {"q_proj", "k_proj", "v_proj"}) {
        CAPTURE(name);
        const auto first = qkv.begin() + slab++ * C * C;
        CHECK(out.read_f32(std::string("model.layers.0.self_attn.") + name + ".weight") ==
              std::vector<float>(first, first + C * C));
      }
    }
    const TinyLlama back(c.prefix, "1d", load_hf(dir), edit);
    check_imported_values(back, source, same_value);
    const fs::path again = hf_work_dir(std::string("llama-again-") + c.what);
    save_hf_model(again, hf_of(back), back.chunk->parameters(), *back.kernels);
    CHECK(read_text(again / "model.safetensors") == read_text(dir / "model.safetensors"));
    fs::remove_all(dir);
    fs::remove_all(again);
  }
}

TEST_CASE("a directory that is not the LLaMA config.json describes is refused, naming the tensor") {
  const TinyLlama m("gqa.", "1d");
  auto load_error = [&](const fs::path& dir) {
    return input_error_of([&] {
      const HfDirectory hf(dir);
      const HfModel model = read_hf_model_config(hf.config(), "config.json");
      load_hf_weights(hf, hf_model(m.dims, model.arch), m.chunk->parameters(), *m.kernels);
    });
  };
  const nlohmann::json config = golden_config();
  const std::string missing = load_error(
      edited_directory("missing", config, [](HfTensors& t) { t.erase("model.norm.weight"); }));
  CHECK_MESSAGE(missing.find("no tensor \"model.norm.weight\" (a LLaMA of 2 layers holds 21 weight "
                             "tensors, named with or without \"model.\")") != std::string::npos,
                missing);
  const std::string no_head = load_error(
      edited_directory("no-head", config, [](HfTensors& t) { t.erase("lm_head.weight"); }));
  CHECK_MESSAGE(no_head.find("no tensor \"lm_head.weight\"") != std::string::npos, no_head);
  const std::string shape = load_error(edited_directory("shape", config, [](HfTensors& t) {
    auto& k = t["model.layers.0.self_attn.k_proj.weight"];
    k.first = {k.first[1], k.first[0]};
  }));
  CHECK_MESSAGE(shape.find("\"model.layers.0.self_attn.k_proj.weight\" has shape [32, 16]; valid: "
                           "[16, 32]") != std::string::npos,
                shape);
  const std::string extra = load_error(edited_directory("extra", config, [](HfTensors& t) {
    t["model.layers.0.self_attn.q_norm.weight"] = {{2}, {1.0f, 2.0f}};
  }));
  CHECK_MESSAGE(extra.find("\"model.layers.0.self_attn.q_norm.weight\" is not part of a LLaMA") !=
                    std::string::npos,
                extra);
  // Older files' rotary buffers are not weights; LlamaModel's names have no "model.".
  CHECK(load_error(edited_directory("buffer", config, [](HfTensors& t) {
          t["model.layers.1.self_attn.rotary_emb.inv_freq"] = {{4}, {1.0f, 0.1f, 0.01f, 0.001f}};
        })) == "(no InputError)");
  CHECK(load_error(edited_directory("unprefixed", config, [](HfTensors& t) {
          HfTensors renamed;
          for (auto& [name, v] : t)
            renamed[name.starts_with("model.") ? name.substr(6) : name] = std::move(v);
          t = std::move(renamed);
        })) == "(no InputError)");
  // Tied: lm_head.weight, when there, must be the token table.
  nlohmann::json tied = config;
  tied["tie_word_embeddings"] = true;
  const std::string untied = load_error(edited_directory("untied", tied, [](HfTensors&) {}));
  CHECK_MESSAGE(untied.find("lm_head.weight differs from embed_tokens.weight; config.json's "
                            "tie_word_embeddings is true") != std::string::npos,
                untied);
}

TEST_CASE("config.json must describe a LLaMA Trellis computes") {
  const nlohmann::json good = golden_config();
  const HfModel read = read_hf_model_config(good, "c");
  CHECK(read.family == HfFamily::llama);
  CHECK(read.dims.hidden == 32);
  CHECK(read.dims.max_seq_len == 16);
  CHECK(read.arch.ffn_hidden == 64);
  CHECK(!read.arch.bias);
  CHECK(!read.arch.tie_embeddings);
  CHECK(hf_family(read.arch, 32, 4) == HfFamily::llama);
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expect;
  };
  const Case cases[] = {
      {"model_type", "mistral", "\"model_type\" is \"mistral\"; valid: \"gpt2\" or \"llama\""},
      {"hidden_act", "gelu", "\"hidden_act\" is \"gelu\", which Trellis's LLaMA does not compute"},
      {"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}, "rope_scaling is not supported"},
      {"head_dim", 16,
       "\"head_dim\" is 16, which Trellis's LLaMA does not compute; valid: null or 8"},
      {"attention_bias", true, "\"attention_bias\" is true and \"mlp_bias\" false"},
      {"num_key_value_heads", 3, "num_key_value_heads 3 does not divide num_attention_heads 4"},
      {"hidden_size", "32", "\"hidden_size\" is \"32\"; valid: a positive integer"},
      {"num_attention_heads", 5, "hidden_size 32 is not a multiple of num_attention_heads 5"},
      {"num_attention_heads", 32, "hidden_size / num_attention_heads = 1 is odd"},
      {"rms_norm_eps", -1, "\"rms_norm_eps\" is -1; valid: a positive number"},
      {"rope_theta", "big", "\"rope_theta\" is \"big\"; valid: a positive number"},
      {"tie_word_embeddings", "yes", "\"tie_word_embeddings\" is \"yes\"; valid: true or false"},
  };
  for (const Case& c : cases) {
    const std::string key = c.key;
    CAPTURE(key);
    nlohmann::json config = good;
    config.erase("head_dim");  // it would disagree with the heads of a case
    config[key] = c.value;
    const std::string message =
        input_error_of([&] { read_hf_model_config(config, "config.json"); });
    CHECK_MESSAGE(message.find(c.expect) != std::string::npos, message);
    CHECK(message.starts_with("config.json: "));
  }
  nlohmann::json no_width = good;
  no_width.erase("intermediate_size");
  CHECK(input_error_of([&] {
          read_hf_model_config(no_width, "c");
        }).find("no \"intermediate_size\"") != std::string::npos);

  // Absent keys take LlamaConfig's defaults; biases on both kinds of layer, a tied head.
  nlohmann::json sparse = good;
  for (const char* key :
       {"num_key_value_heads", "rope_theta", "rms_norm_eps", "tie_word_embeddings", "hidden_act",
        "head_dim", "attention_bias", "mlp_bias", "rope_scaling"})
    sparse.erase(key);
  const HfModel defaults = read_hf_model_config(sparse, "c");
  CHECK(defaults.arch.kv_heads == 4);
  CHECK(defaults.arch.rope_theta == 10000.0);
  CHECK(defaults.arch.norm_eps == 1e-6);
  CHECK(!defaults.arch.tie_embeddings);
  CHECK(!defaults.arch.bias);
  nlohmann::json biased = good;
  biased["attention_bias"] = true;
  biased["mlp_bias"] = true;
  biased["tie_word_embeddings"] = true;
  const HfModel with_bias = read_hf_model_config(biased, "c");
  CHECK(with_bias.arch.bias);
  CHECK(with_bias.arch.tie_embeddings);

  // GPT-2's config.json reads as GPT-2's blocks; a mix of the two has no Hugging Face family.
  const HfModel gpt2 = read_hf_model_config(
      nlohmann::json::parse(
          read_text(fs::path(golden::golden_path("tiny_gpt2.hf")) / "config.json")),
      "c");
  CHECK(gpt2.family == HfFamily::gpt2);
  CHECK(gpt2.arch.is_gpt2(gpt2.dims.hidden, gpt2.dims.heads));
  ModelArchitecture mix = read.arch;
  mix.mlp = ModelArchitecture::Mlp::gelu;
  CHECK(!hf_family(mix, 32, 4));
  CHECK_THROWS_AS(hf_model(read.dims, mix), Error);
}
