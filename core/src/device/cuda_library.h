// libtrellis_cuda: everything of Trellis that runs on a GPU (the allocators, the kernels, the
// probe), in a shared library of its own that a process loads the first time it asks for CUDA.
//
// Why not linked in: cuBLAS and the CUDA runtime cost every process that links them about a third
// of a second at start-up (their initialisers fault in some 26,000 pages), GPU or not: every
// trellis-train rank, tool and test paid it, most of a short CPU run's time. Loaded on demand, a
// CPU process never maps them.
//
// The engine calls the functions of device/cuda_device.h, device/cuda_probe.h and
// kernels/cuda_kernels.h as before; they forward to the table below, which the library exports
// through one C symbol. The library and the engine are built from one source tree and one
// compiler, so the table may carry C++ types; its version guards against a library left from
// another build.
#pragma once

#include <memory>
#include <string>

#include "device/cuda_probe.h"
#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

struct CudaLibrary {
  static constexpr int current_version = 1;
  int version = current_version;
  CudaProbe (*probe)();
  std::string (*self_test)(int device);
  std::shared_ptr<Allocator> (*make_allocator)(int device);
  std::shared_ptr<Allocator> (*make_managed_allocator)(int device);
  void (*wait_for_compute)(int device);
  std::shared_ptr<Kernels> (*make_kernels)(int device, bool bf16);
};

// The loaded library's table, loading it on the first call (thread-safe), or nullptr with
// `problem` saying why there is none: a build without CUDA, or the library could not be loaded
// (its path and the loader's message).
const CudaLibrary* cuda_library(std::string& problem);
// The same for the factories, which cannot go on without it: the table, or an Error saying why.
const CudaLibrary& loaded_cuda_library();

// The library's file name, and the name of the C function (no arguments) returning its table.
inline constexpr const char* cuda_library_file = "libtrellis_cuda.so";
inline constexpr const char* cuda_library_entry = "trellis_cuda_library";

// Inside the library: the implementations the table points to (device/*.cu, kernels/cuda/*.cu).
namespace cuda {
CudaProbe probe();
std::string self_test(int device);
std::shared_ptr<Allocator> make_allocator(int device);
std::shared_ptr<Allocator> make_managed_allocator(int device);
void wait_for_compute(int device);
std::shared_ptr<Kernels> make_kernels(int device, bool bf16);
}  // namespace cuda

}  // namespace trellis
