// trellis-train whose OpenBLAS fell back to generic kernels runs the CPU's best ones in every
// rank: one rank started directly (it restarts itself), ranks trellis-train launches itself and
// ranks under trellis-run (the launcher sets OPENBLAS_CORETYPE), ranks under mpirun (each
// restarts itself). The fallback is made on any machine with the test-only
// TRELLIS_TEST_OPENBLAS_FALLBACK=1 and OPENBLAS_CORETYPE=Prescott: OpenBLAS loads its Prescott
// kernels, and Trellis takes them for OpenBLAS's own pick. The "blas:" line of rank 0 says "on
// all N ranks" only when every rank's OpenBLAS reports the same kernels (an all-reduce).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "device/openblas_core_choice.h"
#include "support/corpus.h"
#include "support/process.h"

namespace fs = std::filesystem;
using trellis::test::ProcessResult;
using trellis::test::run_process;
using trellis::test::run_trellis_train;

namespace {

using Env = std::map<std::string, std::optional<std::string>>;

const Env kFallback = {
    {"OPENBLAS_CORETYPE", "Prescott"},         {"TRELLIS_TEST_OPENBLAS_FALLBACK", "1"},
    {"TRELLIS_OPENBLAS_PICKED", std::nullopt}, {"TRELLIS_OPENBLAS_REEXEC", std::nullopt},
    {"OMPI_ALLOW_RUN_AS_ROOT", "1"},           {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}};

// The kernels "auto" must give this CPU in place of Prescott ("Prescott" itself on a CPU without
// AVX, where nothing is better).
std::string expected_kernels() {
  const trellis::OpenBlasCore* best =
      trellis::best_openblas_core(trellis::CpuFeatures::of_this_cpu());
  return best ? std::string(best->name) : "Prescott";
}

// The backend ranks talk over: ucx where it was built, else mpi; empty when neither was.
std::string backend() {
#if defined(TRELLIS_TEST_HAVE_UCX)
  return "ucx";
#elif defined(TRELLIS_TEST_HAVE_MPI)
  return "mpi";
#else
  return "";
#endif
}

// A one-step run of a tiny model; the peak is given so that no start-up probe is taken.
fs::path write_config(const std::string& name, int ranks) {
  const fs::path dir = trellis::test::empty_dir(TRELLIS_TEST_WORK_DIR, name);
  trellis::test::write_fox_corpus(dir / "corpus.txt");
  const fs::path config = dir / "run.toml";
  std::ofstream(config) << "[run]\nname = \"blas\"\nsteps = 1\nout_dir = \"out\"\n"
                        << "[launch]\nnproc = " << ranks << "\n"
                        << "[comm]\nbackend = \"" << (ranks > 1 ? backend() : "mpi") << "\"\n"
                        << "[parallel]\ndata = " << ranks << "\n"
                        << "[data]\ntrain = \"corpus.txt\"\n"
                        << "[model]\nvocab_size = 256\nseq_len = 16\nlayers = 1\nheads = 2\n"
                        << "hidden = 32\n"
                        << "[train]\nmicro_batch = 1\nglobal_batch = " << ranks << "\n"
                        << "[device]\nthreads = 1\npeak_gflops = 1e6\n"
                        << "[logging]\nprogress = false\n";
  return config;
}

// The "blas:" line of a run's output.
std::string blas_line(const ProcessResult& r) {
  const std::size_t at = r.output.find("blas: ");
  if (at == std::string::npos) return "";
  return r.output.substr(at, r.output.find('\n', at) - at);
}

// What rank 0 says when `ranks` ranks all run the expected kernels in place of Prescott.
std::string raised_on(int ranks) {
  const std::string kernels = expected_kernels();
  if (kernels == "Prescott") return "Prescott kernels";
  return kernels + " kernels" + (ranks > 1 ? " on all " + std::to_string(ranks) + " ranks" : "") +
         " instead of Prescott, which OpenBLAS picked for this CPU";
}

// Whether ranks restarted for them: none where a launcher set their environment.
bool restarted(const ProcessResult& r) {
  return blas_line(r).find("restarted for them") != std::string::npos;
}

}  // namespace

TEST_CASE("one rank started directly restarts once with the CPU's kernels, arguments kept") {
  const fs::path config = write_config("direct", 1);
  const ProcessResult r =
      run_trellis_train({config.string(), "--set", "run.name=restarted"}, kFallback);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(blas_line(r).find(raised_on(1)) != std::string::npos);
  if (expected_kernels() != "Prescott") CHECK(restarted(r));
  CHECK(r.output.find("run 'restarted'") != std::string::npos);  // argv survived the restart
  // Printed once: nothing was printed before the restart.
  CHECK(r.output.find("trellis: run") == r.output.rfind("trellis: run"));
}

TEST_CASE("ranks trellis-train launches itself start with the CPU's kernels") {
  if (backend().empty()) {
    MESSAGE("skipped: no communication backend was built");
    return;
  }
  const ProcessResult r = run_trellis_train({write_config("self_launch", 2).string()}, kFallback);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(blas_line(r).find(raised_on(2)) != std::string::npos);
  CHECK_FALSE(restarted(r));  // the launcher gave them the environment
}

