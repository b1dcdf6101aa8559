// trellis-generate as a user runs it: exit 2 with a message that names the problem and what
// would be valid, PyTorch's greedy tokens from --tokens-only, the text and summary it prints,
// and every input form it detects giving the same model — a Trellis checkpoint made by
// trellis-train (one step at lr 0 from the llm.c golden weights, so its weights are those),
// its checkpoints directory, the run's TOML, the llm.c file and the Hugging Face directory; the
// Hugging Face LLaMA's directory, PyTorch's greedy tokens of its own; and a LLaMA-style run's
// checkpoint, read through its run's config or named alone (its manifest records the
// architecture).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden_file.h"
#include "support/process.h"
#include "tiny_generator.h"

using trellis::test::ProcessResult;
namespace fs = std::filesystem;
namespace golden = trellis::golden;

namespace {

ProcessResult generate(std::vector<std::string> args) {
  args.insert(args.begin(), TRELLIS_GENERATE_BINARY);
  return trellis::test::run_process(args);
}

// The golden prompts are ids below 97 other than 0: the byte tokenizer gives them back.
std::string as_bytes(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (std::int32_t id : ids) s.push_back(static_cast<char>(id));
  return s;
}

std::string as_ids(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (std::int32_t id : ids) {
    if (!s.empty()) s += ' ';
    s += std::to_string(id);
  }
  return s;
}

// What --tokens-only printed on stdout: the line between stderr's banner and summary, both of
// which start with the program's name.
std::string printed_ids(const std::string& output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (!line.starts_with("trellis-generate:")) return line;
  return "";
}

// The greedy tokens trellis-generate prints for golden prompt `i` of `model`.
ProcessResult greedy_ids(const std::string& model, const trellis::test::GoldenContinuation& c) {
  return generate({model, "--prompt", as_bytes(c.prompt), "--temperature", "0", "--tokens-only",
                   "--max-new-tokens", std::to_string(c.tokens.size()), "--threads", "1"});
}

const std::string kLlmc = golden::golden_path("tiny_gpt2.llmc.bin");

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("bad input exits 2 with a message naming the problem and what is valid") {
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "bad";
  fs::create_directories(work / "empty_dir");
  write_file(work / "notes.txt", "not a model\n");
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> said;
  };
  const std::vector<Case> cases = {
      {{(work / "missing.bin").string(), "--prompt", "x"},
       {"missing.bin does not exist", "valid: a Trellis checkpoint", "an llm.c checkpoint file"}},
      {{(work / "empty_dir").string(), "--prompt", "x"},
       {"is a directory with no manifest.json, no config.json", "valid:"}},
      {{(work / "notes.txt").string(), "--prompt", "x"},
       {"so it was read as an llm.c checkpoint", "a run's TOML config"}},
      {{kLlmc, "--prompt", "x", "--temprature", "0"},
       {"unknown option '--temprature' (did you mean '--temperature'?)", "usage:"}},
      {{kLlmc, "--prompt", "x", "--max-new-tokens", "ten"},
       {"--max-new-tokens 'ten': valid: a whole number >= 1"}},
      {{kLlmc, "--prompt", "x", "--top-k", "2.5"},
       {"--top-k '2.5': valid: a whole number >= 0 (0: off)"}},
      {{kLlmc, "--prompt", "x", "--seed", "-3"}, {"--seed '-3': valid: a whole number"}},
      {{kLlmc, "--prompt", "x", "--temperature", "-1"},
       {"--temperature '-1': valid: a number >= 0 (0: greedy)"}},
      {{kLlmc, "--prompt", "x", "--top-p", "0"}, {"--top-p '0': valid: a number in (0, 1]"}},
      {{kLlmc, "--prompt", "x", "--top-p=1.5"}, {"--top-p '1.5': valid: a number in (0, 1]"}},
      {{kLlmc, "--prompt", "x", "--tokenizer", "sentencepiece"},
       {"--tokenizer 'sentencepiece': valid: bytes, or gpt2:DIR"}},
      {{kLlmc, "--prompt", "x", "--tokenizer", "gpt2:" + (work / "empty_dir").string()},
       {"vocab.json"}},
      {{kLlmc}, {"no --prompt given"}},
      {{"--prompt", "x"}, {"no CHECKPOINT_OR_CONFIG given"}},
      // 'a' is byte 97: the tiny model's ids are 0..96.
      {{kLlmc, "--prompt", "Aa"},
       {"--prompt: token 1 (id 97, \"a\") is outside the model's vocabulary of 97 tokens "
        "(ids 0..96)",
        "valid:"}},
  };
  for (const Case& c : cases) {
    const ProcessResult r = generate(c.args);
    CAPTURE(c.args);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    for (const std::string& s : c.said) CHECK(r.output.find(s) != std::string::npos);
  }
}

