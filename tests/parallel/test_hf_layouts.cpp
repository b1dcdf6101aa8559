// A Hugging Face GPT-2 or LLaMA in and out of trellis-train under parallel layouts: the tiny
// GPT-2's or LLaMA's directory (tests/golden/data/tiny_gpt2.hf, tiny_llama.hf) is loaded by ranks
// that each hold a shard, trained one step at learning rate 0 (AdamW leaves every value as it is),
// and exported by the ranks that own each shard. The export must hold exactly the imported values,
// whatever the layout — the transposed Conv1D weights cut by tensor parallelism, LLaMA's q, k, v
// and gate, up split out of shards of Trellis's stacked tensors, the token table split over the
// vocabulary and tied across pipeline stages, replicas over data ranks written once.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint/hf_directory.h"
#include "golden_file.h"
#include "support/process.h"
#include "support/run_outputs.h"

namespace fs = std::filesystem;
using trellis::HfDirectory;

namespace {

// `golden`: the directory imported; `prefix`: what the export's names add to its names (it writes
// GPT2LMHeadModel's "transformer.", which tiny_gpt2.hf leaves out).
void check_layout(const std::string& name, const std::vector<std::string>& sets,
                  const std::string& golden = "tiny_gpt2.hf",
                  const std::string& prefix = "transformer.") {
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-hf-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path source = trellis::golden::golden_path(golden);
  std::ostringstream t;
  t << "[run]\nname = \"hf\"\nsteps = 1\nout_dir = \"" << dir.string() << "\"\n"
    << "[comm]\ntimeout_s = 60\n"
    << "[data]\ntrain = \"" << trellis::golden::golden_path("tiny_tokens.bin") << "\"\n"
    << "[model]\ninit = \"hf:" << source.string() << "\"\nseq_len = 8\n"
    << "export = \"hf:" << (dir / "export").string() << "\"\n"
    << "[optim]\nschedule = \"constant\"\nlr = 0.0\n"
    << "[logging]\nprogress = false\n[device]\nthreads = 1\n";
  std::ofstream(dir / "run.toml") << t.str();
  std::vector<std::string> args = {(dir / "run.toml").string(), "--set",
                                   "comm.backend=" + trellis::test::backend_under_test()};
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  const trellis::test::ProcessResult r = trellis::test::run_trellis_train(args);
  INFO(name << ":\n" << r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("exported: " + (dir / "export").string()) != std::string::npos);

  const HfDirectory in(source), out(dir / "export");
  std::size_t weights = 0;
  for (const std::string& tensor : in.names()) {
    if (tensor.ends_with(".attn.bias") && !tensor.ends_with("c_attn.bias")) continue;  // masks
    CAPTURE(tensor);
    ++weights;
    const std::string exported = prefix + tensor;
    REQUIRE(out.find(exported) != nullptr);
    CHECK(out.find(exported)->shape == in.find(tensor)->shape);
    CHECK(out.read_f32(exported) == in.read_f32(tensor));
  }
  CHECK(out.names().size() == weights);
}

}  // namespace

TEST_CASE("hf-tensor2-pipeline2") {
  check_layout("tensor2-pipeline2", {"launch.nproc=4", "parallel.tensor=2", "parallel.pipeline=2",
                                     "train.micro_batch=1", "train.global_batch=2"});
}

TEST_CASE("hf-2d-tensor4") {
  check_layout("2d-tensor4", {"launch.nproc=4", "parallel.tensor=4", "parallel.tensor_mode=\"2d\"",
                              "train.micro_batch=2", "train.global_batch=2"});
}

TEST_CASE("hf-seq-tensor2-data2-zero1") {
  check_layout("seq-tensor2-data2-zero1",
               {"launch.nproc=4", "parallel.tensor=2", "parallel.tensor_mode=\"seq\"",
                "parallel.data=2", "optim.zero=1", "train.micro_batch=1", "train.global_batch=2"});
}