TEST_CASE("ranks under trellis-run start with the CPU's kernels") {
  if (backend().empty()) {
    MESSAGE("skipped: no communication backend was built");
    return;
  }
  Env env = kFallback;
  env["TRELLIS_PLUGIN_PATH"] = CONFIG_TEST_PLUGIN_DIR;
  const ProcessResult r = run_process({TRELLIS_RUN_BINARY, "-n", "2", "--", TRELLIS_TRAIN_BINARY,
                                       write_config("trellis_run", 2).string()},
                                      env);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(blas_line(r).find(raised_on(2)) != std::string::npos);
  CHECK_FALSE(restarted(r));
  // The same environment for any program trellis-run starts.
  const ProcessResult shell =
      run_process({TRELLIS_RUN_BINARY, "-n", "1", "--", "/bin/sh", "-c",
                   "echo \"coretype=$OPENBLAS_CORETYPE picked=$TRELLIS_OPENBLAS_PICKED\""},
                  env);
  INFO(shell.output);
  CHECK(shell.exit_code == 0);
  if (expected_kernels() != "Prescott") {
    CHECK(shell.output.find("coretype=" + expected_kernels() + " picked=Prescott") !=
          std::string::npos);
  }
}

#if defined(TRELLIS_TEST_HAVE_MPI)
TEST_CASE("every rank mpirun starts restarts itself with the CPU's kernels") {
  const fs::path config = write_config("mpirun", 2);
  const ProcessResult r =
      run_process({TRELLIS_TEST_MPIRUN, "-n", "2", "--oversubscribe", TRELLIS_TRAIN_BINARY,
                   config.string(), "--set", "comm.backend=mpi"},
                  kFallback);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // "on all 2 ranks": rank 1 restarted too (had it not, the ranks would differ).
  CHECK(blas_line(r).find(raised_on(2)) != std::string::npos);
  if (expected_kernels() != "Prescott") {
    CHECK(blas_line(r).find("2 of 2 ranks restarted for them") != std::string::npos);
  }
}
#endif

TEST_CASE("keep, a name, and a user's OPENBLAS_CORETYPE are what runs") {
  const fs::path config = write_config("settings", 1);
  ProcessResult r =
      run_trellis_train({config.string(), "--set", "device.blas_core=keep"}, kFallback);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(blas_line(r).find("Prescott kernels (OpenBLAS's own pick for this CPU") !=
        std::string::npos);

  r = run_trellis_train({config.string(), "--set", "device.blas_core=Nehalem"}, kFallback);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(blas_line(r).find(
            "Nehalem kernels ([device] blas_core = \"Nehalem\"; instead of Prescott)") !=
        std::string::npos);

  // Without the test variable, OPENBLAS_CORETYPE is the user's: respected, not replaced.
  Env users = kFallback;
  users.erase("TRELLIS_TEST_OPENBLAS_FALLBACK");
  users["TRELLIS_TEST_OPENBLAS_FALLBACK"] = std::nullopt;
  r = run_trellis_train({config.string()}, users);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(blas_line(r).find("Prescott kernels (OPENBLAS_CORETYPE=Prescott from the environment, "
                          "respected") != std::string::npos);

  // A name that is no choice, and (where this CPU lacks one) kernels it cannot run: exit 2.
  r = run_trellis_train({config.string(), "--set", "device.blas_core=Bulldozer"}, kFallback);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("device.blas_core") != std::string::npos);
  const trellis::CpuFeatures cpu = trellis::CpuFeatures::of_this_cpu();
  for (const trellis::OpenBlasCore& core : trellis::openblas_cores()) {
    if (!core.selectable || core.runs_on(cpu)) continue;
    r = run_trellis_train({config.string(), "--set", "device.blas_core=" + std::string(core.name)},
                          kFallback);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("which this CPU (" + cpu.model + ") lacks") != std::string::npos);
  }
}

TEST_CASE("a process restarts at most once") {
  // TRELLIS_OPENBLAS_REEXEC naming the process (the shell's pid, which exec keeps) says it has
  // restarted already: it runs what it loaded and says why.
  const fs::path config = write_config("once", 1);
  Env env = kFallback;
  env["TRELLIS_PLUGIN_PATH"] = CONFIG_TEST_PLUGIN_DIR;
  const ProcessResult r =
      run_process({"/bin/sh", "-c", "TRELLIS_OPENBLAS_REEXEC=$$ exec \"$0\" \"$1\"",
                   TRELLIS_TRAIN_BINARY, config.string()},
                  env);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  if (expected_kernels() != "Prescott") {
    CHECK(blas_line(r).find("Prescott kernels (not " + expected_kernels()) != std::string::npos);
    CHECK(blas_line(r).find("the process restarted once for it already") != std::string::npos);
    CHECK_FALSE(restarted(r));
  }
}
