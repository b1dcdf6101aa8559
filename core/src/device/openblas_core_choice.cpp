#include "device/openblas_core_choice.h"

#include <unistd.h>

#include <cstdlib>

#include "text/quoted_string.h"
#include "trellis/error.h"

namespace trellis {

namespace {

// Read here rather than through RunEnvironment (config/run_environment.h): these variables say how
// OpenBLAS was loaded into this very process, not how a run is set, and they are read by
// trellis-run, the self-launch and trellis-bench as well as by ranks, at the moment they decide
// on a restart.
std::optional<std::string> env_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;  // OpenBLAS ignores "" too
  return std::string(value);
}

// The cores [device] blas_core may name, quoted and comma-separated; with `cpu`, only those that
// run on it.
std::string selectable_names(const CpuFeatures* cpu = nullptr) {
  std::string out;
  for (const OpenBlasCore& core : openblas_cores()) {
    if (!core.selectable || (cpu != nullptr && !core.runs_on(*cpu))) continue;
    out += (out.empty() ? "" : ", ") + quoted_string(core.name);
  }
  return out;
}

// The canonical spelling of a core OpenBLAS knows ("skylakex" -> "SkylakeX"); other text as is.
std::string canonical(const std::string& name) {
  const OpenBlasCore* core = find_openblas_core(name);
  return core ? std::string(core->name) : name;
}

bool below(const std::string& picked, const OpenBlasCore& best) {
  const OpenBlasCore* core = find_openblas_core(picked);
  return core != nullptr && core->level < best.level;
}

}  // namespace

BlasCoreSetting BlasCoreSetting::parse(std::string_view text, const std::string& key) {
  BlasCoreSetting s;
  if (text == "auto") return s;
  if (text == "keep") {
    s.mode = Mode::keep;
    return s;
  }
  for (const OpenBlasCore& core : openblas_cores()) {
    if (core.selectable && core.name == text) {
      s.mode = Mode::named;
      s.name = std::string(core.name);
      return s;
    }
  }
  // "[device] blas_core = \"x\"" for the config key, "--blas-core x" for a program's flag.
  const std::string given =
      key.starts_with("--") ? key + " " + std::string(text) : key + " = " + quoted_string(text);
  throw InputError(given + " is not a choice; valid: \"auto\", \"keep\" or an OpenBLAS core: " +
                   selectable_names());
}

std::string BlasCoreSetting::text() const {
  switch (mode) {
    case Mode::automatic:
      return "auto";
    case Mode::keep:
      return "keep";
    case Mode::named:
      return name;
  }
  return "auto";
}

BlasCoreState BlasCoreState::of_this_process() {
  BlasCoreState s;
  s.openblas = LoadedOpenBlas::of_this_process();
  s.coretype = env_value(openblas_env::kCoreType);
  s.picked = env_value(openblas_env::kPicked);
  s.test_fallback = env_value(openblas_env::kTestFallback) == "1";
  s.reexecuted = env_value(openblas_env::kReexec) == std::to_string(::getpid());
  return s;
}

BlasCoreChoice choose_openblas_core(const BlasCoreSetting& setting, const BlasCoreState& state,
                                    const CpuFeatures& cpu) {
  BlasCoreChoice c;
  // OPENBLAS_CORETYPE without Trellis's mark is the user's (unless a test says it stands for a
  // fallback of OpenBLAS's own).
  const bool users = state.coretype && !state.picked && !state.test_fallback;
  // What OpenBLAS picks by itself, and the environment that makes it do so again.
  std::string own = state.picked          ? *state.picked
                    : state.test_fallback ? state.coretype.value_or(state.openblas.core)
                                          : state.openblas.core;
  own = canonical(own);
  const std::optional<std::string> own_env =
      state.test_fallback && !users ? std::optional<std::string>(own) : std::nullopt;

  if (!state.openblas.dynamic_arch) {
    c.reason = BlasCoreChoice::Reason::fixed_build;
    c.use = state.openblas.core;
    c.coretype = state.coretype;
    c.picked = state.picked;
    return c;
  }
  if (setting.mode == BlasCoreSetting::Mode::named) {
    const OpenBlasCore* core = find_openblas_core(setting.name);
    if (core == nullptr) throw InputError("[device] blas_core: unknown core " + setting.name);
    if (!core->runs_on(cpu)) {
      throw InputError("[device] blas_core = " + quoted_string(core->name) + " needs " +
                       std::string(core->needs) + ", which this CPU (" + cpu.model +
                       ") lacks; it runs " + selectable_names(&cpu) + ", or \"auto\"");
    }
    c.reason = BlasCoreChoice::Reason::configured;
    c.use = std::string(core->name);
    if (state.coretype && canonical(*state.coretype) == c.use) {
      // The environment already makes it (the user's, or a launcher's): nothing to change.
      c.coretype = state.coretype;
      c.picked = state.picked;
      if (state.picked && canonical(*state.picked) != c.use) c.replaced = canonical(*state.picked);
      return c;
    }
    if (!users && own == c.use) {
      // OpenBLAS picks it by itself: the environment that lets it do so.
      c.coretype = own_env;
      return c;
    }
    c.replaced = users ? canonical(*state.coretype) : own;
    c.coretype = c.use;
    c.picked = c.replaced;
    return c;
  }
  if (users) {
    c.reason = BlasCoreChoice::Reason::user_environment;
    c.use = canonical(*state.coretype);
    c.coretype = state.coretype;
    return c;
  }
  const OpenBlasCore* best = best_openblas_core(cpu);
  if (setting.mode == BlasCoreSetting::Mode::automatic && best != nullptr && below(own, *best)) {
    c.reason = BlasCoreChoice::Reason::raised;
    c.use = std::string(best->name);
    c.replaced = own;
    c.coretype = c.use;
    c.picked = own;
    return c;
  }
  c.reason = BlasCoreChoice::Reason::openblas;
  c.use = own;
  c.coretype = own_env;
  return c;
}

