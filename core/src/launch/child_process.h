// Starting a launcher's children (ranks, or mpirun) and describing how they ended.
//
// Each child gets its own process group, so the launcher can signal a rank together with anything
// the rank started (a shell's children, mpirun's ranks), and a terminal's Ctrl-C reaches the
// ranks once, through the launcher, rather than twice. Each child also asks the kernel for
// SIGTERM if the launcher's thread dies (PR_SET_PDEATHSIG), so a launcher killed with SIGKILL
// does not leave ranks running. Its stdin is /dev/null (a rank in a background process group
// reading the terminal would stop), and its signal mask and dispositions are reset to defaults
// (the launcher blocks the signals it watches).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "launch/process_environment.h"
#include "os/unique_fd.h"

namespace trellis {

struct ChildProcess {
  pid_t pid = -1;
  UniqueFd stdout_pipe;  // read ends, when output is captured
  UniqueFd stderr_pipe;
};

// Which of a child's outputs are pipes the caller reads; the others are the launcher's own.
enum class OutputCapture : unsigned char { none, stderr_only, all };

// The path of `program`: as given when it contains a '/', else the first executable match along
// PATH (from `environment`). Throws InputError saying it was not found or cannot be executed.
std::string find_program(const std::string& program, const ProcessEnvironment& environment);

// Starts `argv` (argv[0] a path, see find_program) with `environment`, its outputs captured as
// `capture` says. Throws Error when the child cannot be started (exec's errno, reported through
// a pipe).
ChildProcess start_child(const std::vector<std::string>& argv,
                         const ProcessEnvironment& environment, OutputCapture capture);

// "exited with code 3", "was killed by signal 9 (SIGKILL)", from waitpid's status.
std::string describe_exit(int wait_status);
// The exit code a launcher passes on: the child's code, or 128 + the signal that killed it.
int exit_code_of(int wait_status);
bool exited_cleanly(int wait_status);  // exited with code 0

}  // namespace trellis
