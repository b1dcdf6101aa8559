// trellis-run as a user runs it: ranks with their environment, a failing or killed rank stopping
// the others, signals passed on, mpirun, two nodes on one machine, and ranks that meet through
// the store it serves.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "launch/launcher.h"
#include "skip_case.h"
#include "support/fixtures.h"
#include "support/process.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using trellis::test::ProcessResult;
using trellis::test::run_process;
using Clock = std::chrono::steady_clock;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

ProcessResult trellis_run(std::vector<std::string> args,
                          std::map<std::string, std::optional<std::string>> env = {}) {
  args.insert(args.begin(), TRELLIS_RUN_BINARY);
  return run_process(args, env);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A process running in the background, its output going to a file.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    std::fflush(nullptr);  // or the child would write the test's buffered output again
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) _exit(126);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Waits up to `limit` for the process; its exit code (128 + signal when killed) and output.
  ProcessResult finish(std::chrono::seconds limit = 30s) {
    ProcessResult result;
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        result.output = "(killed by the test after " + std::to_string(limit.count()) + " s)\n";
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.output += read_file(log_);
    return result;
  }

 private:
  pid_t pid_ = -1;
  fs::path log_;
};

// Waits until `count` files exist in `dir` (the ranks have started), at most 10 s.
bool wait_for_files(const fs::path& dir, int count) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    int n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++n;
    if (n >= count) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string free_port() {
  // The kernel picks a port for a listener that then closes; nothing else on a test machine
  // grabs it in the moment before trellis-run binds it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return std::to_string(ntohs(address.sin_port));
}

}  // namespace

TEST_CASE("N ranks start with their rank environment and all exit 0") {
  const fs::path dir = trellis::test::fresh_work_dir("launch_env");
  const ProcessResult r = trellis_run(
      {"-n", "3", "--", "sh", "-c",
       "env | grep -E '^(TRELLIS_|OMP_)' | sort > " + dir.string() + "/rank-$TRELLIS_RANK.env"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::string store;
  for (int rank = 0; rank < 3; ++rank) {
    const std::string env = read_file(dir / ("rank-" + std::to_string(rank) + ".env"));
    INFO(env);
    CHECK(contains(env, "TRELLIS_RANK=" + std::to_string(rank) + "\n"));
    CHECK(contains(env, "TRELLIS_WORLD_SIZE=3\n"));
    CHECK(contains(env, "TRELLIS_LOCAL_RANK=" + std::to_string(rank) + "\n"));
    CHECK(contains(env, "TRELLIS_LOCAL_WORLD_SIZE=3\n"));
    CHECK(contains(env, "TRELLIS_NODE_RANK=0\n"));
    CHECK(contains(env, "TRELLIS_STORE=tcp:127.0.0.1:"));
    const std::size_t at = env.find("TRELLIS_STORE=");
    const std::string line = env.substr(at, env.find('\n', at) - at);
    if (rank == 0) store = line;
    CHECK(line == store);  // one store for all
    if (trellis::available_cores() < 3) {
      CHECK(contains(env, "OMP_WAIT_POLICY=PASSIVE\n"));
      CHECK(contains(env, "OMP_NUM_THREADS=1\n"));
    }
  }
}

TEST_CASE("OpenMP settings the user chose are kept") {
  const fs::path dir = trellis::test::fresh_work_dir("launch_omp");
  const ProcessResult r = trellis_run(
      {"-n", "8", "--", "sh", "-c",
       "echo $OMP_NUM_THREADS $OMP_WAIT_POLICY > " + dir.string() + "/rank-$TRELLIS_RANK"},
      {{"OMP_NUM_THREADS", std::string("3")}, {"OMP_WAIT_POLICY", std::string("ACTIVE")}});
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(dir / "rank-7") == "3 ACTIVE\n");
}

TEST_CASE("a rank exiting non-zero stops the others within seconds; its code is the exit code") {
  const auto start = Clock::now();
  const ProcessResult r = trellis_run(
      {"-n", "4", "--", "sh", "-c", "if [ $TRELLIS_RANK = 3 ]; then exit 3; fi; exec sleep 60"});
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.output, "trellis-run: rank 3 (pid "));
  CHECK(contains(r.output, ") exited with code 3; stopping the other 3 ranks"));
  CHECK(seconds_since(start) < 10.0);
}

