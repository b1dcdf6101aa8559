// The memory and kernels one rank computes with, chosen by [device].
//
//   kind = "cpu":  host memory (the caching CPU allocator) and the OpenBLAS/OpenMP kernels.
//   kind = "cuda": GPU memory and the CUDA kernels on the GPU of this rank's local rank (one GPU
//                  per rank; ranks on one node take GPUs 0, 1, ... of those the process sees),
//                  in fp32 or bf16 mixed precision ([device] precision).
//
// Everything above this line — layers, optimizer, pipeline executor, checkpoints — allocates from
// `allocator`, computes with `kernels`, and reaches values from host code only through
// kernels/host_transfer.h, so it runs unchanged on either.
//
// Test programs may wrap the device a rank opens (DeviceWrapper): the fenced test device of
// tests/support/fenced/ puts every tensor in host memory that host code cannot touch outside a
// kernel call, which proves on a machine without a GPU that nothing on the trainer's path
// dereferences tensor memory. trellis-train itself wraps nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "trellis/kernels.h"
#include "trellis/tensor.h"

namespace trellis {

struct DeviceChoice {
  DeviceKind kind = DeviceKind::cpu;
  bool bf16 = false;         // [device] precision = "bf16" (cuda only)
  int threads = 0;           // [device] threads (cpu: OpenBLAS/OpenMP threads; 0 = default)
  int local_rank = 0;        // this rank among the ranks of its node
  int local_world_size = 1;  // ranks on this node
  int world_size = 1;
};

struct ComputeDevice {
  Device device;
  std::shared_ptr<Allocator> allocator;
  std::shared_ptr<Kernels> kernels;
  std::string description;      // for the console: "cpu, 2 threads per rank", "cuda:0, fp32"
  int sgemm_probe_size = 1024;  // tokens of the MFU probe's products (device/sgemm_peak.h)
  // Returns once the kernels queued so far have run; empty where they run as they are called
  // (the CPU). Timings of device work (the trace) call it before they read the clock.
  std::function<void()> wait_for_compute;
};

// Replaces a rank's device by another made from it (a test device); empty: the device as opened.
using DeviceWrapper = std::function<ComputeDevice(const DeviceChoice&, ComputeDevice)>;

// Throws InputError (exit 2) when the device cannot be had: no GPU or driver, more ranks on this
// node than GPUs; `wrap`, when given, is applied to the device opened (and may throw too).
ComputeDevice open_compute_device(const DeviceChoice& choice, const DeviceWrapper& wrap = {});

// The GPU a rank uses: its local rank modulo the GPUs the process sees, so ranks that each see
// every GPU of the node take one apiece, and ranks given one each (srun --gpus-per-task=1) take
// the one they see. Throws InputError "<needs>, but <why no GPU works><otherwise>", or, when more
// than one GPU is visible but fewer than the node's ranks (two ranks would share one), saying so.
int cuda_device_of_rank(int local_rank, int local_world_size, const std::string& needs,
                        const std::string& otherwise = "");

}  // namespace trellis
