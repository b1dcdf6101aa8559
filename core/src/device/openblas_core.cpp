#include "device/openblas_core.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace trellis {

namespace {

bool sse3(const CpuFeatures& c) {
  return c.sse3;
}
bool ssse3(const CpuFeatures& c) {
  return c.ssse3;
}
bool sse4_1(const CpuFeatures& c) {
  return c.sse4_1;
}
bool sse4_2(const CpuFeatures& c) {
  return c.sse4_2;
}
bool amd3dnow(const CpuFeatures& c) {
  return c.amd3dnow;
}
bool avx(const CpuFeatures& c) {
  return c.avx;
}
bool fma4(const CpuFeatures& c) {
  return c.avx && c.fma4;
}
bool avx2_fma(const CpuFeatures& c) {
  return c.avx2 && c.fma;
}
bool avx512(const CpuFeatures& c) {
  return c.avx512_skylake();
}
bool avx512_bf16(const CpuFeatures& c) {
  return c.avx512_skylake() && c.avx512bf16;
}

using L = KernelLevel;

// OpenBLAS 0.3.21's x86-64 names (driver/others/dynamic.c); Katmai, Coppermine, Northwood, Banias
// and Athlon are 32-bit sets a 64-bit OpenBLAS replaces with Prescott, so they are left out. The
// AMD family 15h sets count as AVX2 here: OpenBLAS picks them only on those CPUs, which lack
// AVX-512, so they are never replaced. Opteron's and family 15h's kernels stop with SIGILL on a
// Zen 5 (tried), hence their needs.
constexpr std::array kCores = {
    OpenBlasCore{"Prescott", L::sse, "SSE3", sse3, true},
    OpenBlasCore{"Core2", L::sse, "SSSE3", ssse3, true},
    OpenBlasCore{"Penryn", L::sse, "SSE4.1", sse4_1, false},
    OpenBlasCore{"Dunnington", L::sse, "SSE4.1", sse4_1, false},
    OpenBlasCore{"Nehalem", L::sse, "SSE4.2", sse4_2, true},
    OpenBlasCore{"Atom", L::sse, "SSSE3", ssse3, false},
    OpenBlasCore{"Nano", L::sse, "SSSE3", ssse3, false},
    OpenBlasCore{"Opteron", L::sse, "3DNow!", amd3dnow, false},
    OpenBlasCore{"Opteron_SSE3", L::sse, "3DNow! and SSE3", amd3dnow, false},
    OpenBlasCore{"Barcelona", L::sse, "SSE3", sse3, false},
    OpenBlasCore{"Bobcat", L::sse, "SSSE3", ssse3, false},
    OpenBlasCore{"Sandybridge", L::avx, "AVX", avx, true},
    OpenBlasCore{"Bulldozer", L::avx2, "AVX and FMA4", fma4, false},
    OpenBlasCore{"Piledriver", L::avx2, "AVX and FMA4", fma4, false},
    OpenBlasCore{"Steamroller", L::avx2, "AVX and FMA4", fma4, false},
    OpenBlasCore{"Excavator", L::avx2, "AVX and FMA4", fma4, false},
    OpenBlasCore{"Haswell", L::avx2, "AVX2 and FMA", avx2_fma, true},
    OpenBlasCore{"Zen", L::avx2, "AVX2 and FMA", avx2_fma, true},
    OpenBlasCore{"SkylakeX", L::avx512, "AVX-512 (F, CD, BW, DQ, VL)", avx512, true},
    OpenBlasCore{"Cooperlake", L::avx512, "AVX-512 (F, CD, BW, DQ, VL) and AVX512_BF16",
                 avx512_bf16, true},
};

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::span<const OpenBlasCore> openblas_cores() {
  return kCores;
}

const OpenBlasCore* find_openblas_core(std::string_view name) {
  for (const OpenBlasCore& core : kCores)
    if (same_ignoring_case(core.name, name)) return &core;
  return nullptr;
}

const OpenBlasCore* best_openblas_core(const CpuFeatures& cpu) {
  if (cpu.avx512_skylake()) return find_openblas_core("SkylakeX");
  if (cpu.avx2 && cpu.fma) return find_openblas_core("Haswell");
  if (cpu.avx) return find_openblas_core("Sandybridge");
  return nullptr;
}

}  // namespace trellis
