// A cluster as the planner sees it: what one accelerator can do, how many there are, and the two
// kinds of link between them (inside a node, between nodes). configs/clusters/ holds examples;
// cluster_file.h reads and writes the TOML form.
//
// Units here are SI (FLOP/s, bytes, bytes/s, seconds); the file uses TFLOP/s, GiB, GB/s and us.
#pragma once

#include <map>
#include <string>

namespace trellis::plan {

// One kind of link, in the alpha-beta model: a message step costs `latency`, and a byte costs
// 1 / (bandwidth x efficiency). `bandwidth` is what the hardware is rated at (or what was
// measured, with efficiency 1); `efficiency` is the fraction a ring collective reaches.
struct LinkSpec {
  double bandwidth = 0.0;   // bytes/s, one direction
  double latency = 0.0;     // seconds per message step
  double efficiency = 1.0;  // fraction of `bandwidth` reached

  double effective_bandwidth() const noexcept { return bandwidth * efficiency; }
};

enum class AcceleratorKind : unsigned char { gpu, cpu };

// A device: a GPU, or for a CPU cluster one core (a rank with [device] threads = k uses k).
struct AcceleratorSpec {
  AcceleratorKind kind = AcceleratorKind::gpu;
  std::string name;
  std::map<std::string, double> peak_flops;  // by dtype ("fp32", "bf16", ...): FLOP/s
  double memory_bytes = 0.0;                 // per device
  double memory_bandwidth = 0.0;             // bytes/s per device
  std::string train_dtype = "fp32";          // what training runs in: "fp32" or "bf16"/"fp16"
  // Calibrated: the fraction of peak that matrix products reach, and the fraction of memory
  // bandwidth that element-wise kernels (LayerNorm, GELU, softmax, AdamW) reach.
  double compute_efficiency = 1.0;
  double memory_efficiency = 1.0;
};

struct ClusterSpec {
  std::string name;
  int nodes = 1;
  int devices_per_node = 1;
  AcceleratorSpec accelerator;
  LinkSpec intra_node;  // between two devices of a node; bandwidth per device
  LinkSpec inter_node;  // between nodes; bandwidth per node (all its network adapters together)

  int devices() const noexcept { return nodes * devices_per_node; }
  // Peak FLOP/s of one device in `dtype`; throws InputError naming the dtypes the cluster has.
  double peak_flops(const std::string& dtype) const;
  // The peak of the dtype training runs in.
  double train_peak_flops() const { return peak_flops(accelerator.train_dtype); }
};

}  // namespace trellis::plan
