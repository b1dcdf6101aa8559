// trellis-train end to end as a user runs it: a short run on text writes one metrics line per
// step, validation losses and a trace when asked; bad data and an unavailable device exit 2.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "device/cuda_probe.h"
#include "skip_case.h"
#include "support/corpus.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::run_trellis_train;

namespace {

fs::path work_dir(const std::string& name) {
  return trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, name);
}

fs::path write_config(const fs::path& dir, const std::string& extra) {
  trellis::test::write_fox_corpus(dir / "corpus.txt");
  fs::path config = dir / "run.toml";
  std::ofstream(config) << "[run]\nname = \"cli\"\nsteps = 6\nout_dir = \"out\"\n"
                        << "[data]\ntrain = \"corpus.txt\"\n"
                        << "[model]\nvocab_size = 256\nseq_len = 32\nlayers = 2\nheads = 2\n"
                        << "hidden = 32\n"
                        << "[train]\nmicro_batch = 4\nglobal_batch = 8\n"
                        << "[optim]\nlr = 3e-3\n"
                        << extra;
  return config;
}

int lines(const fs::path& file) {
  std::ifstream in(file);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

}  // namespace

TEST_CASE("a short run on text exits 0, writes a metrics line per step, and the loss falls") {
  fs::path dir = work_dir("short");
  auto r = run_trellis_train({write_config(dir, "").string()});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("done: 6 steps") != std::string::npos);
  fs::path metrics = dir / "out" / "metrics.jsonl";
  CHECK(lines(metrics) == 6);
  auto loss_of = [&](int step) {
    std::ifstream in(metrics);
    std::string line;
    for (int i = 0; i < step; ++i) std::getline(in, line);
    return nlohmann::json::parse(line).at("loss").get<double>();
  };
  CHECK(loss_of(6) < loss_of(1) - 0.5);
}

TEST_CASE("every progress line shows the time elapsed and, until the last step, the time left") {
  fs::path dir = work_dir("eta");
  auto r = run_trellis_train({write_config(dir, "[logging]\nevery = 2\n").string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.output);
  int progress = 0;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("step ")) continue;
    ++progress;
    const bool last = line.starts_with("step 6/6 ");
    CHECK(line.find(" | elapsed ") != std::string::npos);
    CHECK((line.find(", ETA ") != std::string::npos) == !last);
  }
  CHECK(progress == 4);  // steps 1, 2, 4 and 6
}

TEST_CASE("resuming a run that is already complete says so and exits 0 without training") {
  fs::path dir = work_dir("complete");
  const fs::path config = write_config(dir, "[checkpoint]\nevery = 3\nresume = true\n");
  auto first = run_trellis_train({config.string()});
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  const fs::path metrics = dir / "out" / "metrics.jsonl";
  REQUIRE(lines(metrics) == 6);

  auto again = run_trellis_train({config.string()});
  INFO(again.output);
  CHECK(again.exit_code == 0);
  CHECK(again.output.find("run 'cli' is already complete: its newest checkpoint " +
                          (dir / "out" / "checkpoints" / "step-00000006").string() +
                          " holds step 6 of [run] steps = 6; nothing to train") !=
        std::string::npos);
  CHECK(again.output.find("done:") == std::string::npos);  // no step ran
  CHECK(lines(metrics) == 6);                              // the metrics are untouched

  // A run asked for fewer steps than its checkpoint holds is complete too.
  auto fewer = run_trellis_train({config.string(), "--set", "run.steps=4"});
  CHECK(fewer.exit_code == 0);
  CHECK(fewer.output.find("holds step 6, past [run] steps = 4") != std::string::npos);
  // --dry-run says so in its layout.
  auto dry = run_trellis_train({config.string(), "--dry-run"});
  CHECK(dry.output.find("already complete: nothing to train") != std::string::npos);
  // More steps train on from the checkpoint.
  auto more = run_trellis_train({config.string(), "--set", "run.steps=7"});
  CHECK(more.exit_code == 0);
  CHECK(more.output.find("done: 1 steps") != std::string::npos);
}

TEST_CASE("--dry-run predicts each pipeline rank's memory under the run's recomputation") {
  const fs::path config = write_config(work_dir("dry-memory"), "");
  auto dry = run_trellis_train({config.string(), "--dry-run", "--set", "train.recompute=full",
                                "--set", "device.memory_limit_mb=1"});
  INFO(dry.output);
  CHECK(dry.exit_code == 0);
  const std::size_t section = dry.output.find("\nMemory (predicted by trellis-plan's model");
  REQUIRE(section != std::string::npos);
  const std::string memory = dry.output.substr(section);
  CHECK(memory.find("recompute: full, uniform: groups of 1 block keep their input only") !=
        std::string::npos);
  // One pipeline rank: 2 layers' parameters, gradients and AdamW state (16 B each) and the
  // activations come to just over 1 MiB.
  CHECK(std::regex_search(memory, std::regex("\n  0 +[0-9.]+ KiB +[0-9.]+ KiB +1\\.0[0-9] MiB  "
                                             "does NOT fit under 1 MiB\n")));
  auto roomy =
      run_trellis_train({config.string(), "--dry-run", "--set", "device.memory_limit_mb=8"});
  CHECK(roomy.output.find("recompute: none: every block keeps its stash") != std::string::npos);
  CHECK(roomy.output.find("fits under 8 MiB") != std::string::npos);
}

