// The cluster description file (TOML), read and written:
//
//   [cluster]        name, nodes, devices_per_node
//   [accelerator]    kind ("gpu" | "cpu"), name, memory_gib, memory_bandwidth_gbs, train_dtype,
//                    compute_efficiency, memory_efficiency
//   [accelerator.peak_tflops]   one entry per dtype: fp32 = 19.5, bf16 = 312, ...
//   [intra_node]     bandwidth_gbs (per device), latency_us, efficiency
//   [inter_node]     bandwidth_gbs (per node), latency_us, efficiency
//
// Every problem in a file (syntax, unknown or misspelt keys, wrong types, values out of range,
// missing required keys) is reported at once, each with file:line, as an InputError: the tools
// exit 2. docs/planner.md describes each key.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "plan/cluster_spec.h"

namespace trellis::plan {

ClusterSpec read_cluster_file(const std::filesystem::path& file);
// The same from text; `file` names it in messages.
ClusterSpec parse_cluster_text(std::string_view toml_text, const std::string& file);

// The TOML form of `cluster`, readable by read_cluster_file. `header` is written first as
// comment lines (where the figures came from).
std::string cluster_to_toml(const ClusterSpec& cluster, const std::string& header);

}  // namespace trellis::plan
