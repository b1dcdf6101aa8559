// How many bytes training keeps per parameter and per activation value, by the dtype it runs in.
//
//   fp32 (Trellis on the CPU today): parameters, gradients and AdamW's two moments in f32:
//        4 + 4 + 8 = 16 bytes per parameter; activations 4 bytes.
//   bf16 (mixed precision, as Megatron-LM runs it): 16-bit parameters (2), gradients
//        accumulated and reduced in f32 (4: Megatron-LM forces this for bf16), and f32 master
//        weights plus the two moments (12): 18 bytes per parameter; activations 2 bytes.
//   fp16 (mixed precision with loss scaling, Megatron-LM's default for fp16): gradients kept
//        and reduced in fp16 (2): 16 bytes per parameter, the figure of the ZeRO paper.
//   bf16-products (Trellis's [device] precision = "bf16" on cuda): the products' operands are
//        rounded to bf16 inside the kernels; parameters, gradients, optimizer state and
//        activations stay fp32, so memory is fp32's while the products run at the bf16 peak.
//
// With the distributed optimizer (zero = 1) the optimizer's part exists for 1/data of the
// parameters. Trellis's zero = 1 also keeps a reduced-gradient shard (1/data of the gradients):
// fp32 per parameter 4 + 4 + (8 + 4)/data, i.e. (2 + 3/data) x 4 bytes (docs/checkpoints.md).
#pragma once

#include <string>

namespace trellis::plan {

struct Precision {
  std::string dtype;               // "fp32", "bf16", "fp16"
  double activation_bytes = 4;     // one activation value
  double parameter_bytes = 4;      // the parameter as the layers use it
  double gradient_bytes = 4;       // its gradient (what the data-parallel reduction moves)
  double optimizer_bytes = 8;      // optimizer state per parameter (master copy, moments)
  double sharded_extra_bytes = 4;  // zero = 1: state kept for the owned range besides that
  // Bytes the optimizer step streams per parameter it updates: AdamW reads the parameter,
  // gradient and moments and writes parameter and moments.
  double update_traffic_bytes = 28;

  // Model-state bytes per parameter on one rank, for `zero` 0 or 1 over `data` ranks.
  double state_bytes_per_parameter(int zero, int data) const;
};

// Throws InputError for a dtype it does not know.
Precision precision_for(const std::string& dtype);

// What a Trellis run's [device] says it trains in, when it runs on cuda: "fp32", or
// "bf16-products" for precision = "bf16". Its products' peak is the cluster's fp32 or bf16 one.
Precision trellis_device_precision(bool bf16);

}  // namespace trellis::plan
