#include "launch/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "launch/signal_watch.h"
#include "trellis/error.h"

namespace trellis {

namespace {

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

UniqueFd open_pipe(UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  write_end.reset(fds[1]);
  return UniqueFd(fds[0]);
}

// In the child: reports errno to the launcher and exits.
[[noreturn]] void fail(int error_fd) {
  const int error = errno;
  [[maybe_unused]] ssize_t n = ::write(error_fd, &error, sizeof error);
  ::_exit(127);
}

// In the child, between fork and exec: async-signal-safe calls only (the launcher may have other
// threads, e.g. the store server). Reports a failure's errno on `error_fd` and exits.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, pid_t launcher, int stdout_fd,
                             int stderr_fd, int error_fd) {
  ::setpgid(0, 0);
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail(error_fd);
  if (::getppid() != launcher) ::_exit(128 + SIGTERM);  // the launcher died before the prctl
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE})
    ::sigaction(s, &default_action, nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0) fail(error_fd);
  if (stdout_fd >= 0 && ::dup2(stdout_fd, STDOUT_FILENO) < 0) fail(error_fd);
  if (stderr_fd >= 0 && ::dup2(stderr_fd, STDERR_FILENO) < 0) fail(error_fd);
  ::execve(argv[0], argv, envp);
  fail(error_fd);
}

}  // namespace

std::string find_program(const std::string& program, const ProcessEnvironment& environment) {
  if (program.empty()) throw InputError("no command to run");
  if (program.find('/') != std::string::npos) {
    if (!executable(program)) {
      throw InputError(
          "cannot run '" + program + "': " +
          (::access(program.c_str(), F_OK) == 0 ? "not an executable file" : "no such file"));
    }
    return program;
  }
  const std::string path = environment.get("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (executable(candidate)) return candidate;
  }
  throw InputError("cannot run '" + program + "': not found on PATH (" + path + ")");
}

ChildProcess start_child(const std::vector<std::string>& argv,
                         const ProcessEnvironment& environment, OutputCapture capture) {
  // Everything the child needs is built before fork(): after it, the child may not allocate.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> entries = environment.entries();
  std::vector<char*> envp;
  for (std::string& e : entries) envp.push_back(e.data());
  envp.push_back(nullptr);

  ChildProcess child;
  UniqueFd out_write, err_write, error_write;
  if (capture == OutputCapture::all) child.stdout_pipe = open_pipe(out_write);
  if (capture != OutputCapture::none) child.stderr_pipe = open_pipe(err_write);
  UniqueFd error_read = open_pipe(error_write);
  const pid_t launcher = ::getpid();
  child.pid = ::fork();
  if (child.pid < 0) throw Error(std::string("fork: ") + std::strerror(errno));
  if (child.pid == 0) {
    exec_child(args.data(), envp.data(), launcher, out_write.get(), err_write.get(),
               error_write.get());
  }
  // Also here, so a signal sent to the group right after fork() cannot miss the child.
  ::setpgid(child.pid, child.pid);
  error_write.reset();
  int error = 0;
  ssize_t n = 0;
  do {
    n = ::read(error_read.get(), &error, sizeof error);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof error)) {
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    throw Error("cannot start '" + argv[0] + "': " + std::strerror(error));
  }
  return child;
}

std::string describe_exit(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int s = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(s) + " (" + signal_name(s) + ")";
  }
  return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
}

int exit_code_of(int wait_status) {
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return WEXITSTATUS(wait_status);
}

bool exited_cleanly(int wait_status) {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

}  // namespace trellis
