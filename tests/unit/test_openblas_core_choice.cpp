// The OpenBLAS kernel choice (device/openblas_core_choice.h) as a table: the kernels OpenBLAS
// picked x the CPU's features x [device] blas_core x the environment -> the kernels the ranks
// run, the environment that gives them, and the line that says so.
#include <doctest/doctest.h>

#include <string>

#include "device/openblas_core_choice.h"
#include "trellis/error.h"

using namespace trellis;

namespace {

CpuFeatures sse_only() {
  CpuFeatures c;
  c.model = "Old Xeon";
  c.sse3 = c.ssse3 = c.sse4_1 = c.sse4_2 = true;
  return c;
}
CpuFeatures avx_only() {
  CpuFeatures c = sse_only();
  c.model = "Xeon E5 v2";
  c.avx = true;
  return c;
}
CpuFeatures avx2() {
  CpuFeatures c = avx_only();
  c.model = "Xeon E5 v4";
  c.avx2 = c.fma = true;
  return c;
}
CpuFeatures avx512() {
  CpuFeatures c = avx2();
  c.model = "Xeon Platinum 8480+";
  c.avx512f = c.avx512cd = c.avx512bw = c.avx512dq = c.avx512vl = true;
  return c;
}

// A process whose OpenBLAS picked `core` by itself (no OPENBLAS_CORETYPE).
BlasCoreState picked(const std::string& core) {
  BlasCoreState s;
  s.openblas = {core, "OpenBLAS 0.3.21", true};
  return s;
}

const BlasCoreSetting kAuto{};
const BlasCoreSetting kKeep{BlasCoreSetting::Mode::keep, ""};
BlasCoreSetting named(const std::string& name) {
  return {BlasCoreSetting::Mode::named, name};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE(
    "the CPU's best kernels: SkylakeX with AVX-512, Haswell with AVX2+FMA, Sandybridge with AVX") {
  CHECK(best_openblas_core(avx512())->name == "SkylakeX");
  CHECK(best_openblas_core(avx2())->name == "Haswell");
  CHECK(best_openblas_core(avx_only())->name == "Sandybridge");
  CHECK(best_openblas_core(sse_only()) == nullptr);
  // AVX-512 without all of Skylake-SP's subsets (a Knights Landing: F and CD) is not enough.
  CpuFeatures knl = avx2();
  knl.avx512f = knl.avx512cd = true;
  CHECK(best_openblas_core(knl)->name == "Haswell");
  // AVX2 without FMA cannot run Haswell's kernels.
  CpuFeatures no_fma = avx2();
  no_fma.fma = false;
  CHECK(best_openblas_core(no_fma)->name == "Sandybridge");
}

TEST_CASE("auto replaces a pick of a lower level than the CPU's, and only that") {
  struct Case {
    const char* picked;
    CpuFeatures cpu;
    const char* use;  // nullptr: kept
  };
  const Case cases[] = {
      {"Prescott", avx512(), "SkylakeX"},
      {"Core2", avx512(), "SkylakeX"},
      {"Nehalem", avx512(), "SkylakeX"},
      {"Barcelona", avx512(), "SkylakeX"},
      {"Sandybridge", avx512(), "SkylakeX"},
      {"Haswell", avx512(), "SkylakeX"},
      {"Zen", avx512(), "SkylakeX"},
      {"SkylakeX", avx512(), nullptr},
      {"Cooperlake", avx512(), nullptr},
      {"Prescott", avx2(), "Haswell"},
      {"Nehalem", avx2(), "Haswell"},
      {"Sandybridge", avx2(), "Haswell"},
      {"Haswell", avx2(), nullptr},
      {"Zen", avx2(), nullptr},
      {"Excavator", avx2(), nullptr},  // AMD family 15h: OpenBLAS's model-specific pick
      {"Prescott", avx_only(), "Sandybridge"},
      {"Sandybridge", avx_only(), nullptr},
      {"Prescott", sse_only(), nullptr},
      {"Nehalem", sse_only(), nullptr},
      // A name this table does not know (a newer OpenBLAS's) is never judged below the CPU.
      {"SapphireRapids", avx512(), nullptr},
  };
  for (const Case& c : cases) {
    INFO(c.picked << " on " << c.cpu.model);
    const BlasCoreChoice choice = choose_openblas_core(kAuto, picked(c.picked), c.cpu);
    if (c.use != nullptr) {
      CHECK(choice.reason == BlasCoreChoice::Reason::raised);
      CHECK(choice.use == c.use);
      CHECK(choice.replaced == c.picked);
      CHECK(choice.coretype == std::optional<std::string>(c.use));
      CHECK(choice.picked == std::optional<std::string>(c.picked));
    } else {
      CHECK(choice.reason == BlasCoreChoice::Reason::openblas);
      CHECK(choice.use == c.picked);
      CHECK_FALSE(choice.coretype);
      CHECK_FALSE(choice.picked);
    }
    // With "keep", OpenBLAS's pick stays, whatever it is.
    const BlasCoreChoice kept = choose_openblas_core(kKeep, picked(c.picked), c.cpu);
    CHECK(kept.use == c.picked);
    CHECK_FALSE(kept.coretype);
  }
}

TEST_CASE("a user's OPENBLAS_CORETYPE is respected by auto and keep, overridden by a name") {
  BlasCoreState s = picked("Prescott");
  s.coretype = "Prescott";  // no mark of Trellis's: the user's
  for (const BlasCoreSetting& setting : {kAuto, kKeep}) {
    const BlasCoreChoice c = choose_openblas_core(setting, s, avx512());
    CHECK(c.reason == BlasCoreChoice::Reason::user_environment);
    CHECK(c.use == "Prescott");
    CHECK(environment_matches(c, s));  // nothing to restart for
  }
  const std::string line =
      describe_openblas_core(choose_openblas_core(kAuto, s, avx512()), s, avx512(), kAuto);
  CHECK(contains(line, "OPENBLAS_CORETYPE=Prescott from the environment, respected"));
  CHECK(contains(line, "runs SkylakeX, faster"));

  const BlasCoreChoice c = choose_openblas_core(named("Haswell"), s, avx512());
  CHECK(c.reason == BlasCoreChoice::Reason::configured);
  CHECK(c.use == "Haswell");
  CHECK(c.replaced == "Prescott");
  CHECK(c.coretype == std::optional<std::string>("Haswell"));
  CHECK_FALSE(environment_matches(c, s));
}

TEST_CASE("the environment Trellis set reads back as the same choice: no second restart") {
  // A rank started by a launcher that chose SkylakeX over OpenBLAS's Prescott.
  BlasCoreState s = picked("SkylakeX");
  s.coretype = "SkylakeX";
  s.picked = "Prescott";
  const BlasCoreChoice c = choose_openblas_core(kAuto, s, avx512());
  CHECK(c.reason == BlasCoreChoice::Reason::raised);
  CHECK(c.replaced == "Prescott");
  CHECK(environment_matches(c, s));
  // The same rank with [device] blas_core = "keep" goes back to OpenBLAS's own pick: no
  // OPENBLAS_CORETYPE, no mark.
  const BlasCoreChoice keep = choose_openblas_core(kKeep, s, avx512());
  CHECK(keep.use == "Prescott");
  CHECK_FALSE(keep.coretype);
  CHECK_FALSE(keep.picked);
  CHECK_FALSE(environment_matches(keep, s));
  // A name the environment already gives changes nothing.
  const BlasCoreChoice same = choose_openblas_core(named("SkylakeX"), s, avx512());
  CHECK(environment_matches(same, s));
  CHECK(same.replaced == "Prescott");
  // Nor does the name of what OpenBLAS picks by itself.
  const BlasCoreState own = picked("SkylakeX");
  const BlasCoreChoice its_own = choose_openblas_core(named("SkylakeX"), own, avx512());
  CHECK(its_own.reason == BlasCoreChoice::Reason::configured);
  CHECK(its_own.replaced.empty());
  CHECK(environment_matches(its_own, own));
}

TEST_CASE("the test-only fallback: OPENBLAS_CORETYPE stands for OpenBLAS's own pick") {
  BlasCoreState s = picked("Prescott");
  s.coretype = "Prescott";
  s.test_fallback = true;
  const BlasCoreChoice c = choose_openblas_core(kAuto, s, avx2());
  CHECK(c.reason == BlasCoreChoice::Reason::raised);
  CHECK(c.use == "Haswell");
  CHECK(c.picked == std::optional<std::string>("Prescott"));
  // "keep" keeps the pretended fallback, which needs OPENBLAS_CORETYPE to stay.
  const BlasCoreChoice keep = choose_openblas_core(kKeep, s, avx2());
  CHECK(keep.use == "Prescott");
  CHECK(keep.coretype == std::optional<std::string>("Prescott"));
  CHECK(environment_matches(keep, s));
}

TEST_CASE("a name the CPU cannot run is bad input; unknown names are refused with the valid ones") {
  CHECK_THROWS_WITH_AS(choose_openblas_core(named("SkylakeX"), picked("Haswell"), avx2()),
                       doctest::Contains("needs AVX-512 (F, CD, BW, DQ, VL), which this CPU "
                                         "(Xeon E5 v4) lacks; it runs \"Prescott\""),
                       InputError);
  CHECK_THROWS_AS(choose_openblas_core(named("Cooperlake"), picked("Haswell"), avx512()),
                  InputError);  // no AVX512_BF16
  CHECK(choose_openblas_core(named("Nehalem"), picked("Haswell"), avx512()).use == "Nehalem");

  CHECK(BlasCoreSetting::parse("auto", "k").mode == BlasCoreSetting::Mode::automatic);
  CHECK(BlasCoreSetting::parse("keep", "k").mode == BlasCoreSetting::Mode::keep);
  CHECK(BlasCoreSetting::parse("SkylakeX", "k").name == "SkylakeX");
  CHECK(BlasCoreSetting::parse("Zen", "k").text() == "Zen");
  CHECK_THROWS_WITH_AS(BlasCoreSetting::parse("skylake", "[device] blas_core"),
                       doctest::Contains("[device] blas_core = \"skylake\" is not a choice; "
                                         "valid: \"auto\", \"keep\" or an OpenBLAS core: "
                                         "\"Prescott\""),
                       InputError);
  // Known to rank OpenBLAS's pick, not offered: their kernels use FMA4 or 3DNow!.
  CHECK_THROWS_AS(BlasCoreSetting::parse("Bulldozer", "k"), InputError);
  CHECK_THROWS_AS(BlasCoreSetting::parse("Opteron", "k"), InputError);
}

TEST_CASE("an OpenBLAS without DYNAMIC_ARCH has nothing to choose") {
  BlasCoreState s = picked("Prescott");
  s.openblas.dynamic_arch = false;
  const BlasCoreChoice c = choose_openblas_core(kAuto, s, avx512());
  CHECK(c.reason == BlasCoreChoice::Reason::fixed_build);
  CHECK(environment_matches(c, s));
  CHECK(contains(describe_openblas_core(c, s, avx512(), kAuto), "without DYNAMIC_ARCH"));
}

TEST_CASE("the line says what runs, what OpenBLAS picked and why, and where it was not applied") {
  const BlasCoreState before = picked("Prescott");
  const BlasCoreChoice c = choose_openblas_core(kAuto, before, avx512());
  // After the restart: SkylakeX loaded, the environment as chosen.
  BlasCoreState after = picked("SkylakeX");
  after.coretype = "SkylakeX";
  after.picked = "Prescott";
  CHECK(describe_openblas_core(c, after, avx512(), kAuto, "on all 4 ranks") ==
        "blas: OpenBLAS 0.3.21, SkylakeX kernels on all 4 ranks instead of Prescott, which "
        "OpenBLAS picked for this CPU (Xeon Platinum 8480+, AVX-512), a lower level ([device] "
        "blas_core = \"auto\"; \"keep\" keeps OpenBLAS's pick)");
  // A process that did not restart (in-process code) runs what it loaded, and says so.
  CHECK(contains(describe_openblas_core(c, before, avx512(), kAuto),
                 "Prescott kernels (not SkylakeX, which [device] blas_core = \"auto\" chooses"));
  BlasCoreState twice = before;
  twice.reexecuted = true;
  CHECK(contains(describe_openblas_core(c, twice, avx512(), kAuto),
                 "the process restarted once for it already"));
  // A build that runs other kernels under the name asked for says so.
  BlasCoreState other = after;
  other.openblas.core = "Haswell";
  CHECK(contains(describe_openblas_core(c, other, avx512(), kAuto),
                 "OpenBLAS runs Haswell for SkylakeX: this build has no SkylakeX kernels"));
  CHECK(describe_openblas_core(choose_openblas_core(kAuto, picked("SkylakeX"), avx512()),
                               picked("SkylakeX"), avx512(), kAuto) ==
        "blas: OpenBLAS 0.3.21, SkylakeX kernels (OpenBLAS's own pick for this CPU: Xeon "
        "Platinum 8480+, AVX-512)");
}

TEST_CASE("this process: a CPU with a model name, and the OpenBLAS it loaded") {
  const CpuFeatures cpu = CpuFeatures::of_this_cpu();
  CHECK_FALSE(cpu.model.empty());
  CHECK(cpu.sse3);  // every x86-64 CPU Trellis runs on
  const LoadedOpenBlas openblas = LoadedOpenBlas::of_this_process();
  CHECK(openblas.version.starts_with("OpenBLAS "));
  CHECK_FALSE(openblas.core.empty());
}
