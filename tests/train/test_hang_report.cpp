// A run that hangs ends, with a report naming the rank and the operation (docs/launching.md,
// "Debugging a hang"). trellis-train launches two data-parallel ranks over the backend
// TRELLIS_TEST_BACKEND names, with a 3-second communication timeout, and one of the faults of
// TRELLIS_TEST_FAULT (train/test_faults.h) armed on rank 1 at step 2:
//   skip      rank 1 leaves out the step's loss all-reduce;
//   mismatch  rank 1 all-reduces two elements where rank 0 passes one;
//   stop      rank 1 stops itself with SIGSTOP (alive, silent).
// Each run must fail within the timeout plus 10 s of a clean run's time, its flight-record
// report must name rank 1 and the operation, and no process of the run may be left. The
// mpirun_* cases start the ranks with a user's own mpirun instead, where the ranks gather the
// records among themselves (launch/flight_gathering.h).
#include <dirent.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/corpus.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::ProcessResult;
using trellis::test::run_trellis_train;

namespace {

constexpr double kTimeoutSeconds = 3;

std::string backend() {
  const char* b = std::getenv("TRELLIS_TEST_BACKEND");
  return b ? b : "mpi";
}

fs::path write_config(const std::string& name) {
  const fs::path dir = trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, backend() + "-" + name);
  trellis::test::write_fox_corpus(dir / "corpus.txt");
  const fs::path config = dir / "run.toml";
  std::ofstream(config) << "[run]\nname = \"hang\"\nsteps = 4\nout_dir = \"out\"\n"
                        << "[launch]\nnproc = 2\n"
                        << "[comm]\nbackend = \"" << backend()
                        << "\"\ntimeout_s = " << kTimeoutSeconds << "\n"
                        << "[parallel]\ndata = 2\n"
                        << "[data]\ntrain = \"corpus.txt\"\n"
                        << "[model]\nvocab_size = 256\nseq_len = 16\nlayers = 1\nheads = 2\n"
                        << "hidden = 32\n"
                        << "[train]\nmicro_batch = 1\nglobal_batch = 2\n"
                        << "[device]\nthreads = 1\npeak_gflops = 1e6\n"
                        << "[logging]\nprogress = false\n";
  return config;
}

struct TimedRun {
  ProcessResult result;
  double seconds = 0;
};

// How the ranks are started: trellis-train launches itself, or a user's mpirun starts them.
enum class Start { itself, mpirun };

TimedRun train(const fs::path& config, const std::string& fault, Start how) {
  std::map<std::string, std::optional<std::string>> env = {{"OMPI_ALLOW_RUN_AS_ROOT", "1"},
                                                           {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}};
  if (!fault.empty()) env["TRELLIS_TEST_FAULT"] = fault;
  const auto start = std::chrono::steady_clock::now();
  TimedRun run;
  if (how == Start::itself) {
    run.result = run_trellis_train({config.string()}, env);
  } else {
#if defined(TRELLIS_TEST_MPIRUN)
    run.result = trellis::test::run_process(
        {TRELLIS_TEST_MPIRUN, "-n", "2", "--oversubscribe", TRELLIS_TRAIN_BINARY, config.string()},
        env);
#endif
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

// Processes whose command line mentions `text` (the run's config path): what the run left, as
// "pid state command" lines. Zombies are not counted: they are gone but for their exit status.
std::vector<std::string> processes_mentioning(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(text) == std::string::npos) continue;
    std::ifstream stat_file(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const std::size_t paren = stat.rfind(')');
    const char state =
        paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '?';
    if (state == 'Z') continue;
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    found.push_back(pid + " " + state + " " + cmdline);
  }
  return found;
}

// What is left of the run once every process had a moment to finish dying (a process killed
// just before the launcher returned may still be on its way out).
std::vector<std::string> left_running(const std::string& text) {
  std::vector<std::string> left = processes_mentioning(text);
  for (int i = 0; i < 50 && !left.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = processes_mentioning(text);
  }
  return left;
}

// Runs `fault` and checks the ending; returns the output for the case's own checks.
std::string check_hang_ends(const std::string& name, const std::string& fault,
                            Start how = Start::itself) {
  const fs::path config = write_config(name);
  // The same run without the fault: the start-up and steps a hang adds its wait to.
  const TimedRun clean = train(config, "", how);
  INFO("clean run:\n" << clean.result.output);
  REQUIRE(clean.result.exit_code == 0);
  const TimedRun hung = train(config, fault, how);
  INFO(fault << " (" << backend() << "), " << hung.seconds << " s:\n" << hung.result.output);
  CHECK(hung.result.exit_code != 0);
  CHECK(hung.seconds < clean.seconds + kTimeoutSeconds + 10);
  const std::vector<std::string> left = left_running(config.string());
  std::string left_text;
  for (const std::string& process : left) left_text += "\n  " + process;
  CHECK_MESSAGE(left.empty(), "left running:" << left_text);
  CHECK(hung.result.output.find("the ranks' flight records") != std::string::npos);
  CHECK(hung.result.output.find("first disagreement: ") != std::string::npos);
  // The records stay with the run's outputs.
  CHECK(fs::exists(config.parent_path() / "out/flight/rank-0.json"));
  return hung.result.output;
}

// The report's "first disagreement: ..." line.
std::string first_disagreement(const std::string& output) {
  const std::size_t at = output.find("first disagreement: ");
  if (at == std::string::npos) return "";
  return output.substr(at, output.find('\n', at) - at);
}

}  // namespace