// LLaMA's blocks: grouped-query attention (2 key/value heads, one per tensor rank), SwiGLU, an
// untied head; the second run also gives architecture keys, which must agree with config.json.
TEST_CASE("hf-llama-tensor2-pipeline2") {
  check_layout("llama-tensor2-pipeline2",
               {"launch.nproc=4", "parallel.tensor=2", "parallel.pipeline=2", "train.micro_batch=1",
                "train.global_batch=2"},
               "tiny_llama.hf", "");
}

TEST_CASE("hf-llama-seq-tensor2-data2-zero1") {
  check_layout("llama-seq-tensor2-data2-zero1",
               {"launch.nproc=4", "parallel.tensor=2", "parallel.tensor_mode=\"seq\"",
                "parallel.data=2", "optim.zero=1", "train.micro_batch=1", "train.global_batch=2",
                "model.arch=\"llama\"", "model.kv_heads=2", "model.rope_theta=500000.0"},
               "tiny_llama.hf", "");
}

// Text trained with GPT-2's BPE: the export carries the tokenizer's files, so the directory is a
// whole model for Hugging Face and trellis-generate.
TEST_CASE("hf-tokenizer-files") {
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-hf-tokenizer");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path vocab = fs::path(TRELLIS_SOURCE_DIR) / "tests/tokenizer/data";
  std::string text;
  while (text.size() < 8192) text += "A trellis holds the vine while it grows; so does a plan. ";
  std::ofstream(dir / "text.txt") << text;
  std::ofstream(dir / "run.toml")
      << "[run]\nname = \"hf\"\nsteps = 1\nout_dir = \"" << dir.string() << "\"\n"
      << "[data]\ntrain = \"" << (dir / "text.txt").string()
      << "\"\ntokenizer = \"gpt2:" << vocab.string() << "\"\n"
      << "[model]\nvocab_size = 384\nseq_len = 16\nlayers = 2\nheads = 2\nhidden = 16\n"
      << "export = \"hf:" << (dir / "export").string() << "\"\n"
      << "[train]\nmicro_batch = 2\nglobal_batch = 2\n[logging]\nprogress = false\n";
  const trellis::test::ProcessResult r =
      trellis::test::run_trellis_train({(dir / "run.toml").string(), "--set",
                                        "comm.backend=" + trellis::test::backend_under_test()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"vocab.json", "merges.txt"}) {
    CAPTURE(name);
    std::ifstream a(vocab / name), b(dir / "export" / name);
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    CHECK(!sa.str().empty());
    CHECK(sa.str() == sb.str());
  }
  CHECK(HfDirectory(dir / "export").config()["vocab_size"] == 384);
}

// [logging] sample_every under a layout: every rank writes its shards for the sample, rank 0
// samples, and training goes on.
TEST_CASE("sample-tensor2-pipeline2") {
  const fs::path dir =
      fs::path(TRELLIS_TEST_WORK_DIR) / (trellis::test::backend_under_test() + "-sample");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "run.toml")
      << "[run]\nname = \"sample\"\nsteps = 2\nout_dir = \"" << dir.string() << "\"\n"
      << "[comm]\ntimeout_s = 60\n"
      << "[data]\ntrain = \"" << trellis::golden::golden_path("tiny_tokens.bin") << "\"\n"
      << "[model]\ninit = \"hf:" << trellis::golden::golden_path("tiny_gpt2.hf")
      << "\"\nseq_len = 8\n"
      << "[train]\nmicro_batch = 1\nglobal_batch = 2\n"
      << "[logging]\nprogress = false\nsample_every = 1\nsample_tokens = 5\n";
  const trellis::test::ProcessResult r = trellis::test::run_trellis_train(
      {(dir / "run.toml").string(), "--set", "comm.backend=" + trellis::test::backend_under_test(),
       "--set", "launch.nproc=4", "--set", "parallel.tensor=2", "--set", "parallel.pipeline=2"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("sample after step 1 (5 tokens after the prompt):") != std::string::npos);
  CHECK(r.output.find("sample after step 2 (5 tokens after the prompt):") != std::string::npos);
  CHECK(r.output.find("done: 2 steps") != std::string::npos);
}
