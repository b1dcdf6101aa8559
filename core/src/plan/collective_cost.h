// The alpha-beta cost of one collective over a group of n ranks moving `bytes` (the size
// nccl-tests and trellis-bench report: the whole buffer of an all-reduce, broadcast or reduce,
// the gathered output of an all-gather, the input of a reduce-scatter, one message of a
// send/recv, the buffer each rank sends of an all-to-all):
//
//   time = alpha_steps(op, n) x latency + beta_factor(op, n) x bytes / bandwidth
//
//   op               alpha_steps        beta_factor (= nccl-tests' bus bandwidth factor)
//   all_reduce       2 ceil(log2 n)     2 (n-1) / n
//   all_gather       ceil(log2 n)       (n-1) / n
//   reduce_scatter   ceil(log2 n)       (n-1) / n
//   broadcast        ceil(log2 n)       1
//   reduce           ceil(log2 n)       1
//   send_recv        1                  1
//   all_to_all       n - 1              (n-1) / n
//
// The bandwidth term is a ring's (or a pipelined tree's): every byte crosses the slowest link
// once per factor. The latency term is a tree's or recursive doubling's: libraries switch to
// those for small messages, and a ring's 2(n-1) steps would make a 3072-rank all-reduce of a
// few bytes cost milliseconds, which none does. At n = 2 the two forms agree. An all-to-all has
// no tree: each rank exchanges a 1/n piece with each of the n - 1 others, a step each.
#pragma once

#include <string>

#include "plan/cluster_spec.h"
#include "trellis/layer_cost.h"

namespace trellis::plan {

// The kinds layer families name in their cost descriptions (trellis/layer_cost.h).
using Collective = CollectiveKind;

const char* collective_name(Collective op) noexcept;
// Parses trellis-bench's op names ("all_reduce", ..., "sendrecv", "all_to_all"); false for
// others.
bool parse_collective(const std::string& name, Collective& op);

double alpha_steps(Collective op, int n);
double beta_factor(Collective op, int n);

// Seconds for one collective; 0 for a group of one (nothing moves).
double collective_seconds(Collective op, int n, double bytes, double latency, double bandwidth);

}  // namespace trellis::plan