TEST_CASE("a rank killed by a signal is named with the signal; exit code 128 + signal") {
  const ProcessResult r =
      trellis_run({"-n", "4", "--", "sh", "-c",
                   "if [ $TRELLIS_RANK = 1 ]; then kill -9 $$; fi; exec sleep 60"});
  INFO(r.output);
  CHECK(r.exit_code == 137);
  CHECK(contains(r.output, "trellis-run: rank 1 (pid "));
  CHECK(contains(r.output, ") was killed by signal 9 (SIGKILL); stopping the other 3 ranks"));
}

TEST_CASE("ranks that ignore SIGTERM are killed after the grace period") {
  const auto start = Clock::now();
  const ProcessResult r =
      trellis_run({"-n", "2", "--grace", "1", "--", "sh", "-c",
                   "trap '' TERM; if [ $TRELLIS_RANK = 0 ]; then sleep 0.2; exit 5; fi; "
                   "while :; do sleep 0.1; done"});
  INFO(r.output);
  CHECK(r.exit_code == 5);
  CHECK(contains(r.output, "1 rank still running 1 s after being told to stop; sending SIGKILL"));
  CHECK(seconds_since(start) < 8.0);
}

TEST_CASE("SIGTERM sent to trellis-run reaches every rank") {
  const fs::path dir = trellis::test::fresh_work_dir("launch_sigterm");
  fs::create_directories(dir / "started");
  Background run({TRELLIS_RUN_BINARY, "-n", "3", "--", "/bin/sh", "-c",
                  "trap 'echo TERM > " + dir.string() +
                      "/got-$TRELLIS_RANK; exit 0' TERM; "
                      "touch " +
                      dir.string() +
                      "/started/$TRELLIS_RANK; "
                      "while :; do sleep 0.1; done"},
                 dir / "log");
  REQUIRE(wait_for_files(dir / "started", 3));
  kill(run.pid(), SIGTERM);
  const ProcessResult r = run.finish();
  INFO(r.output);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(contains(r.output, "trellis-run: got SIGTERM; passing it to 3 ranks"));
  for (int rank = 0; rank < 3; ++rank) {
    CHECK(read_file(dir / ("got-" + std::to_string(rank))) == "TERM\n");
  }
}

TEST_CASE("--tag-output prefixes every line with the rank") {
  const ProcessResult r =
      trellis_run({"--tag-output", "-n", "2", "--", "sh", "-c", "echo one; printf 'two'"});
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "[0]: one\n"));
  CHECK(contains(r.output, "[1]: one\n"));
  CHECK(contains(r.output, "[1]: two\n"));
}

TEST_CASE("bad arguments exit 2 with the usage; --help exits 0") {
  SUBCASE("--help") {
    const ProcessResult r = trellis_run({"--help"});
    CHECK(r.exit_code == 0);
    CHECK(contains(r.output, "usage: trellis-run -n N"));
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--", "true"},
           {"-n", "2"},
           {"-n", "zero", "--", "true"},
           {"-n", "0", "--", "true"},
           {"-n", "2", "--nproces", "3", "--", "true"},
           {"-n", "2", "--nnodes", "2", "--node-rank", "1", "--", "true"},
           {"-n", "2", "--nnodes", "2", "--node-rank", "2", "--store", "h:1", "--", "true"},
           {"-n", "2", "--store", "nohostport", "--", "true"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO(joined);
    const ProcessResult r = trellis_run(args);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "usage: trellis-run -n N"));
  }
  const ProcessResult typo = trellis_run({"-n", "2", "--tag-ouput", "--", "true"});
  CHECK(contains(typo.output, "did you mean '--tag-output'"));
}

