// What this x86-64 CPU can run: its model name and the instruction sets OpenBLAS's kernels are
// written for. The flags are what the CPU reports *and* the operating system enables (AVX and
// AVX-512 need the OS to save their registers), as GCC's __builtin_cpu_supports tests them.
//
// A plain struct, so the choice of BLAS kernels (openblas_core_choice.h) is a pure function of
// it and tests can describe any CPU.
#pragma once

#include <string>

namespace trellis {

struct CpuFeatures {
  std::string model;  // the brand string, e.g. "AMD EPYC 9654 96-Core Processor"
  bool sse3 = false;
  bool ssse3 = false;
  bool sse4_1 = false;
  bool sse4_2 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;       // FMA3 (Intel's and AMD's since Piledriver)
  bool fma4 = false;      // AMD family 15h only
  bool amd3dnow = false;  // 3DNow! (AMD before Bulldozer)
  bool avx512f = false;
  bool avx512cd = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512bf16 = false;

  // Skylake-SP's AVX-512 set (F, CD, BW, DQ, VL), which OpenBLAS's SkylakeX kernels use.
  bool avx512_skylake() const { return avx512f && avx512cd && avx512bw && avx512dq && avx512vl; }
  // The widest vector level, for messages: "AVX-512", "AVX2+FMA", "AVX", "SSE4.2", ...
  std::string widest_level() const;

  // This machine's CPU.
  static CpuFeatures of_this_cpu();
};

}  // namespace trellis
