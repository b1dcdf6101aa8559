#include "launch/reporting_rank.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>

#include "comm/store_spec.h"
#include "launch/child_process.h"
#include "launch/failure_report.h"
#include "launch/rank_environment.h"
#include "launch/signal_watch.h"
#include "os/host_name.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// How long a failing rank may take to reach the store with its report.
constexpr std::chrono::seconds kReportTimeout{5};

void report(const RankEnvironment& env, pid_t pid, int status, const std::string& name) {
  if (env.store.empty()) return;
  const FailureReport failure{exit_code_of(status), "rank " + std::to_string(env.rank) + " (pid " +
                                                        std::to_string(pid) + " on " + host_name() +
                                                        ") " + describe_exit(status)};
  try {
    std::unique_ptr<Store> store = connect_store(env.store, kReportTimeout);
    record_failure(*store, failure);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s; could not report it: %s\n", name.c_str(), failure.message.c_str(),
                 e.what());
  }
}

}  // namespace

int run_reporting_rank(const std::vector<std::string>& command, const std::string& name) {
  const RankEnvironment env = RankEnvironment::from_process();
  const ProcessEnvironment current = ProcessEnvironment::current();
  std::vector<std::string> argv = command;
  argv[0] = find_program(command[0], current);

  int status = 0;
  pid_t pid = -1;
  bool told_to_stop = false;
  {
    SignalWatch signals;
    // mpirun (or its daemon) gone means the job is gone: stop rather than run on unwatched.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    pid = start_child(argv, current, OutputCapture::none).pid;
    for (;;) {
      pollfd p{signals.fd(), POLLIN, 0};
      ::poll(&p, 1, 1000);  // also wakes now and then: SIGCHLDs coalesce
      for (int s : signals.take()) {
        if (s != SIGCHLD) {
          told_to_stop = true;
          ::kill(-pid, s);
        }
      }
      if (::waitpid(pid, &status, WNOHANG) == pid) break;
    }
  }
  if (exited_cleanly(status)) return 0;
  if (!told_to_stop) report(env, pid, status, name);
  if (WIFSIGNALED(status)) {
    // End as the rank did, so mpirun reports the same signal.
    const int s = WTERMSIG(status);
    ::signal(s, SIG_DFL);
    ::raise(s);
  }
  return exit_code_of(status);
}

}  // namespace trellis
