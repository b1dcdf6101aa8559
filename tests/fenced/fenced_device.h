// FencedDevice: a test device whose memory host code cannot touch.
//
// Why. On a GPU, tensor memory is device memory: host code that dereferences it (reads a loss
// from t.data<float>(), fills a buffer in a loop, writes a checkpoint straight from a tensor)
// crashes or reads garbage, so host code must stage every value through a host buffer with
// Kernels::copy. On the CPU device the same bug is invisible, because host memory is host memory,
// and machines without a GPU (CI, laptops) never see it. This device makes the bug visible there:
// its tensors live in one mmap'd arena that is kept PROT_NONE except while one of its kernels
// runs, so a host access anywhere else stops the process at once with a message and a backtrace
// of the offending code (exit code 70), instead of passing on CPU and failing on a GPU.
//
// How. The tensors report Device::cpu(), so the wrapped CPU kernels accept them and copy() moves
// between them and borrowed host memory; each kernel call opens the arena (PROT_READ|PROT_WRITE)
// for its length and closes it again, also when the call throws. A SIGSEGV handler recognises
// faults inside a fenced arena; every other fault goes on to the handler installed before it (or
// the default action), so real crashes still crash as they would have.
//
// Limits. mprotect acts on the whole process, so while any thread is inside a kernel call the
// arena is open to every thread: a host access that overlaps a call on another thread slips
// through. The handler is installed (again, when something else replaced it) by
// make_fenced_device, so a SIGSEGV handler installed later without chaining, as doctest does
// around every test case, hides the fence from devices made before it. It is a device for tests,
// not for speed: each kernel call makes two mprotect calls, whose cost grows with the arena memory
// touched so far (a few us per call for tens of MiB, 100 us for 2 GiB in transparent huge pages,
// which the arena asks for; 35 ms for 2 GiB where huge pages are disabled).
#pragma once

#include <cstddef>
#include <memory>

#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

struct FencedDevice {
  // Tensors from one protected arena of host memory; device() is Device::cpu(). 64-byte aligned
  // blocks, freed ones reused by exact (rounded) size without touching their contents.
  // reserved_bytes() is how far into the arena blocks have been handed out, device_allocations()
  // how many blocks were taken from fresh arena space. Running out of arena space throws
  // trellis::Error. The arena is unmapped when the allocator goes.
  std::shared_ptr<Allocator> allocator;
  // `inner` with the arena open for the length of every call that can touch tensor memory.
  std::shared_ptr<Kernels> kernels;
};

// `inner` must be CPU kernels (the arena is host memory). `arena_bytes` is address space reserved
// up front (MAP_NORESERVE: pages cost memory only once written), rounded up to whole pages.
FencedDevice make_fenced_device(std::shared_ptr<Kernels> inner, std::size_t arena_bytes);

}  // namespace trellis
