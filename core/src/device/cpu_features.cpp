#include "device/cpu_features.h"

#include <cpuid.h>

#include <cstring>

namespace trellis {

namespace {

// The processor brand string (CPUID leaves 0x80000002-4), without the padding some CPUs put
// around it; "x86-64 CPU" when the CPU has no brand string.
std::string brand_string() {
  unsigned int highest = __get_cpuid_max(0x80000000u, nullptr);
  if (highest < 0x80000004u) return "x86-64 CPU";
  char text[49] = {};
  for (unsigned int leaf = 0; leaf < 3; ++leaf) {
    unsigned int regs[4] = {};
    __get_cpuid(0x80000002u + leaf, &regs[0], &regs[1], &regs[2], &regs[3]);
    std::memcpy(text + 16 * leaf, regs, sizeof(regs));
  }
  std::string model(text);
  const auto first = model.find_first_not_of(' ');
  const auto last = model.find_last_not_of(' ');
  if (first == std::string::npos) return "x86-64 CPU";
  return model.substr(first, last - first + 1);
}

// 3DNow! (CPUID 0x80000001 EDX bit 31): GCC has no __builtin_cpu_supports name for it.
bool has_3dnow() {
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000001u) return false;
  __get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx);
  return (edx & (1u << 31)) != 0;
}

}  // namespace

std::string CpuFeatures::widest_level() const {
  if (avx512_skylake()) return "AVX-512";
  if (avx2 && fma) return "AVX2+FMA";
  if (avx) return "AVX";
  if (sse4_2) return "SSE4.2";
  if (sse4_1) return "SSE4.1";
  if (ssse3) return "SSSE3";
  if (sse3) return "SSE3";
  return "SSE2";
}

CpuFeatures CpuFeatures::of_this_cpu() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.model = brand_string();
  f.sse3 = __builtin_cpu_supports("sse3");
  f.ssse3 = __builtin_cpu_supports("ssse3");
  f.sse4_1 = __builtin_cpu_supports("sse4.1");
  f.sse4_2 = __builtin_cpu_supports("sse4.2");
  f.avx = __builtin_cpu_supports("avx");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.fma4 = __builtin_cpu_supports("fma4");
  f.amd3dnow = has_3dnow();
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512cd = __builtin_cpu_supports("avx512cd");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512bf16 = __builtin_cpu_supports("avx512bf16");
  return f;
}

}  // namespace trellis