TEST_CASE("skip") {
  const std::string output = check_hang_ends("skip", "skip:1:2");
  const std::string line = first_disagreement(output);
  INFO(line);
  CHECK(line.find("rank 1") != std::string::npos);
  CHECK(line.find("all_reduce") != std::string::npos);
  // The operation rank 1 left out, by the code path that issues it.
  CHECK(line.find("loss all-reduce") != std::string::npos);
  // The same analysis again from the records the run left (as for runs started by a user's own
  // mpirun or srun, whose ranks write into <out_dir>/flight).
  const ProcessResult again = trellis::test::run_process(
      {TRELLIS_RUN_BINARY, "--flight-report",
       (fs::path(TRELLIS_TEST_WORK_DIR) / (backend() + "-skip") / "out/flight").string()});
  INFO(again.output);
  CHECK(again.exit_code == 0);
  CHECK(first_disagreement(again.output) == line);
}

TEST_CASE("mismatch") {
  const std::string output = check_hang_ends("mismatch", "mismatch:1:2");
  const std::string line = first_disagreement(output);
  INFO(line);
  CHECK(line.find("rank 1") != std::string::npos);
  CHECK(line.find("all_reduce") != std::string::npos);
  CHECK(line.find("8 B") != std::string::npos);  // rank 1's two elements against rank 0's one
}

TEST_CASE("stop") {
  const std::string output = check_hang_ends("stop", "stop:1:2");
  const std::string line = first_disagreement(output);
  INFO(line);
  CHECK(line.find("rank 1") != std::string::npos);
  // Launched plainly, the stopped rank is killed without writing a record; under mpirun (the mpi
  // backend), Open MPI continues it before it signals it, and its record says it was stopped.
  CHECK((line.find("rank 1 wrote no record") != std::string::npos ||
         line.find("rank 1 stopped (SIGSTOP or a debugger)") != std::string::npos));
}

#if defined(TRELLIS_TEST_MPIRUN)
// Under a user's mpirun there is no trellis launcher: the first rank to fail asks the others for
// their records, prints the analysis and leaves it in <out_dir>/flight/report.txt.
TEST_CASE("mpirun_skip") {
  const std::string output = check_hang_ends("mpirun-skip", "skip:1:2", Start::mpirun);
  const std::string line = first_disagreement(output);
  INFO(line);
  CHECK(line.find("rank 1") != std::string::npos);
  CHECK(line.find("loss all-reduce") != std::string::npos);
  std::ifstream saved(fs::path(TRELLIS_TEST_WORK_DIR) / (backend() + "-mpirun-skip") /
                      "out/flight/report.txt");
  const std::string report((std::istreambuf_iterator<char>(saved)),
                           std::istreambuf_iterator<char>());
  CHECK(first_disagreement(report) == line);
}

TEST_CASE("mpirun_stop") {
  const std::string output = check_hang_ends("mpirun-stop", "stop:1:2", Start::mpirun);
  const std::string line = first_disagreement(output);
  INFO(line);
  // Rank 1 is stopped when rank 0 asks for its record: it cannot write one, and the report says
  // why.
  CHECK(line.find("rank 1 wrote no record") != std::string::npos);
  CHECK(output.find(") is stopped (SIGSTOP or a debugger)") != std::string::npos);
}
#endif
