// Model FLOPs and MFU, the one definition trellis-train's metrics and trellis-plan's predictions
// share.
//
// Model FLOPs, in PaLM's form: a training step does 6N + 12*L*C*T FLOPs per token (N parameters:
// forward and backward of every matrix product; plus attention's scores and weighted sums over
// the whole T x T, masked half included), whatever the implementation actually runs
// (recomputation is not counted).
//
// MFU = model FLOPs per token x tokens / seconds / peak FLOP/s of the devices that did them. The
// peak is trellis-train's MfuPeak per rank x ranks (train/mfu_peak.h), or a cluster
// description's peak x devices in trellis-plan.
#pragma once

#include <cstdint>

#include "trellis/config.h"

namespace trellis {

std::int64_t parameter_count(const ModelDims& dims);  // the model's N, padded vocabulary included
double flops_per_token(const ModelDims& dims);
// A mixture of experts counts its active parameters as N (Switch Transformer's, Megatron-LM's
// convention): in each MoE block the router and top_k experts' MLPs, not the E it holds.
// Equals flops_per_token(dims) when moe.experts is 0.
std::int64_t active_parameter_count(const ModelDims& dims, const MoeSettings& moe);
// Every parameter of a mixture of experts: E experts and a router in each MoE block.
std::int64_t parameter_count(const ModelDims& dims, const MoeSettings& moe);
double flops_per_token(const ModelDims& dims, const MoeSettings& moe);
// The same for the blocks `arch` describes ([model] arch; the overloads above count GPT-2's):
// its norms (RMSNorm has no bias), key/value heads, MLP width and kind, biases, positions and an
// untied head's own weight (padded vocabulary x hidden). An MoE block's experts are MLPs of
// arch's width and biases.
std::int64_t parameter_count(const ModelDims& dims, const MoeSettings& moe,
                             const ModelArchitecture& arch);
std::int64_t active_parameter_count(const ModelDims& dims, const MoeSettings& moe,
                                    const ModelArchitecture& arch);
double flops_per_token(const ModelDims& dims, const MoeSettings& moe,
                       const ModelArchitecture& arch);

// The fraction of `peak_flops_per_s` that `model_flops` done in `seconds` is.
double model_flops_utilization(double model_flops, double seconds, double peak_flops_per_s);

}  // namespace trellis