TEST_CASE("validation losses appear every val_every steps and at the end") {
  fs::path dir = work_dir("val");
  fs::path config = write_config(dir, "");
  auto r = run_trellis_train({config.string(), "--set", "data.val=" + (dir / "corpus.txt").string(),
                              "--set", "data.val_every=4", "--set", "data.val_batches=2"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(dir / "out" / "metrics.jsonl");
  std::string line;
  int step = 0;
  while (std::getline(in, line)) {
    ++step;
    const bool has_val = nlohmann::json::parse(line).contains("val_loss");
    CHECK(has_val == (step == 4 || step == 6));
  }
}

TEST_CASE("the trace holds the compute actions with the live bytes, which grow by the stash") {
  fs::path dir = work_dir("trace");
  auto r = run_trellis_train({write_config(dir, "[logging]\ntrace = \"trace.json\"\n").string()});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(dir / "out" / "trace.json");
  const nlohmann::json trace = nlohmann::json::parse(in);
  // The live_bytes argument of the first slice named `name` (-1 when there is none).
  auto live_bytes = [&](const std::string& name) -> long {
    for (const nlohmann::json& event : trace.at("traceEvents")) {
      if (event.value("name", "") != name) continue;
      const nlohmann::json& args = event.at("args");
      return args.contains("live_bytes") ? args.at("live_bytes").get<long>() : -1;
    }
    return -1;
  };
  const long at_start = live_bytes("step 1");  // when step 1's pipeline started
  CHECK(at_start > 0);                         // parameters, gradients, the step's tokens
  // One rank runs each microbatch's forward and then its backward: a forward stashes
  // activations, its backward frees them, and every microbatch stashes as much.
  CHECK(live_bytes("0F0") > at_start);
  CHECK(live_bytes("0B0") >= 0);
  CHECK(live_bytes("0B0") < live_bytes("0F0"));
  CHECK(live_bytes("0F1") == live_bytes("0F0"));
}

TEST_CASE("a token id beyond the vocabulary is bad input: exit 2, naming the file and the id") {
  fs::path dir = work_dir("bad_ids");
  fs::path tokens = dir / "tokens.bin";
  {
    std::int32_t header[256] = {20240520, 1, 2000};
    std::ofstream out(tokens, std::ios::binary);
    out.write(reinterpret_cast<const char*>(header), sizeof(header));
    for (int i = 0; i < 2000; ++i) {
      std::uint16_t id = i == 1500 ? 300 : static_cast<std::uint16_t>(i % 200);
      out.write(reinterpret_cast<const char*>(&id), 2);
    }
  }
  fs::path config = write_config(dir, "");
  auto r = run_trellis_train({config.string(), "--set", "data.train=" + tokens.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("tokens.bin") != std::string::npos);
  CHECK(r.output.find("token 1500 is id 300") != std::string::npos);
}

TEST_CASE("[device] kind = \"cuda\" without a GPU is bad input with the reason" *
          doctest::test_suite("cuda_without_gpu")) {
  TRELLIS_SKIP_CASE_IF(trellis::probe_cuda().device_count > 0,
                       "this machine has a GPU; the case is for machines without one");
  fs::path dir = work_dir("cuda");
  auto r = run_trellis_train({write_config(dir, "[device]\nkind = \"cuda\"\n").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("kind = \"cuda\"") != std::string::npos);
  CHECK(r.output.find("use kind = \"cpu\"") != std::string::npos);
}

TEST_CASE("samples appear every sample_every steps, after the prompt, the same on every run") {
  auto samples = [](const std::string& name) {
    fs::path dir = work_dir(name);
    auto r = run_trellis_train({write_config(dir, "").string(), "--set", "logging.sample_every=3",
                                "--set", "logging.sample_tokens=8", "--set",
                                "logging.sample_prompt=\"The quick\""});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(!fs::exists(dir / "out" / "sample-model.bin"));
    std::string found;
    for (int step : {3, 6}) {
      const std::string head =
          "sample after step " + std::to_string(step) + " (8 tokens after the prompt):\nThe quick|";
      const std::size_t at = r.output.find(head);
      REQUIRE_MESSAGE(at != std::string::npos, head);
      found += r.output.substr(at, head.size() + 8) + "\n";  // 8 byte tokens
    }
    CHECK(r.output.find("sample after step 1 ") == std::string::npos);
    return found;
  };
  CHECK(samples("samples") == samples("samples-again"));
}
