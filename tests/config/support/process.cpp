#include "support/process.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace trellis::test {

namespace {

// Variables that decide a run's world size or plugins: a test sets them explicitly or not at all,
// so the suite means the same under srun or mpirun as on a laptop.
constexpr const char* kIsolated[] = {"TRELLIS_WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS",
                                     "TRELLIS_PLUGIN_PATH"};

std::vector<std::string> child_environment(
    const std::map<std::string, std::optional<std::string>>& changes) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const char* name : kIsolated) vars.erase(name);
  for (const auto& [name, value] : changes) {
    if (value)
      vars[name] = *value;
    else
      vars.erase(name);
  }
  std::vector<std::string> out;
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::optional<std::string>>& env,
                          const std::filesystem::path& cwd) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));

  posix_spawn_file_actions_t actions;
  check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  check(posix_spawn_file_actions_addclose(&actions, pipe_fds[0]), "addclose");
  check(posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO), "adddup2");
  check(posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO), "adddup2");
  check(posix_spawn_file_actions_addclose(&actions, pipe_fds[1]), "addclose");
  if (!cwd.empty()) check(posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str()), "addchdir");

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> environment = child_environment(env);
  std::vector<char*> envp;
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(spawned));
  }

  ProcessResult result;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n > 0)
      result.output.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ProcessResult run_trellis_train(std::vector<std::string> args,
                                std::map<std::string, std::optional<std::string>> env,
                                const std::filesystem::path& cwd) {
  args.insert(args.begin(), TRELLIS_TRAIN_BINARY);
  if (!env.count("TRELLIS_PLUGIN_PATH")) env["TRELLIS_PLUGIN_PATH"] = CONFIG_TEST_PLUGIN_DIR;
  return run_process(args, env, cwd);
}

}  // namespace trellis::test
