#include "kernels/compute_device.h"

#include <string>

#include "device/cuda_device.h"
#include "device/cuda_probe.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cuda_kernels.h"
#include "trellis/error.h"

namespace trellis {

namespace {

ComputeDevice open_cpu(const DeviceChoice& choice) {
  ComputeDevice out;
  out.device = Device::cpu();
  out.kernels = make_cpu_kernels(choice.threads);
  const int threads = out.kernels->threads();
  out.description =
      "cpu, " + std::to_string(threads) + (threads == 1 ? " thread" : " threads") + " per rank";
  out.allocator = make_cpu_allocator();
  return out;
}

ComputeDevice open_cuda(const DeviceChoice& choice) {
  const int index =
      cuda_device_of_rank(choice.local_rank, choice.local_world_size, "[device] kind = \"cuda\"",
                          "; use kind = \"cpu\" on this machine");
  if (std::string problem = cuda_self_test(index); !problem.empty()) {
    throw InputError("[device] kind = \"cuda\": GPU " + std::to_string(index) +
                     " does not work: " + problem);
  }
  ComputeDevice out;
  out.device = Device::cuda(index);
  out.allocator = make_cuda_allocator(index);
  out.kernels = make_cuda_kernels(index, choice.bf16 ? CudaPrecision::bf16 : CudaPrecision::f32);
  out.description = out.device.str() + (choice.bf16 ? ", bf16 mixed precision" : ", fp32");
  out.wait_for_compute = [index] { wait_for_cuda_compute(index); };
  // A GPU finishes a 1024^3 product in tens of microseconds, where launch and read-back
  // latencies would dominate the measurement.
  out.sgemm_probe_size = 4096;
  return out;
}

}  // namespace

int cuda_device_of_rank(int local_rank, int local_world_size, const std::string& needs,
                        const std::string& otherwise) {
  const CudaProbe probe = probe_cuda();
  if (probe.device_count == 0) throw InputError(needs + ", but " + probe.problem + otherwise);
  if (probe.device_count > 1 && probe.device_count < local_world_size) {
    throw InputError(needs + ": " + std::to_string(local_world_size) +
                     " ranks run on this node but each sees " + std::to_string(probe.device_count) +
                     " GPUs (CUDA_VISIBLE_DEVICES limits them); each rank needs its own GPU: "
                     "start at most " +
                     std::to_string(probe.device_count) +
                     " ranks per node, or give each rank one GPU");
  }
  return local_rank % probe.device_count;
}

ComputeDevice open_compute_device(const DeviceChoice& choice, const DeviceWrapper& wrap) {
  if (choice.bf16 && choice.kind != DeviceKind::cuda) {
    throw InputError(
        "[device] precision = \"bf16\" is mixed precision on the CUDA kernels, but [device] kind "
        "is \"cpu\"; valid: precision = \"fp32\", or kind = \"cuda\"");
  }
  ComputeDevice device = choice.kind == DeviceKind::cuda ? open_cuda(choice) : open_cpu(choice);
  return wrap ? wrap(choice, std::move(device)) : device;
}

}  // namespace trellis