TEST_CASE("a command that cannot be run exits 2 before anything starts") {
  const ProcessResult r = trellis_run({"-n", "2", "--", "no-such-program-anywhere"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "cannot run 'no-such-program-anywhere': not found on PATH"));
}

TEST_CASE("ranks meet through the store trellis-run serves (create_world, a store backend)") {
  const ProcessResult r = trellis_run({"-n", "3", "--", LAUNCH_PROBE_BINARY, COMM_TEST_PLUGIN_DIR});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (int rank = 0; rank < 3; ++rank) {
    CHECK(contains(r.output, "rank " + std::to_string(rank) + " of 3 (local " +
                                 std::to_string(rank) + " of 3, node 0, launcher trellis-run, " +
                                 "backend test-store-barrier, store tcp:127.0.0.1:"));
  }
}

TEST_CASE("--mpirun starts the ranks under mpirun, still serving the store") {
  const ProcessResult r =
      trellis_run({"-n", "3", "--mpirun", "--", LAUNCH_PROBE_BINARY, COMM_TEST_PLUGIN_DIR});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (int rank = 0; rank < 3; ++rank) {
    CHECK(contains(r.output, "rank " + std::to_string(rank) + " of 3 (local " +
                                 std::to_string(rank) + " of 3, node 0, launcher mpirun, " +
                                 "backend test-store-barrier, store tcp:127.0.0.1:"));
  }
  CHECK_FALSE(contains(r.output, "served here"));  // trellis-run serves it, not rank 0
}

TEST_CASE(
    "--mpirun reports a failed rank the same way, with its code, without Open MPI's banners") {
  // Rank 1 of 3 ends as `rank_one` says; the others wait to be stopped.
  auto run_failing = [](const std::string& rank_one) {
    return trellis_run({"-n", "3", "--mpirun", "--", "sh", "-c",
                        "test -n \"$OMPI_COMM_WORLD_RANK\" || exit 9; "
                        "if [ $OMPI_COMM_WORLD_RANK = 1 ]; then " +
                            rank_one + "; fi; exec sleep 60"});
  };
  const auto start = Clock::now();
  const ProcessResult exited = run_failing("echo 'rank 1 says why' >&2; exit 4");
  const ProcessResult killed = run_failing("kill -9 $$");
  CHECK(seconds_since(start) < 30.0);
  for (const ProcessResult* r : {&exited, &killed}) {
    INFO(r->output);
    CHECK(contains(r->output, "trellis-run: rank 1 (pid "));
    CHECK_FALSE(contains(r->output, "Primary job"));
    CHECK_FALSE(contains(r->output, "mpirun detected that one or more processes"));
    CHECK_FALSE(contains(r->output, "mpirun noticed that process rank"));
    CHECK_FALSE(contains(r->output, "-----------"));
  }
  CHECK(exited.exit_code == 4);
  CHECK(contains(exited.output, ") exited with code 4;"));
  CHECK(contains(exited.output, "rank 1 says why"));  // the rank's own stderr still comes through
  CHECK(killed.exit_code == 137);                     // 128 + SIGKILL, as without mpirun
  CHECK(contains(killed.output, ") was killed by signal 9 (SIGKILL);"));
}

