// ucx_launch_ranks -n N [--timeout SECONDS] -- COMMAND [ARGS...]
//
// Starts N copies of COMMAND as the ranks of one world, the way a launcher would: each gets
// TRELLIS_RANK, TRELLIS_LOCAL_RANK, TRELLIS_WORLD_SIZE and TRELLIS_STORE=file:DIR, a FileStore
// directory made for this run and removed after it. Each rank's output goes to its own file and is
// printed, prefixed with the rank, once the rank has ended, so interleaved doctest reports stay
// readable (logs are printed when a rank failed, or always with TRELLIS_LAUNCH_VERBOSE set). Exits
// 0 when every rank exits 0; otherwise prints which ranks failed and how, and exits 1. Ranks still
// running after the timeout are killed (SIGKILL), so a hung test ends.
//
// The multi-rank tests use this until trellis-run (the launch work) is available.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Rank {
  pid_t pid = -1;
  int status = 0;
  bool ended = false;
  std::filesystem::path log;
};

[[noreturn]] void usage() {
  std::cerr << "usage: ucx_launch_ranks -n N [--timeout SECONDS] -- COMMAND [ARGS...]\n";
  std::exit(2);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void print_log(int rank, const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) std::cout << "[rank " << rank << "] " << line << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  double timeout_s = 120;
  int arg = 1;
  for (; arg < argc; ++arg) {
    const std::string a = argv[arg];
    if (a == "--") {
      ++arg;
      break;
    }
    if (a == "-n" && arg + 1 < argc) {
      n = std::atoi(argv[++arg]);
    } else if (a == "--timeout" && arg + 1 < argc) {
      timeout_s = std::atof(argv[++arg]);
    } else {
      usage();
    }
  }
  if (n < 1 || arg >= argc) usage();

  char dir_template[] = "/tmp/trellis-ranks-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = dir_template;
  const std::filesystem::path store = dir / "store";
  std::filesystem::create_directories(store);

  std::vector<Rank> ranks(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    Rank& rank = ranks[static_cast<std::size_t>(r)];
    rank.log = dir / ("rank" + std::to_string(r) + ".log");
    rank.pid = fork();
    if (rank.pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (rank.pid == 0) {
      FILE* out = std::freopen(rank.log.c_str(), "w", stdout);
      if (out == nullptr || dup2(fileno(stdout), STDERR_FILENO) < 0) _exit(127);
      setenv("TRELLIS_RANK", std::to_string(r).c_str(), 1);
      setenv("TRELLIS_LOCAL_RANK", std::to_string(r).c_str(), 1);
      setenv("TRELLIS_WORLD_SIZE", std::to_string(n).c_str(), 1);
      setenv("TRELLIS_STORE", ("file:" + store.string()).c_str(), 1);
      execvp(argv[arg], argv + arg);
      std::perror("execvp");
      _exit(127);
    }
  }

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
  int running = n;
  bool timed_out = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (Rank& rank : ranks) {
        if (rank.pid == pid) {
          rank.status = status;
          rank.ended = true;
          --running;
        }
      }
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      for (Rank& rank : ranks) {
        if (!rank.ended) kill(rank.pid, SIGKILL);
      }
      for (Rank& rank : ranks) {
        if (!rank.ended) {
          waitpid(rank.pid, &rank.status, 0);
          rank.ended = true;
        }
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  int failed = 0;
  std::ostringstream summary;
  bool all_ok = true;
  for (const Rank& rank : ranks) {
    if (!WIFEXITED(rank.status) || WEXITSTATUS(rank.status) != 0) all_ok = false;
  }
  const bool verbose = std::getenv("TRELLIS_LAUNCH_VERBOSE") != nullptr;
  for (int r = 0; r < n; ++r) {
    const Rank& rank = ranks[static_cast<std::size_t>(r)];
    const bool ok = WIFEXITED(rank.status) && WEXITSTATUS(rank.status) == 0;
    // Every rank's log when one failed: the others' view usually explains it.
    if (verbose || timed_out || !all_ok) print_log(r, rank.log);
    if (!ok) {
      ++failed;
      summary << "rank " << r << " failed: " << describe(rank.status) << "\n";
    }
  }
  std::filesystem::remove_all(dir);
  if (timed_out) std::cout << "killed the ranks still running after " << timeout_s << " s\n";
  std::cout << summary.str();
  std::cout << (n - failed) << " of " << n << " ranks passed\n";
  return failed == 0 && !timed_out ? 0 : 1;
}
