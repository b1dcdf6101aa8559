// The defaults are a contract: the code, docs/configuration.md and this test say the same.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>

#include <toml++/toml.h>

#include "config/config_reader.h"
#include "config/config_schema.h"

namespace {

struct DocumentedKey {
  std::string type;
  std::string default_text;
};

// "### [section]" headings, then rows "| `key` | type | `default` | ...".
std::map<std::string, DocumentedKey> documented_keys() {
  std::ifstream in(std::string(TRELLIS_SOURCE_DIR) + "/docs/configuration.md");
  REQUIRE(in);
  const std::regex heading(R"(^### \[([a-z]+)\])");
  const std::regex row(R"(^\| `([a-z_0-9.]+)` \| ([a-z ]+) \| `([^`]*)` \|)");
  std::map<std::string, DocumentedKey> out;
  std::string section;
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, m, heading))
      section = m[1];
    else if (!section.empty() && std::regex_search(line, m, row)) {
      out[section + "." + std::string(m[1])] = {m[2], m[3]};
    }
  }
  return out;
}

const char* type_name(const trellis::KeySpec& key) {
  switch (key.field.index()) {
    case 0:
      return "boolean";
    case 1:
      return "integer";
    case 2:
      return "number";
    case 3:
      return "string";
    case 4:
      return "array of strings";
  }
  return "?";
}

// The documented default as the key's type.
trellis::FieldValue parse_default(const trellis::KeySpec& key, const std::string& text) {
  const toml::table t = toml::parse("v = " + text);
  const toml::node& v = *t.get("v");
  switch (key.field.index()) {
    case 0:
      return *v.value_exact<bool>();
    case 1:
      return *v.value_exact<std::int64_t>();
    case 2:
      return *v.value<double>();
    case 3:
      return *v.value_exact<std::string>();
  }
  std::vector<std::string> items;
  for (const toml::node& item : *v.as_array()) items.push_back(*item.value_exact<std::string>());
  return items;
}

}  // namespace

TEST_CASE("docs/configuration.md documents every key with the default in the code") {
  const std::map<std::string, DocumentedKey> docs = documented_keys();
  const trellis::RunConfig defaults;
  for (const trellis::KeySpec& key : trellis::config_keys()) {
    INFO(key.dotted());
    auto doc = docs.find(key.dotted());
    REQUIRE(doc != docs.end());
    CHECK(doc->second.type == type_name(key));
    CHECK(parse_default(key, doc->second.default_text) == key.get(defaults));
  }
  for (const auto& [key, doc] : docs) {
    INFO(key);
    CHECK(trellis::find_key(key) != nullptr);
  }
}

TEST_CASE("an empty config holds the defaults") {
  trellis::ProblemList problems;
  const trellis::ReadConfig read = trellis::read_config_text("", "empty.toml", {}, problems);
  REQUIRE(problems.empty());
  const trellis::RunConfig& c = read.config;
  CHECK(c.run.name == "trellis");
  CHECK(c.run.seed == 1234);
  CHECK(c.run.steps == 100);
  CHECK(c.run.out_dir == "");
  CHECK(c.launch.nproc == 1);
  CHECK(c.comm.backend == "mpi");
  CHECK(c.comm.timeout_s == 300.0);
  CHECK(c.parallel.tensor == 1);
  CHECK(c.parallel.tensor_mode == "1d");
  CHECK(c.parallel.pipeline == 1);
  CHECK(c.parallel.schedule == "1f1b");
  CHECK(c.parallel.virtual_stages == 1);
  CHECK(c.parallel.context == 1);
  CHECK(c.parallel.context_mode == "ring");
  CHECK(c.parallel.data == -1);
  CHECK(c.parallel.order == "tp-cp-dp-pp");
  CHECK(c.parallel.dp_bucket_mb == 25.0);
  CHECK(c.parallel.dp_overlap == true);
  CHECK(c.model.vocab_size == 50257);
  CHECK(c.model.seq_len == 1024);
  CHECK(c.model.layers == 12);
  CHECK(c.model.heads == 12);
  CHECK(c.model.hidden == 768);
  CHECK(c.model.arch == "gpt2");
  CHECK(c.model.norm == "layernorm");
  CHECK(c.model.norm_eps == 1e-5);
  CHECK(c.model.mlp == "gelu");
  CHECK(c.model.ffn_hidden == -1);  // the preset's (4 x hidden), filled in by the loader
  CHECK(c.model.positions == "learned");
  CHECK(c.model.rope_theta == 10000.0);
  CHECK(c.model.kv_heads == -1);  // the preset's (heads)
  CHECK(c.model.bias == true);
  CHECK(c.model.tie_embeddings == true);
  CHECK(c.model.init == "random");
  CHECK(c.model.export_to == "");
  CHECK(c.train.micro_batch == 4);
  CHECK(c.train.global_batch == 32);
  CHECK(c.optim.lr == 3e-4);
  CHECK(c.optim.schedule == "cosine");
  CHECK(c.optim.warmup_steps == 0);
  CHECK(c.optim.min_lr == 0.0);
  CHECK(c.optim.beta1 == 0.9);
  CHECK(c.optim.beta2 == 0.95);
  CHECK(c.optim.eps == 1e-8);
  CHECK(c.optim.weight_decay == 0.1);
  CHECK(c.optim.grad_clip == 1.0);
  CHECK(c.optim.zero == 0);
  CHECK(c.data.train == "");
  CHECK(c.data.val == "");
  CHECK(c.data.tokenizer == "bytes");
  CHECK(c.data.shuffle == false);
  CHECK(c.data.val_every == 0);
  CHECK(c.data.val_batches == 8);
  CHECK(c.checkpoint.dir == "");
  CHECK(c.checkpoint.every == 0);
  CHECK(c.checkpoint.keep == 3);
  CHECK(c.checkpoint.resume == false);
  CHECK(c.logging.every == 1);
  CHECK(c.logging.metrics == "");
  CHECK(c.logging.trace == "");
  CHECK(c.logging.progress == true);
  CHECK(c.device.kind == "cpu");
  CHECK(c.device.threads == 0);
  CHECK(c.plugins.paths.empty());
  CHECK(read.origins.empty());
}

TEST_CASE("every default passes its own key's rule") {
  const trellis::RunConfig defaults;
  for (const trellis::KeySpec& key : trellis::config_keys()) {
    INFO(key.dotted());
    CHECK(key.violation(key.get(defaults)) == "");
  }
}

TEST_CASE("valid_text says what a key accepts") {
  CHECK(trellis::find_key("parallel", "tensor")->valid_text() == "an integer from 1 to 65536");
  CHECK(trellis::find_key("run", "seed")->valid_text() == "an integer >= 0");
  CHECK(trellis::find_key("optim", "zero")->valid_text() == "0 or 1");
  CHECK(trellis::find_key("optim", "beta1")->valid_text() == "a number in [0.0, 1.0)");
  CHECK(trellis::find_key("comm", "timeout_s")->valid_text() == "a number > 0.0");
  CHECK(trellis::find_key("device", "kind")->valid_text() == "\"cpu\" or \"cuda\"");
  CHECK(trellis::find_key("parallel.data")->valid_text().starts_with("-1 (the rest"));
}