TEST_CASE("under a bare mpirun, ranks find each other through a file store named by the job" *
          doctest::test_suite("bare_mpirun")) {
  std::map<std::string, std::optional<std::string>> env = {
      {"OMPI_ALLOW_RUN_AS_ROOT", std::string("1")},
      {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", std::string("1")}};
  const ProcessResult r = run_process(
      {"/usr/bin/mpirun", "-n", "2", "--oversubscribe", LAUNCH_PROBE_BINARY, COMM_TEST_PLUGIN_DIR},
      env);
  INFO(r.output);
  TRELLIS_SKIP_CASE_IF(r.exit_code == 127 || contains(r.output, "No such file"),
                       "no /usr/bin/mpirun here");
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "rank 1 of 2"));
  CHECK(contains(r.output, "store file:/tmp/trellis-store-ompi-"));
  // The job's store directory outlives the job (docs/launching.md); a test tidies up after itself.
  const std::size_t at = r.output.find("store file:");
  fs::remove_all(r.output.substr(at + 11, r.output.find_first_of(",)", at) - at - 11));

  // With TRELLIS_STORE=tcp:..., rank 0 serves the store.
  env["TRELLIS_STORE"] = "tcp:127.0.0.1:" + free_port();
  const ProcessResult tcp =
      run_process({"/usr/bin/mpirun", "-n", "2", "--oversubscribe", "-x", "TRELLIS_STORE",
                   LAUNCH_PROBE_BINARY, COMM_TEST_PLUGIN_DIR},
                  env);
  INFO(tcp.output);
  REQUIRE(tcp.exit_code == 0);
  CHECK(contains(tcp.output, "rank 0 of 2"));
  CHECK(contains(tcp.output, ", served here)"));
}

TEST_CASE("two nodes on one machine: one world, and a failure on one node stops both") {
  const fs::path dir = trellis::test::fresh_work_dir("launch_nodes");
  const std::string port = free_port();
  auto node = [&](int rank, const std::string& command, const std::string& log) {
    return std::make_unique<Background>(
        std::vector<std::string>{TRELLIS_RUN_BINARY, "-n", "2", "--nnodes", "2", "--node-rank",
                                 std::to_string(rank), "--store", "127.0.0.1:" + port, "--timeout",
                                 "20", "--", "/bin/sh", "-c", command},
        dir / log);
  };
  SUBCASE("a world of four ranks through create_world") {
    const std::string probe = std::string(LAUNCH_PROBE_BINARY) + " " + COMM_TEST_PLUGIN_DIR;
    auto node1 = node(1, probe, "node1.log");  // before node 0: it waits for the store
    auto node0 = node(0, probe, "node0.log");
    const ProcessResult r0 = node0->finish();
    const ProcessResult r1 = node1->finish();
    INFO(r0.output);
    INFO(r1.output);
    CHECK(r0.exit_code == 0);
    CHECK(r1.exit_code == 0);
    CHECK(contains(r0.output, "serving the store at tcp:127.0.0.1:" + port + " for 2 nodes"));
    CHECK(contains(r0.output, "rank 1 of 4 (local 1 of 2, node 0"));
    CHECK(contains(r1.output, "rank 3 of 4 (local 1 of 2, node 1"));
  }
  SUBCASE("a rank failing on node 1") {
    const std::string command =
        "if [ $TRELLIS_RANK = 2 ]; then sleep 0.3; exit 6; fi; "
        "exec sleep 60";
    const auto start = Clock::now();
    auto node0 = node(0, command, "fail0.log");
    auto node1 = node(1, command, "fail1.log");
    const ProcessResult r1 = node1->finish();
    const ProcessResult r0 = node0->finish();
    INFO(r0.output);
    INFO(r1.output);
    CHECK(r1.exit_code == 6);
    CHECK(r0.exit_code == 6);
    CHECK(contains(r1.output, "rank 2 (pid "));
    CHECK(contains(r1.output, "exited with code 6; stopping the other 1 rank of this node"));
    CHECK(contains(r0.output, "exited with code 6; stopping the 2 ranks of this node"));
    CHECK(seconds_since(start) < 15.0);
  }
}

TEST_CASE("a node whose store never comes up gives up after --timeout") {
  const auto start = Clock::now();
  const ProcessResult r = trellis_run({"-n", "1", "--nnodes", "2", "--node-rank", "1", "--store",
                                       "127.0.0.1:" + free_port(), "--timeout", "1", "--", "true"});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "not reachable after"));
  CHECK(contains(r.output, "Connection refused"));
  CHECK(seconds_since(start) < 5.0);
}
