// Which OpenBLAS kernels the ranks of a run use, and what to tell the user about it.
//
// OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded, so a process cannot change its own
// kernels: the choice is made into an environment that a rank must start with. A launcher
// (trellis-run, trellis-train launching itself) puts it into the ranks' environment; a process
// started some other way (mpirun, srun, a shell) re-executes itself once with it
// (launch/openblas_reexec.h). The decision is a pure function of the setting, what the process
// found (its OpenBLAS, its environment) and the CPU, so every rank and launcher reaches the same.
//
// [device] blas_core:
//   "auto" (default)  a user's OPENBLAS_CORETYPE is respected; otherwise, where OpenBLAS picked
//                     kernels of a lower level than the CPU runs (a generic set for a model it
//                     does not know), the CPU's best set (best_openblas_core) replaces them.
//   "keep"            OpenBLAS's own pick (or the user's OPENBLAS_CORETYPE).
//   NAME              that set (one a CPU of today runs; checked against this CPU), whatever
//                     the environment says.
//
// The environment variables:
//   OPENBLAS_CORETYPE              OpenBLAS's own. Set without TRELLIS_OPENBLAS_PICKED, it is the
//                                  user's choice.
//   TRELLIS_OPENBLAS_PICKED=CORE   set with OPENBLAS_CORETYPE by Trellis: OpenBLAS itself picked
//                                  CORE (for the message, and for "keep" to return to it).
//   TRELLIS_OPENBLAS_REEXEC=PID    the process PID has re-executed itself for this choice already:
//                                  it never does so again (execve keeps the pid; children do not
//                                  inherit the guard in effect).
//   TRELLIS_TEST_OPENBLAS_FALLBACK=1  test-only: OPENBLAS_CORETYPE in the environment stands for
//                                  OpenBLAS's own pick, as if it had fallen back to that set on
//                                  this CPU (how the tests make a fallback on any machine).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "device/cpu_features.h"
#include "device/loaded_openblas.h"
#include "device/openblas_core.h"

namespace trellis {

namespace openblas_env {
inline constexpr const char* kCoreType = "OPENBLAS_CORETYPE";
inline constexpr const char* kPicked = "TRELLIS_OPENBLAS_PICKED";
inline constexpr const char* kReexec = "TRELLIS_OPENBLAS_REEXEC";
inline constexpr const char* kTestFallback = "TRELLIS_TEST_OPENBLAS_FALLBACK";
}  // namespace openblas_env

// [device] blas_core.
struct BlasCoreSetting {
  enum class Mode : unsigned char { automatic, keep, named };
  Mode mode = Mode::automatic;
  std::string name;  // Mode::named: a selectable core's name

  // "auto", "keep" or a selectable core's name (exactly as openblas_cores() spells it); throws
  // InputError naming `key` and the valid values otherwise.
  static BlasCoreSetting parse(std::string_view text, const std::string& key);
  std::string text() const;  // as written in the config
};

// What a process found: its OpenBLAS and the variables above.
struct BlasCoreState {
  LoadedOpenBlas openblas;
  std::optional<std::string> coretype;  // OPENBLAS_CORETYPE
  std::optional<std::string> picked;    // TRELLIS_OPENBLAS_PICKED
  bool test_fallback = false;           // TRELLIS_TEST_OPENBLAS_FALLBACK=1
  bool reexecuted = false;              // TRELLIS_OPENBLAS_REEXEC names this process

  static BlasCoreState of_this_process();
};

// The decision: the environment a rank starts with, and why.
struct BlasCoreChoice {
  enum class Reason : unsigned char {
    openblas,          // OpenBLAS's own pick, kept (it is the CPU's level, or "keep")
    user_environment,  // OPENBLAS_CORETYPE from the user, respected
    raised,            // "auto" replaced a pick below the CPU's level
    configured,        // [device] blas_core = NAME
    fixed_build,       // an OpenBLAS without DYNAMIC_ARCH: nothing to choose
  };
  Reason reason = Reason::openblas;
  std::string use;       // the kernel set the ranks are to run
  std::string replaced;  // raised / configured: the set they would have run otherwise
  // The environment that gives it: OPENBLAS_CORETYPE and TRELLIS_OPENBLAS_PICKED (nullopt: unset).
  std::optional<std::string> coretype;
  std::optional<std::string> picked;
};

// Throws InputError when `setting` names a set this CPU cannot run.
BlasCoreChoice choose_openblas_core(const BlasCoreSetting& setting, const BlasCoreState& state,
                                    const CpuFeatures& cpu);

// Whether `state`'s environment already is the one `choice` asks for (nothing to re-execute).
bool environment_matches(const BlasCoreChoice& choice, const BlasCoreState& state);

// The one line a run prints about its kernels ("blas: ..."), from a process that computes:
// which set it runs (`where`, e.g. "on all 4 ranks", follows the name), which one OpenBLAS picked
// and why, and where the process does not run what `choice` asks for, why not.
std::string describe_openblas_core(const BlasCoreChoice& choice, const BlasCoreState& state,
                                   const CpuFeatures& cpu, const BlasCoreSetting& setting,
                                   std::string_view where = {});

// What a computing process runs, and the line that says so.
struct OpenBlasInEffect {
  BlasCoreSetting setting;
  BlasCoreState state;
  CpuFeatures cpu;
  BlasCoreChoice choice;

  // This process as it is (launch/openblas_reexec.h restarts it where needed).
  static OpenBlasInEffect of_this_process(const BlasCoreSetting& setting);
  std::string line(std::string_view where = {}) const {
    return describe_openblas_core(choice, state, cpu, setting, where);
  }
};

}  // namespace trellis
