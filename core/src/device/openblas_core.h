// OpenBLAS's kernel sets ("cores") on x86-64 and what each needs of the CPU.
//
// A DYNAMIC_ARCH build of OpenBLAS (Debian's) holds kernels for many CPUs and picks one set when
// it is loaded: by CPU model, or the one OPENBLAS_CORETYPE names. A model it does not know (a CPU
// newer than the release) gets a generic set: OpenBLAS 0.3.21 gave a newer Xeon with AVX-512 its
// Prescott (SSE3) kernels, and sgemm ran 5x slower. This file knows the sets by the names
// OPENBLAS_CORETYPE takes and openblas_get_corename() reports, ranks them by the vector
// instructions they use, and says which one a CPU should run; openblas_core_choice.h decides what
// to run.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "device/cpu_features.h"

namespace trellis {

// The widest vector instructions a kernel set uses; a higher level is faster on a CPU that has it.
enum class KernelLevel : int { sse = 1, avx = 2, avx2 = 3, avx512 = 4 };

struct OpenBlasCore {
  std::string_view name;  // as OPENBLAS_CORETYPE takes it and openblas_get_corename() reports it
  KernelLevel level;
  // What its kernels need, for messages ("AVX2 and FMA"); `runs_on` checks it.
  std::string_view needs;
  bool (*runs_on)(const CpuFeatures&);
  // A name [device] blas_core accepts: the generic sets and those of today's CPUs. The others
  // (older Intel and VIA sets, AMD's before Zen, whose kernels use FMA4 or 3DNow! that newer CPUs
  // lack) are known so that OpenBLAS's own pick can be ranked, not offered.
  bool selectable;
};

// Every x86-64 core name OpenBLAS 0.3.21 takes in OPENBLAS_CORETYPE.
std::span<const OpenBlasCore> openblas_cores();
// The core named `name` (ignoring case, as OpenBLAS does), or nullptr.
const OpenBlasCore* find_openblas_core(std::string_view name);

// The kernel set this CPU should run: SkylakeX with AVX-512 (F, CD, BW, DQ, VL), Haswell with AVX2
// and FMA, Sandybridge with AVX; nullptr when no set above SSE fits (every SSE set is as good as
// OpenBLAS's own pick then). SkylakeX over Haswell holds on AMD's AVX-512 CPUs too (measured on
// an AMD EPYC, Zen 5: 2x the sgemm rate; docs/benchmarks.md).
const OpenBlasCore* best_openblas_core(const CpuFeatures& cpu);

}  // namespace trellis