OpenBlasInEffect OpenBlasInEffect::of_this_process(const BlasCoreSetting& setting) {
  OpenBlasInEffect e;
  e.setting = setting;
  e.state = BlasCoreState::of_this_process();
  e.cpu = CpuFeatures::of_this_cpu();
  e.choice = choose_openblas_core(setting, e.state, e.cpu);
  return e;
}

bool environment_matches(const BlasCoreChoice& choice, const BlasCoreState& state) {
  return choice.coretype == state.coretype && choice.picked == state.picked;
}

std::string describe_openblas_core(const BlasCoreChoice& choice, const BlasCoreState& state,
                                   const CpuFeatures& cpu, const BlasCoreSetting& setting,
                                   std::string_view where) {
  const std::string cpu_text = cpu.model + ", " + cpu.widest_level();
  const std::string setting_text = "[device] blas_core = " + quoted_string(setting.text());
  std::string line = "blas: " + state.openblas.version + ", " + state.openblas.core + " kernels";
  if (!where.empty()) {
    line += ' ';
    line += where;
  }
  if (!environment_matches(choice, state)) {
    // A process that could not restart with the choice (one that computes in-process, or one
    // that restarted once already) runs what it loaded, and says what it would have run.
    return line + " (not " + choice.use + ", which " + setting_text + " chooses on this CPU (" +
           cpu_text + "): " +
           (state.reexecuted ? "the process restarted once for it already"
                             : "OpenBLAS was loaded before the choice and the process did not "
                               "restart") +
           ")";
  }
  const OpenBlasCore* best = best_openblas_core(cpu);
  switch (choice.reason) {
    case BlasCoreChoice::Reason::fixed_build:
      line += " (this OpenBLAS is built for one CPU, without DYNAMIC_ARCH: " + setting_text +
              " cannot change its kernels)";
      break;
    case BlasCoreChoice::Reason::openblas:
      line += " (OpenBLAS's own pick for this CPU: " + cpu_text + ")";
      break;
    case BlasCoreChoice::Reason::user_environment:
      line += " (OPENBLAS_CORETYPE=" + *choice.coretype + " from the environment, respected";
      if (best != nullptr && below(choice.use, *best)) {
        line += "; this CPU (" + cpu_text + ") runs " + std::string(best->name) +
                ", faster: unset OPENBLAS_CORETYPE or set [device] blas_core = " +
                quoted_string(best->name);
      }
      line += ")";
      break;
    case BlasCoreChoice::Reason::raised:
      line += " instead of " + choice.replaced + ", which OpenBLAS picked for this CPU (" +
              cpu_text + "), a lower level (" + setting_text + "; \"keep\" keeps OpenBLAS's pick)";
      break;
    case BlasCoreChoice::Reason::configured:
      line += " (" + setting_text +
              (choice.replaced.empty() ? std::string() : "; instead of " + choice.replaced) + ")";
      break;
  }
  // A build without the kernels asked for runs others under their name's place.
  if (canonical(state.openblas.core) != choice.use &&
      choice.reason != BlasCoreChoice::Reason::fixed_build) {
    line += "; OpenBLAS runs " + state.openblas.core + " for " + choice.use +
            ": this build has no " + choice.use + " kernels";
  }
  return line;
}

}  // namespace trellis