TEST_CASE("--help prints the usage and exits 0") {
  const ProcessResult r = generate({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("usage: trellis-generate CHECKPOINT_OR_CONFIG --prompt TEXT") == 0);
}

TEST_CASE(
    "--tokens-only prints PyTorch's greedy tokens, from the llm.c file and the HF directory") {
  for (const std::string& model : {kLlmc, golden::golden_path("tiny_gpt2.hf")}) {
    for (const trellis::test::GoldenContinuation& c : trellis::test::golden_continuations()) {
      const ProcessResult r = greedy_ids(model, c);
      CAPTURE(model);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      CHECK(printed_ids(r.output) == as_ids(c.tokens));
    }
  }
}

TEST_CASE("--tokens-only prints PyTorch's greedy tokens from the Hugging Face LLaMA directory") {
  const std::string model = golden::golden_path("tiny_llama.hf");
  for (const trellis::test::GoldenContinuation& c :
       trellis::test::golden_continuations("tiny_llama_generate.golden")) {
    const ProcessResult r = greedy_ids(model, c);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("Hugging Face LLaMA " + model) != std::string::npos);
    CHECK(printed_ids(r.output) == as_ids(c.tokens));
  }
}

TEST_CASE("text output is the prompt, then each token's bytes, then a summary on stderr") {
  const trellis::test::GoldenContinuation c = trellis::test::golden_continuations().at(0);
  const ProcessResult r = generate({kLlmc, "--prompt", as_bytes(c.prompt), "--temperature", "0"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // stderr's banner comes first (before the prompt is printed), then stdout's text.
  const std::string text = as_bytes(c.prompt) + as_bytes(c.tokens) + "\n";
  CHECK(r.output.find("trellis-generate: llm.c checkpoint ") == 0);
  CHECK(r.output.find(text) != std::string::npos);
  CHECK(r.output.find("trellis-generate: 12 tokens in ") != std::string::npos);
  CHECK(r.output.find(" tokens/s), first token after ") != std::string::npos);
  CHECK(r.output.find("(prompt: 4 tokens); stopped: the model's 16 positions (max_seq_len) "
                      "are full") != std::string::npos);
}

TEST_CASE("a Trellis checkpoint, its directory and its run's config give the llm.c file's tokens") {
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "forms";
  fs::remove_all(work);
  const golden::GoldenFile g = golden::GoldenFile::load(golden::golden_path("tiny_gpt2.golden"));
  // One step at lr 0 (no weight moves: AdamW's update and its decay are both lr times something)
  // from the llm.c weights, saved as a Trellis checkpoint.
  std::ostringstream toml;
  toml << "[run]\nname = \"generate\"\nsteps = 1\nout_dir = \"" << (work / "out").string() << "\"\n"
       << "[model]\ninit = \"llmc:" << kLlmc << "\"\nseq_len = " << g.scalar("T") << "\n"
       << "[data]\ntrain = \"" << golden::golden_path("tiny_tokens.bin") << "\"\n"
       << "[train]\nmicro_batch = " << g.scalar("B") << "\nglobal_batch = " << g.scalar("B")
       << "\n[optim]\nschedule = \"constant\"\nlr = 0.0\n"
       << "[logging]\nprogress = false\n"
       << "[checkpoint]\nevery = 1\n";
  write_file(work / "run.toml", toml.str());
  const ProcessResult trained = trellis::test::run_trellis_train({(work / "run.toml").string()});
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  const fs::path checkpoints = work / "out" / "checkpoints";
  REQUIRE(fs::exists(checkpoints / "step-00000001" / "manifest.json"));
  // The same run with no checkpoint yet: its [model] init, the llm.c file.
  std::string fresh = toml.str();
  fresh.replace(fresh.find("[checkpoint]\n"), 13,
                "[checkpoint]\ndir = \"" + (work / "none").string() + "\"\n");
  write_file(work / "fresh.toml", fresh);

  for (const trellis::test::GoldenContinuation& c : trellis::test::golden_continuations()) {
    for (const fs::path& model :
         {checkpoints / "step-00000001", checkpoints, work / "run.toml", work / "fresh.toml"}) {
      const ProcessResult r = greedy_ids(model.string(), c);
      CAPTURE(model);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      CHECK(printed_ids(r.output) == as_ids(c.tokens));
    }
  }
  const ProcessResult from_run =
      greedy_ids((work / "run.toml").string(), trellis::test::golden_continuations().at(0));
  CHECK(from_run.output.find("Trellis checkpoint " + (checkpoints / "step-00000001").string() +
                             " (step 1) (the newest in the [checkpoint] dir of ") !=
        std::string::npos);
}

TEST_CASE("GPT-2's tokenizer: a Hugging Face directory's own, a run's [data] tokenizer, the flag") {
  // The tokenizer tests' small vocabulary: "3(4\\" is ids 18 7 19 59 there (no merge applies),
  // the first golden prompt; the byte tokenizer reads the same text as 51 40 52 92.
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "tokenizer";
  fs::remove_all(work);
  const fs::path hf = work / "tiny_gpt2.hf";
  fs::create_directories(hf);
  fs::copy(golden::golden_path("tiny_gpt2.hf"), hf, fs::copy_options::recursive);
  const fs::path vocab = fs::path(TRELLIS_TOKENIZER_DATA_DIR);
  fs::copy(vocab / "vocab.json", hf / "vocab.json");
  fs::copy(vocab / "merges.txt", hf / "merges.txt");
  write_file(work / "run.toml", "[run]\nname = \"bpe\"\nout_dir = \"" + (work / "out").string() +
                                    "\"\n[model]\ninit = \"llmc:" + kLlmc +
                                    "\"\n[data]\ntrain = \"" +
                                    golden::golden_path("tiny_tokens.bin") +
                                    "\"\ntokenizer = \"gpt2:" + hf.string() + "\"\n");
  const trellis::test::GoldenContinuation c = trellis::test::golden_continuations().at(0);
  const std::string expected = as_ids(c.tokens);
  auto ids_for = [&](std::vector<std::string> args) {
    for (const char* a :
         {"--prompt", "3(4\\", "--temperature", "0", "--tokens-only", "--max-new-tokens", "12"})
      args.push_back(a);
    return generate(args);
  };
  for (const ProcessResult& r : {ids_for({hf.string()}), ids_for({(work / "run.toml").string()}),
                                 ids_for({kLlmc, "--tokenizer", "gpt2:" + hf.string()})}) {
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("tokenizer gpt2 BPE from " + hf.string() + " (341 tokens") !=
          std::string::npos);
    CHECK(printed_ids(r.output) == expected);
  }
  // --tokenizer bytes overrides the directory's own.
  const ProcessResult bytes = ids_for({hf.string(), "--tokenizer", "bytes"});
  CHECK(bytes.output.find("tokenizer bytes") != std::string::npos);
  CHECK(printed_ids(bytes.output) != expected);
}

TEST_CASE("a run config with random initial weights generates from its seed, the same each time") {
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "random";
  fs::remove_all(work);
  write_file(work / "run.toml",
             "[run]\nname = \"random\"\nseed = 7\nout_dir = \"" + (work / "out").string() +
                 "\"\n[model]\nvocab_size = 97\nseq_len = 16\nlayers = 2\nheads = 2\n"
                 "hidden = 16\n[data]\ntrain = \"" +
                 golden::golden_path("tiny_tokens.bin") + "\"\n");
  const std::vector<std::string> args = {
      (work / "run.toml").string(), "--prompt", "AB", "--tokens-only", "--seed", "5"};
  const ProcessResult a = generate(args);
  INFO(a.output);
  REQUIRE(a.exit_code == 0);
  CHECK(a.output.find("random initial weights (seed 7)") != std::string::npos);
  CHECK(printed_ids(generate(args).output) == printed_ids(a.output));
}

TEST_CASE("a LLaMA-style run's checkpoint generates through its config and named alone") {
  const fs::path work = fs::path(TRELLIS_TEST_WORK_DIR) / "llama";
  fs::remove_all(work);
  // One step at lr 0 from the run's random initial weights, saved as a Trellis checkpoint.
  const std::string model =
      "[model]\narch = \"llama\"\nvocab_size = 97\nseq_len = 16\nlayers = 2\nheads = 4\n"
      "kv_heads = 2\nhidden = 32\nrope_theta = 500.0\n";
  const std::string rest = "[data]\ntrain = \"" + golden::golden_path("tiny_tokens.bin") +
                           "\"\n[train]\nmicro_batch = 2\nglobal_batch = 2\n"
                           "[optim]\nschedule = \"constant\"\nlr = 0.0\n"
                           "[logging]\nprogress = false\n";
  write_file(work / "run.toml", "[run]\nname = \"llama\"\nseed = 5\nsteps = 1\nout_dir = \"" +
                                    (work / "out").string() + "\"\n" + model + rest +
                                    "[checkpoint]\nevery = 1\n");
  const ProcessResult trained = trellis::test::run_trellis_train({(work / "run.toml").string()});
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  const fs::path step = work / "out" / "checkpoints" / "step-00000001";
  REQUIRE(fs::exists(step / "manifest.json"));
  // The same run with no checkpoint yet: its random initial weights, which lr 0 kept.
  write_file(work / "fresh.toml", "[run]\nname = \"llama\"\nseed = 5\nsteps = 1\nout_dir = \"" +
                                      (work / "out").string() + "\"\n" + model + rest +
                                      "[checkpoint]\ndir = \"" + (work / "none").string() + "\"\n");
  const std::vector<std::string> args = {"--prompt",  "AB", "--tokens-only", "--temperature", "0",
                                         "--threads", "1"};
  auto run = [&](const fs::path& input) {
    std::vector<std::string> a = args;
    a.insert(a.begin(), input.string());
    return generate(a);
  };
  const ProcessResult from_checkpoint = run(work / "run.toml");
  INFO(from_checkpoint.output);
  REQUIRE(from_checkpoint.exit_code == 0);
  CHECK(from_checkpoint.output.find("Trellis checkpoint " + step.string()) != std::string::npos);
  CHECK(from_checkpoint.output.find("LLaMA-style (rmsnorm, swiglu 64, rope theta 500, 2 kv heads, "
                                    "no bias, untied head): 2 layers, 4 heads, hidden 32") !=
        std::string::npos);
  const ProcessResult fresh = run(work / "fresh.toml");
  INFO(fresh.output);
  REQUIRE(fresh.exit_code == 0);
  CHECK(fresh.output.find("random initial weights (seed 5)") != std::string::npos);
  CHECK(printed_ids(from_checkpoint.output) == printed_ids(fresh.output));
  CHECK(!printed_ids(fresh.output).empty());

  // A GPT-2 run's config whose [checkpoint] dir holds the LLaMA's checkpoint.
  write_file(work / "gpt2.toml", "[run]\nname = \"llama\"\nout_dir = \"" + (work / "out").string() +
                                     "\"\n[model]\nvocab_size = 97\nseq_len = 16\nlayers = 2\n"
                                     "heads = 4\nhidden = 32\n" +
                                     rest);
  const ProcessResult other = run(work / "gpt2.toml");
  INFO(other.output);
  CHECK(other.exit_code == 2);
  CHECK(other.output.find("is of another architecture than its run's config: norm is rmsnorm "
                          "in the checkpoint but layernorm in the run; valid: the config of the "
                          "run that wrote it") != std::string::npos);

  // Named alone: the manifest gives the architecture, rope_theta and norm_eps included.
  const ProcessResult alone = run(step);
  INFO(alone.output);
  REQUIRE(alone.exit_code == 0);
  CHECK(alone.output.find("LLaMA-style (rmsnorm, swiglu 64, rope theta 500, 2 kv heads, no bias, "
                          "untied head)") != std::string::npos);
  CHECK(printed_ids(alone.output) == printed_ids(from_checkpoint.output));
}
